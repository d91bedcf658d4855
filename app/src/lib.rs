#![recursion_limit = "256"]
//! The web application and the model shared by browser and server.
//!
//! # Layout
//! - `model`:   instances, keys, clusters, the replication tree (pure, serializable).
//! - `rules`:   whether a topology change may happen and how (shared by server and browser).
//! - `api`:     server functions the pages call, and the trait the server implements for them.
//! - `live`:    the node's event stream, which keeps open pages current.
//! - `graph`:   the interactive topology graph (cards, layout on screen, drag to relocate).
//! - `pages`:   one module per page.
//! - `shell`:   the HTML document, the router and the page frame.

pub mod api;
pub mod graph;
pub mod live;
pub mod model;
pub mod rules;
pub mod pages;
mod shell;

pub use shell::{shell, App};
