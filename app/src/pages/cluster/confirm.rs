//! The confirmation of an operation: the server's plan (the statements per server, from a dry
//! run) is shown first; confirming runs exactly that operation, shows that it is running, then
//! its result, or its failure with what was put back.

use crate::api::run_operation;
use crate::model::ops::{Operation, OperationReport, Plan};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Where the operation stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Flow {
    Closed,
    /// Asking the server for the plan.
    Planning(Operation),
    /// The plan, waiting for the operator.
    Plan(Operation, Plan),
    /// The server refused (a rule, a busy instance) before anything ran.
    Refused(Operation, String),
    Running(Operation, Plan),
    Done(OperationReport),
    /// The run failed; the report says what ran and what was put back.
    Failed(String, Option<OperationReport>),
}

/// Starts the flow for `op`: fetches its plan.
pub fn propose(flow: RwSignal<Flow>, op: Operation) {
    flow.set(Flow::Planning(op.clone()));
    spawn_local(async move {
        let next = match run_operation(op.clone(), true).await {
            Ok(Ok(report)) => Flow::Plan(op, report.plan),
            Ok(Err(e)) => Flow::Refused(op, e.message),
            Err(e) => Flow::Refused(op, format!("the node did not answer: {e}")),
        };
        // The operator may have closed the dialog meanwhile.
        if matches!(flow.get_untracked(), Flow::Planning(_)) {
            flow.set(next);
        }
    });
}

fn run(flow: RwSignal<Flow>, op: Operation, plan: Plan) {
    flow.set(Flow::Running(op.clone(), plan));
    spawn_local(async move {
        flow.set(match run_operation(op, false).await {
            Ok(Ok(report)) => Flow::Done(report),
            Ok(Err(e)) => Flow::Failed(e.message, e.report),
            Err(e) => Flow::Failed(format!("the node did not answer: {e}; reload to see what happened"), None),
        });
    });
}

/// Operations that stop replication or change what is writable get a stronger warning.
fn is_dangerous(op: &Operation) -> bool {
    matches!(
        op,
        Operation::ResetReplica { .. }
            | Operation::SetWriteable { .. }
            | Operation::StopReplica { .. }
            | Operation::DetachReplicaMasterHost { .. }
            | Operation::SkipQuery { .. }
            | Operation::TakeMaster { .. }
            | Operation::MakeCoMaster { .. }
            | Operation::GtidErrantInjectEmpty { .. }
            | Operation::GracefulMasterTakeover { .. }
    )
}

fn title(op: &Operation) -> String {
    match op.target() {
        Some(t) => format!("{} {} → {}", op.name(), op.instance(), t),
        None => format!("{} {}", op.name(), op.instance()),
    }
}

#[component]
fn PlanSteps(plan: Plan) -> impl IntoView {
    view! {
        <p class="mechanism">{if plan.mechanism.is_empty() { String::new() } else { format!("Mechanism: {}", plan.mechanism) }}</p>
        <ol class="plan">
            {plan.steps.into_iter().map(|s| view! {
                <li data-server=s.server.to_string()>
                    <strong>{s.server.to_string()}</strong>" — "{s.description}
                    <pre>{s.statements.join(";\n")}</pre>
                </li>
            }).collect_view()}
        </ol>
    }
}

#[component]
fn ReportSteps(report: OperationReport) -> impl IntoView {
    let moved = report.moved.iter().map(|m| format!("{} now replicates from {}", m.instance, m.source)).collect::<Vec<_>>();
    view! {
        {(!moved.is_empty()).then(|| view! { <ul class="moved">{moved.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul> })}
        <ol class="plan ran">
            {report.steps.into_iter().map(|s| view! {
                <li class:failed=!s.error.is_empty()>
                    <strong>{s.server.to_string()}</strong>" — "{s.description}{format!(" ({:.0} ms)", s.duration_ms)}
                    {(!s.error.is_empty()).then(|| view! { <p class="error">{s.error.clone()}</p> })}
                </li>
            }).collect_view()}
        </ol>
        {(!report.rollback.is_empty()).then(|| view! {
            <h3>"Put back"</h3>
            <ol class="plan rollback">
                {report.rollback.into_iter().map(|s| view! { <li><strong>{s.server.to_string()}</strong>" — "{s.description}</li> }).collect_view()}
            </ol>
        })}
    }
}

/// The dialog; invisible while the flow is closed.
#[component]
pub fn ConfirmDialog(flow: RwSignal<Flow>) -> impl IntoView {
    let close = move |_| flow.set(Flow::Closed);
    move || {
        let body = match flow.get() {
            Flow::Closed => return None,
            Flow::Planning(op) => view! {
                <h2>{title(&op)}</h2>
                <p class="busy">"Asking the node for the plan…"</p>
                <div class="actions"><button type="button" on:click=close>"Cancel"</button></div>
            }
            .into_any(),
            Flow::Plan(op, plan) => {
                let danger = is_dangerous(&op);
                let (op2, plan2) = (op.clone(), plan.clone());
                view! {
                    <h2>{title(&op)}</h2>
                    <p>"The node will run these statements, in this order:"</p>
                    {danger.then(|| view! { <p class="warning">"⚠ This changes replication or writability on a live server."</p> })}
                    <PlanSteps plan/>
                    <div class="actions">
                        <button type="button" on:click=close>"Cancel"</button>
                        <button type="button" class="primary confirm" class:danger=danger
                            on:click=move |_| run(flow, op2.clone(), plan2.clone())>"Run"</button>
                    </div>
                }
                .into_any()
            }
            Flow::Refused(op, message) => view! {
                <h2>{title(&op)}</h2>
                <p class="error refused">{format!("✕ {message}")}</p>
                <p>"Nothing was changed."</p>
                <div class="actions"><button type="button" on:click=close>"Close"</button></div>
            }
            .into_any(),
            Flow::Running(op, plan) => view! {
                <h2>{title(&op)}</h2>
                <p class="busy running">"Running…"</p>
                <PlanSteps plan/>
            }
            .into_any(),
            Flow::Done(report) => view! {
                <h2>{format!("{} {}", report.plan.operation, report.plan.instance)}</h2>
                <p class="ok done">{format!("✓ Done in {:.0} ms.", report.steps.iter().map(|s| s.duration_ms).sum::<f64>())}</p>
                <ReportSteps report/>
                <div class="actions"><button type="button" class="primary" on:click=close>"Close"</button></div>
            }
            .into_any(),
            Flow::Failed(message, report) => view! {
                <h2>"Operation failed"</h2>
                <p class="error failed">{format!("⚠ {message}")}</p>
                {report.map(|report| view! { <ReportSteps report/> })}
                <div class="actions"><button type="button" on:click=close>"Close"</button></div>
            }
            .into_any(),
        };
        Some(view! {
            <div class="modal-backdrop">
                <div class="modal confirm-dialog" role="dialog" aria-modal="true"
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" && !matches!(flow.get_untracked(), Flow::Running(..)) { flow.set(Flow::Closed) }>
                    {body}
                </div>
            </div>
        })
    }
}
