//! The interactive topology graph.
//!
//! # Layout
//! - `card`:     what one card says about its server (pure).
//! - `viewport`: pan, zoom and hit testing on the layout (pure).
//! - `view`:     the Leptos component: SVG cards and edges, drag to relocate, keyboard path.
//!
//! The layout itself is `model::layout`; the drop verdicts are `rules::drop`.

pub mod card;
pub mod view;
pub mod viewport;

pub use view::{graph_settings, Graph};
