//! Recoveries: first the failures whose recovery did not run and why (a switch, the filters,
//! downtime, or an earlier recovery's block), then every recovery with its timeline (each step
//! and hook: when it started, how long it took, what it sent) and its acknowledgement. An
//! active recovery blocks automated recoveries of its cluster until acknowledged with a
//! comment; the form is hidden on a read-only node. Refreshed whenever the node reports a change.

use super::{cluster_href, Icon, IconSvg};
use crate::api::{node_info, recoveries, AcknowledgeRecovery, HookView, RecoveryView};
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
    let acknowledge = ServerAction::<AcknowledgeRecovery>::new();
    // An acknowledgement changes the list: read it again once it is answered.
    Effect::new(move |_| {
        if acknowledge.value().get().is_some() {
            version.update(|v| *v += 1);
        }
    });
    let list = Resource::new(move || version.get(), |_| recoveries());
    let info = Resource::new(|| (), |_| node_info());
    view! {
        <h1>"Recoveries"</h1>
        <div class="outcome-slot" aria-live="polite">
            {move || acknowledge.value().get().map(|result| match result {
                Ok(Ok(n)) => view! { <p class="outcome ok"><IconSvg icon=Icon::Ok/>{format!("Acknowledged {n} recovery.")}</p> }.into_any(),
                Ok(Err(refusal)) => view! { <p class="outcome error"><IconSvg icon=Icon::Alert/>{refusal}</p> }.into_any(),
                Err(e) => view! { <p class="outcome error"><IconSvg icon=Icon::Unreachable/>{format!("The node did not answer: {e}")}</p> }.into_any(),
            })}
        </div>
        <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || Suspend::new(async move {
                // Without the node's answer, offer no actions (it may be read-only).
                let can_write = info.await.map(|i| !i.read_only).unwrap_or(false);
                match list.await {
                    Ok(v) if v.is_empty() => view! {
                        <p class="all-clear"><IconSvg icon=Icon::Ok/>"No recoveries yet."</p>
                    }.into_any(),
                    Ok(v) => v.into_iter().map(|r| view! { <Recovery r can_write acknowledge/> }).collect_view().into_any(),
                    Err(e) => view! { <p class="error">{format!("Cannot read recoveries: {e}")}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Recovery(r: RecoveryView, can_write: bool, acknowledge: ServerAction<AcknowledgeRecovery>) -> impl IntoView {
    if r.action == "blocked" {
        return view! { <Blocked r/> }.into_any();
    }
    let outcome = match r.success {
        Some(true) => "recovered",
        Some(false) => "failed",
        None => "running",
    };
    let start = r.steps.first().map(|s| s.started).or(Some(r.at));
    let what = if r.command.is_empty() { String::new() } else { format!(" ({})", r.command) };
    let title = format!("#{} {} of {}{what}", r.id, r.analysis, r.instance);
    let ack_state = if r.acknowledged {
        "acknowledged"
    } else if r.is_active {
        "active"
    } else {
        "expired"
    };
    let blocks = format!("Blocks automated recoveries of {} until acknowledged (RecoveryPeriodBlockSeconds).", r.cluster);
    view! {
        <section class="sheet recovery" id=format!("recovery-{}", r.id) data-recovery=r.id data-outcome=outcome
            data-instance=r.instance.to_string() data-ack=ack_state>
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
            {(!r.hooks.is_empty()).then(|| view! {
                <h3>"Hooks"</h3>
                <ol class="timeline hooks">
                    {r.hooks.iter().map(|h| view! { <Hook h=h.clone() start/> }).collect_view()}
                </ol>
            })}
            {(!r.warnings.is_empty()).then(|| view! { <p class="warning">{format!("Warnings: {}", r.warnings.join("; "))}</p> })}
            {(!r.error.is_empty()).then(|| view! { <p class="error">{r.error.clone()}</p> })}
            {r.acknowledged.then(|| view! { <p class="acknowledged">{format!("Acknowledged by {}", r.acknowledgement)}</p> })}
            {(r.is_active && !r.acknowledged).then(|| view! {
                <p class="notice">
                    <IconSvg icon=Icon::Alert/>
                    {blocks}
                </p>
                {can_write.then(|| view! {
                    <ActionForm action=acknowledge attr:class="ack-form">
                        <input type="hidden" name="id" value=r.id.to_string()/>
                        <label for=format!("ack-{}", r.id)>"Comment"</label>
                        <input id=format!("ack-{}", r.id) name="comment" type="text" required autocomplete="off"
                            placeholder="why it is safe to recover this cluster again"/>
                        <button type="submit">"Acknowledge"</button>
                    </ActionForm>
                })}
            })}
        </section>
    }
    .into_any()
}

#[component]
fn Hook(h: HookView, start: Option<chrono::DateTime<chrono::Utc>>) -> impl IntoView {
    let offset = match (start, h.started) {
        (Some(s), Some(t)) => format!("+{} ms", (t - s).num_milliseconds()),
        _ => String::new(),
    };
    let status = h.status.map(|s| format!(" → {s}")).unwrap_or_default();
    view! {
        <li class:failed=!h.error.is_empty()>
            <span class="at">{offset}</span>
            <strong>{h.phase.clone()}</strong>" — "<code>{h.command.clone()}</code>
            {format!("{status} ({:.0} ms)", h.duration_ms)}
            {(!h.error.is_empty()).then(|| view! { <span class="error">{format!(" {}", h.error)}</span> })}
            {(!h.output.trim().is_empty()).then(|| view! { <pre class="output">{h.output.clone()}</pre> })}
        </li>
    }
}

#[component]
fn Blocked(r: RecoveryView) -> impl IntoView {
    view! {
        <section class="sheet recovery blocked" data-outcome="not run" data-instance=r.instance.to_string()>
            <h2>
                <span class="badge problem">"not run"</span>
                {format!("{} of {}", r.analysis, r.instance)}
                " in "<A href=cluster_href(&r.cluster)>{r.cluster.clone()}</A>
                <span class="count">{format!("last {} UTC", r.at.format("%Y-%m-%d %H:%M:%S"))}</span>
            </h2>
            <p>{r.message.clone()}</p>
            {(r.blocked_by > 0).then(|| view! {
                <p><a href=format!("#recovery-{}", r.blocked_by)>{format!("See recovery #{}", r.blocked_by)}</a></p>
            })}
        </section>
    }
}
