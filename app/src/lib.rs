//! The web application and the model shared by browser and server.
//!
//! # Layout
//! - `model`: instances, keys, clusters, the replication tree (pure, serializable).

pub mod model;

use leptos::prelude::*;

#[component]
pub fn App() -> impl IntoView {
    view! { <p>"orchestrator"</p> }
}
