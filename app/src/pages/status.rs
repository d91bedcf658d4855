//! This node: version, mode, store health, what it watches; raft membership once there is raft.

use super::{refresh_ticker, IconSvg, Icon};
use crate::api::{node_info, NodeInfo};
use crate::model::display;
use leptos::prelude::*;

/// Status changes slowly; a refresh every few seconds keeps the uptime honest.
const STATUS_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

#[component]
pub fn StatusPage() -> impl IntoView {
    let tick = refresh_ticker(STATUS_REFRESH);
    let info = Resource::new(move || tick.get(), |_| node_info());
    view! {
        <h1>"Node status"</h1>
        <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match info.await {
                    Ok(info) => view! { <NodeFacts info/> }.into_any(),
                    Err(e) => view! {
                        <p class="error refresh-error" role="alert"><IconSvg icon=Icon::Unreachable/>{format!("Cannot reach the node: {e}")}</p>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn NodeFacts(info: NodeInfo) -> impl IntoView {
    let health = if info.store_healthy {
        view! { <span class="badge ok"><IconSvg icon=Icon::Ok/>"healthy"</span> }.into_any()
    } else {
        view! { <span class="badge problem"><IconSvg icon=Icon::Unreachable/>"cannot write to its store"</span> }.into_any()
    };
    let mode = if info.read_only {
        view! { <span class="badge notice-badge"><IconSvg icon=Icon::Alert/>"read-only: refuses every change"</span> }.into_any()
    } else {
        view! { <span>"read-write"</span> }.into_any()
    };
    let raft = match info.raft {
        None => view! { <span class="muted">"not configured: this node works alone and leads itself"</span> }.into_any(),
        Some(r) => view! {
            <span>
                {if r.is_leader {
                    "leader".to_string()
                } else if r.leader.is_empty() {
                    "no leader known: writes are refused until one is elected".to_string()
                } else {
                    format!("follower of {} (changes made here are sent to it)", r.leader)
                }}
                {format!(" · peers: {}", r.peers.join(", "))}
            </span>
        }
        .into_any(),
    };
    view! {
        <section class="sheet node-status" data-healthy=info.store_healthy.to_string() data-read-only=info.read_only.to_string()>
            <dl class="facts-grid">
                <dt>"Health"</dt><dd class="health">{health}</dd>
                <dt>"Mode"</dt><dd class="mode">{mode}</dd>
                <dt>"Host"</dt><dd><code>{info.hostname}</code></dd>
                <dt>"HTTP address"</dt><dd><code>{info.http_address}</code></dd>
                <dt>"Version"</dt><dd class="version">{info.version}</dd>
                <dt>"Started"</dt>
                <dd>
                    <time datetime=info.started.to_rfc3339()>{info.started.format("%Y-%m-%d %H:%M:%S UTC").to_string()}</time>
                    {format!(" (up {})", display::duration(info.uptime_seconds))}
                </dd>
                <dt>"Store"</dt><dd><code>{info.backend}</code></dd>
                <dt>"Watching"</dt>
                <dd class="watching">{format!("{} servers in {} clusters", info.instances, info.clusters)}</dd>
                <dt>"Raft"</dt><dd class="raft">{raft}</dd>
            </dl>
        </section>
    }
}
