//! The interactive topology graph.
//!
//! # Layout
//! - `card`:     what one card says about its server (pure).
//! - `viewport`: pan, zoom and hit testing on the layout (pure).
//! - `view`:     the Leptos component: SVG cards and edges, drag to relocate, keyboard path.
//! - `synthetic`: a large made-up cluster for the benchmarks (node and browser).
//! - `bench`:    the `/bench/graph` page: the graph of a synthetic cluster, timed in the browser.
//!
//! The layout itself is `model::layout`; the drop verdicts are `rules::drop`.

pub mod bench;
pub mod card;
pub mod synthetic;
pub mod view;
pub mod viewport;

pub use view::{graph_settings, Graph};
