//! One module per page, and the few pieces they share: links to a cluster's page, the refresh
//! ticker of live pages, and problem badges (an icon and words, never colour alone).
//!
//! # Layout
//! - `dashboard`: `/`, a tile per cluster with its servers.
//! - `cluster`:   `/cluster/:name`, the topology graph.
//! - `problems`:  `/problems`, every server with a problem, by cluster.
//! - `recoveries`: `/recoveries`, what recoveries ran (a timeline each) or were blocked.
//! - `audit`:     `/audit?page=N`, the audit log.
//! - `discover`:  `/discover`, the discover form.
//! - `search`:    `/search?q=`, servers by host, alias or cluster.
//! - `status`:    `/status`, this node.

pub mod audit;
pub mod cluster;
pub mod dashboard;
pub mod discover;
pub mod problems;
pub mod recoveries;
pub mod search;
pub mod status;

use crate::api::list_clusters;
use crate::model::ClusterOverview;
use leptos::prelude::*;

/// The page of a cluster: `/cluster/<name>`, the name percent-encoded (names are `host:port`,
/// IPv6 ones have brackets).
pub fn cluster_href(cluster_name: &str) -> String {
    let mut href = String::from("/cluster/");
    for b in cluster_name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            href.push(b as char);
        } else {
            href.push_str(&format!("%{b:02X}"));
        }
    }
    href
}

/// A counter that ticks every `period` while the page is open in a browser (never on the
/// server), for resources to refetch on.
pub fn refresh_ticker(period: std::time::Duration) -> ReadSignal<u64> {
    let (tick, set_tick) = signal(0u64);
    Effect::new(move |_| {
        let handle = set_interval_with_handle(move || set_tick.update(|t| *t += 1), period);
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
    tick
}

/// Renders the node's clusters with `render`: first what the server rendered, then again on
/// every change the node streams (`live`), within a second and without polling. When the node
/// stops answering, an error line shows above the last data received, so the page never goes
/// blank under an operator.
#[component]
pub fn LiveClusters(
    render: fn(Vec<ClusterOverview>) -> AnyView,
    /// The page's stream, when the page listens to it for more than this list.
    #[prop(optional)]
    live: Option<crate::live::Live>,
) -> impl IntoView {
    let initial = Resource::new(|| (), |_| list_clusters());
    let live = live.unwrap_or_else(crate::live::use_live);
    view! {
        <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let first = match initial.await {
                    Ok(list) => StoredValue::new(list),
                    Err(e) => return view! {
                        <p class="error refresh-error" role="alert">
                            <IconSvg icon=Icon::Unreachable/>
                            {format!("Cannot read clusters from the node: {e}")}
                        </p>
                    }.into_any(),
                };
                (move || {
                    let list = live.clusters.get().unwrap_or_else(|| first.get_value());
                    view! {
                        {live.stale.get().then(|| view! {
                            <p class="error refresh-error" role="alert">
                                <IconSvg icon=Icon::Unreachable/>
                                "Cannot refresh from the node: it is not answering. Showing the last data received."
                            </p>
                        })}
                        {render(list)}
                    }
                })
                .into_any()
            })}
        </Suspense>
    }
}

/// A problem code (`not_replicating`) in words, with the icon that goes with it.
pub fn problem_words(code: &str) -> (Icon, String) {
    match code {
        "last_check_invalid" => (Icon::Unreachable, "unreachable".into()),
        "not_recently_checked" => (Icon::Clock, "not recently checked".into()),
        "not_replicating" => (Icon::Pause, "not replicating".into()),
        "replication_lag" => (Icon::Lag, "replication lag".into()),
        "errant_gtid" => (Icon::Alert, "errant GTID".into()),
        other => (Icon::Alert, other.replace('_', " ")),
    }
}

/// The small line icons pages use beside words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icon {
    Alert,
    Pause,
    Clock,
    Lag,
    Unreachable,
    Ok,
}

impl Icon {
    /// SVG path data on a 16×16 grid, drawn with the text colour.
    fn path(self) -> &'static str {
        match self {
            Icon::Alert => "M8 1.8 15 14.2H1zM8 6.2v3.6M8 11.8v.4",
            Icon::Pause => "M8 1.5a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13M6.3 5.5v5M9.7 5.5v5",
            Icon::Clock => "M8 1.5a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13M8 4.5V8l2.5 1.8",
            Icon::Lag => "M4 1.5h8M4 14.5h8M5 1.5c0 4 6 3.5 6 6.5s-6 2.5-6 6.5M11 1.5c0 4-6 3.5-6 6.5s6 2.5 6 6.5",
            Icon::Unreachable => "M8 1.5a6.5 6.5 0 1 0 0 13a6.5 6.5 0 1 0 0-13M5.6 5.6l4.8 4.8M10.4 5.6l-4.8 4.8",
            Icon::Ok => "M3 8.5l3.2 3.2L13 4.8",
        }
    }
}

#[component]
pub fn IconSvg(icon: Icon) -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
            <path d=icon.path()/>
        </svg>
    }
}

/// A problem as a badge: icon and words, the code kept for tests and styles.
#[component]
pub fn ProblemBadge(code: String, #[prop(optional)] count: Option<usize>) -> impl IntoView {
    let (icon, words) = problem_words(&code);
    let text = match count {
        Some(n) if n > 1 => format!("{words} ×{n}"),
        _ => words,
    };
    view! {
        <span class="badge problem" data-problem=code>
            <IconSvg icon/>
            {text}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_links_encode_the_name() {
        assert_eq!(cluster_href("127.0.0.1:40123"), "/cluster/127.0.0.1%3A40123");
        assert_eq!(cluster_href("[::1]:3306"), "/cluster/%5B%3A%3A1%5D%3A3306");
        assert_eq!(cluster_href("db-1.example_x"), "/cluster/db-1.example_x");
    }

    #[test]
    fn problems_read_as_words() {
        assert_eq!(problem_words("not_replicating").1, "not replicating");
        assert_eq!(problem_words("some_new_code"), (Icon::Alert, "some new code".to_string()));
    }
}
