//! The audit log, latest first, a page at a time (`/audit?page=N`, from 0).

use super::cluster_href;
use crate::api::{audit_log, AuditRow, AUDIT_PAGE_SIZE};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let page = Memo::new(move |_| query.with(|q| q.get("page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(0)));
    let rows = Resource::new(move || page.get(), audit_log);
    view! {
        <h1>"Audit"</h1>
        <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let page = page.get_untracked();
                match rows.await {
                    Err(e) => view! { <p class="error" role="alert">{format!("Cannot read the audit log: {e}")}</p> }.into_any(),
                    Ok(rows) if rows.is_empty() && page == 0 => view! { <p class="empty">"Nothing recorded yet."</p> }.into_any(),
                    Ok(rows) => {
                        let more = rows.len() >= AUDIT_PAGE_SIZE;
                        view! {
                            <AuditTable rows/>
                            <Pager page more/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditTable(rows: Vec<AuditRow>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty">"No entries on this page."</p> }.into_any();
    }
    view! {
        <div class="sheet table-scroll">
            <table class="audit">
                <thead>
                    <tr><th>"Time (UTC)"</th><th>"Action"</th><th>"Instance"</th><th>"Who"</th><th>"Message"</th></tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|r| view! { <AuditLine row=r/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn AuditLine(row: AuditRow) -> impl IntoView {
    let r = row;
    let instance = if r.instance.is_empty() { String::new() } else { r.instance.to_string() };
    let target = match (instance.is_empty(), r.cluster.is_empty()) {
        (_, true) => view! { <span>{instance.clone()}</span> }.into_any(),
        (true, false) => view! { <A href=cluster_href(&r.cluster)>{format!("cluster {}", r.cluster)}</A> }.into_any(),
        (false, false) => view! { <A href=cluster_href(&r.cluster)>{instance.clone()}</A> }.into_any(),
    };
    view! {
        <tr data-audit-id=r.id data-action=r.action.clone()>
            <td class="time"><time datetime=r.at.to_rfc3339()>{r.at.format("%Y-%m-%d %H:%M:%S").to_string()}</time></td>
            <td class="action"><code>{r.action.clone()}</code></td>
            <td class="instance">{target}</td>
            <td class="who">{r.who}</td>
            <td class="message">{r.message}</td>
        </tr>
    }
}

#[component]
fn Pager(page: u32, more: bool) -> impl IntoView {
    view! {
        <nav class="pager" aria-label="Audit pages">
            {(page > 0).then(|| view! { <A href=format!("/audit?page={}", page - 1)>"← Newer"</A> })}
            <span class="muted">{format!("Page {}", page + 1)}</span>
            {more.then(|| view! { <A href=format!("/audit?page={}", page + 1)>"Older →"</A> })}
        </nav>
    }
}
