//! The discover form: probe a server by `host[:port]` and crawl its topology, as
//! `orchestrator -c discover` does. Disabled on a read-only node (which also refuses it).

use super::{cluster_href, IconSvg, Icon};
use crate::api::{node_info, DiscoverInstance, Discovered};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn DiscoverPage() -> impl IntoView {
    let node = Resource::new(|| (), |_| node_info());
    view! {
        <h1>"Discover"</h1>
        <section class="sheet form-panel">
            <p class="muted">
                "Give a server as "<code>"host:port"</code>" (or just "<code>"host"</code>
                " for the default port). The node probes it, then its source and replicas, and keeps them under watch."
            </p>
            <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    // If the node cannot say, offer the form: the node still refuses writes itself.
                    let read_only = node.await.map(|n| n.read_only).unwrap_or(false);
                    view! { <DiscoverForm read_only/> }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn DiscoverForm(read_only: bool) -> impl IntoView {
    let discover = ServerAction::<DiscoverInstance>::new();
    let pending = discover.pending();
    let outcome = discover.value();
    view! {
        {read_only.then(|| view! {
            <p class="notice" role="status">
                <IconSvg icon=Icon::Alert/>"This node is read-only (ReadOnly: true): it discovers nothing on request."
            </p>
        })}
        <ActionForm action=discover attr:class="discover-form">
            <fieldset disabled=read_only>
                <label for="host_port">"Server"</label>
                <input id="host_port" name="host_port" type="text" required autocomplete="off" spellcheck="false"
                    placeholder="db1.example.com:3306"/>
                <button type="submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Discovering…" } else { "Discover" }}
                </button>
            </fieldset>
        </ActionForm>
        <div class="outcome-slot" aria-live="polite">
            {move || outcome.get().map(|result| match result {
                Ok(Ok(found)) => view! { <Found found/> }.into_any(),
                Ok(Err(refusal)) => view! {
                    <p class="outcome error"><IconSvg icon=Icon::Unreachable/>{refusal}</p>
                }.into_any(),
                Err(e) => view! {
                    <p class="outcome error"><IconSvg icon=Icon::Unreachable/>{format!("The node did not answer: {e}")}</p>
                }.into_any(),
            })}
        </div>
    }
}

#[component]
fn Found(found: Discovered) -> impl IntoView {
    view! {
        <p class="outcome ok" data-cluster=found.cluster_name.clone()>
            <IconSvg icon=Icon::Ok/>
            {format!("Discovered {} in cluster {}. ", found.instance, found.cluster_name)}
            <A href=cluster_href(&found.cluster_name) attr:class="cluster-link">"Open the cluster"</A>
        </p>
    }
}
