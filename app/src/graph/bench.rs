//! `/bench/graph?servers=500`: the topology graph of a synthetic cluster, timed in the browser
//! (hydration to the first frame, every card's drop verdict for one drag, and a live update of
//! every card to the next frame). The figures land in `data-*` attributes of `#bench` for
//! the benchmark driver (`cargo run -p end2end --bin bench-graph`), and on the page.

use super::synthetic::synthetic_cluster;
use super::Graph;
use crate::model::NullInt64;
use crate::rules::drop::{decide, Dragged, Zone};
use crate::rules::RuleSettings;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Largest cluster the page builds.
const MAX_SERVERS: usize = 5_000;

/// Milliseconds since the page started loading (0 on the server).
fn now() -> f64 {
    #[cfg(feature = "hydrate")]
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        return p.now();
    }
    0.0
}

#[component]
pub fn GraphBench() -> impl IntoView {
    let query = use_query_map();
    let servers = query.with_untracked(|q| q.get("servers").and_then(|s| s.parse::<usize>().ok())).unwrap_or(500).clamp(1, MAX_SERVERS);
    let members = RwSignal::new(synthetic_cluster(servers));
    let created = now();
    let hydrated = RwSignal::new(None::<(f64, f64)>);
    let verdicts = RwSignal::new(None::<f64>);
    let updated = RwSignal::new(None::<f64>);
    Effect::new(move |_| {
        request_animation_frame(move || {
            let frame = now();
            hydrated.set(Some((frame, frame - created)));
            let t0 = now();
            let last = members.with_untracked(|m| m[m.len() - 1].key.clone());
            let settings = RuleSettings::default();
            let accepted = members.with_untracked(|m| m.iter().filter(|t| decide(m, &Dragged::Instance(last.clone()), &t.key, Zone::Below, &settings).is_accepted()).count());
            std::hint::black_box(accepted);
            verdicts.set(Some(now() - t0));
        });
    });
    let update = move |_| {
        let t0 = now();
        members.update(|m| {
            for i in m.iter_mut().filter(|i| i.is_replica()) {
                let lag = i.replication_lag_seconds.get().unwrap_or(0);
                i.replication_lag_seconds = NullInt64::some(lag + 61);
            }
        });
        request_animation_frame(move || updated.set(Some(now() - t0)));
    };
    let fmt = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    view! {
        <h1>{format!("Graph benchmark: {servers} servers")}</h1>
        <p id="bench" class="bench"
            data-servers=servers
            data-load-ms=move || fmt(hydrated.get().map(|h| h.0))
            data-hydrate-ms=move || fmt(hydrated.get().map(|h| h.1))
            data-verdicts-ms=move || fmt(verdicts.get())
            data-update-ms=move || fmt(updated.get())>
            {move || match (hydrated.get(), verdicts.get()) {
                (Some((load, hydrate)), Some(v)) => format!(
                    "page start → first frame {load:.0} ms; hydration → first frame {hydrate:.0} ms; verdicts for every card {v:.1} ms{}",
                    updated.get().map(|u| format!("; update of every card → next frame {u:.0} ms")).unwrap_or_default()
                ),
                _ => "measuring…".to_string(),
            }}
        </p>
        <button type="button" class="bench-update" on:click=update>"Update every card"</button>
        <Graph members=members.into() selected=RwSignal::new(None) picking=RwSignal::new(None) on_drop=Callback::new(|_| {})
            settings=Signal::derive(RuleSettings::default) can_write=Signal::derive(|| true)/>
    }
}
