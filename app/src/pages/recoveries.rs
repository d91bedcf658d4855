//! Recoveries the node ran (a timeline of each one's steps: when each started, how long it took,
//! what it sent), and the ones it did not run and why. Refreshed whenever the node reports a
//! change.

use super::{cluster_href, IconSvg, Icon};
use crate::api::{recoveries, RecoveryView};
use crate::live::use_live;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn RecoveriesPage() -> impl IntoView {
    let live = use_live();
    let version = RwSignal::new(0u64);
    Effect::new(move |_| {
        live.clusters.with(|_| ());
        version.update(|v| *v += 1);
    });
    let list = Resource::new(move || version.get(), |_| recoveries());
    view! {
        <h1>"Recoveries"</h1>
        <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(v) if v.is_empty() => view! {
                        <p class="all-clear"><IconSvg icon=Icon::Ok/>"No recoveries yet."</p>
                    }.into_any(),
                    Ok(v) => v.into_iter().map(|r| view! { <Recovery r/> }).collect_view().into_any(),
                    Err(e) => view! { <p class="error">{format!("Cannot read recoveries: {e}")}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Recovery(r: RecoveryView) -> impl IntoView {
    let outcome = match r.success {
        Some(true) => "recovered",
        Some(false) => "failed",
        None => "not run",
    };
    let start = r.steps.first().map(|s| s.started);
    let title = if r.analysis.is_empty() { r.action.clone() } else { format!("{} of {}", r.analysis, r.instance) };
    view! {
        <section class="sheet recovery" data-recovery=r.id data-outcome=outcome data-instance=r.instance.to_string()>
            <h2>
                <span class=format!("badge {}", if r.success == Some(true) { "ok" } else { "problem" })>{outcome}</span>
                {title}
                " in "<A href=cluster_href(&r.cluster)>{r.cluster.clone()}</A>
                <span class="count">{format!("{} UTC", r.at.format("%Y-%m-%d %H:%M:%S"))}</span>
            </h2>
            <p>{r.message.clone()}</p>
            {r.successor.clone().map(|s| view! {
                <p class="successor"><strong>{format!("Promoted {s}")}</strong>{format!(": {}", r.successor_reason)}</p>
            })}
            {(!r.lost.is_empty()).then(|| view! {
                <p class="lost">"Lost: "{r.lost.join("; ")}</p>
            })}
            {(!r.steps.is_empty()).then(|| view! {
                <ol class="timeline">
                    {r.steps.iter().map(|s| {
                        let offset = start.map(|t| (s.started - t).num_milliseconds()).unwrap_or(0);
                        view! {
                            <li class:failed=!s.error.is_empty()>
                                <span class="at">{format!("+{offset} ms")}</span>
                                <strong>{s.server.to_string()}</strong>" — "{s.description.clone()}
                                {format!(" ({:.0} ms)", s.duration_ms)}
                                {(!s.error.is_empty()).then(|| view! { <span class="error">{format!(" {}", s.error)}</span> })}
                            </li>
                        }
                    }).collect_view()}
                </ol>
            })}
            {(!r.warnings.is_empty()).then(|| view! { <p class="warning">{format!("Warnings: {}", r.warnings.join("; "))}</p> })}
            {(!r.error.is_empty()).then(|| view! { <p class="error">{r.error.clone()}</p> })}
        </section>
    }
}
