//! `orchestrator bench graph [servers] [trials]`: lays out and renders a synthetic cluster's
//! topology graph (the same `app` code the browser runs: tidy-tree layout, cards, drop
//! verdicts, and the Leptos component rendered to HTML) and prints the times.

use app::graph::synthetic::synthetic_cluster;
use app::graph::Graph;
use app::model::layout::layout;
use app::rules::drop::{decide, Dragged, Zone};
use app::rules::RuleSettings;
use leptos::prelude::*;
use std::time::Instant;

fn stats(mut ms: Vec<f64>) -> String {
    ms.sort_by(f64::total_cmp);
    format!("median {:.2} ms (min {:.2}, max {:.2})", ms[ms.len() / 2], ms[0], ms[ms.len() - 1])
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed().as_secs_f64() * 1000.0)
}

pub fn run(args: &[&str]) -> anyhow::Result<()> {
    let servers: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(500);
    let trials: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20).max(1);
    anyhow::ensure!(servers >= 1, "bench graph needs at least one server");
    let members = synthetic_cluster(servers);
    let settings = RuleSettings::default();
    let (mut lay, mut previews, mut render) = (Vec::new(), Vec::new(), Vec::new());
    let mut html_len = 0;
    let mut drawing = (0.0, 0.0);
    for _ in 0..trials {
        let (l, ms) = timed(|| layout(&members, &app::graph::graph_settings()));
        drawing = (l.width, l.height);
        lay.push(ms);
        let dragged = Dragged::Instance(members[members.len() - 1].key.clone());
        let (_, ms) = timed(|| members.iter().map(|m| decide(&members, &dragged, &m.key, Zone::Below, &settings)).filter(|d| d.is_accepted()).count());
        previews.push(ms);
        let owner = Owner::new();
        let (html, ms) = owner.with(|| {
            let members = Signal::derive({
                let members = members.clone();
                move || members.clone()
            });
            timed(|| {
                view! {
                    <Graph members selected=RwSignal::new(None) picking=RwSignal::new(None) on_drop=Callback::new(|_| {})
                        settings=Signal::derive(RuleSettings::default) can_write=Signal::derive(|| true)/>
                }
                .to_html()
            })
        });
        html_len = html.len();
        render.push(ms);
    }
    println!("Topology graph of {servers} servers ({trials} trials, release build recommended):");
    println!("  layout (tidy tree):                       {}", stats(lay));
    println!("  drop verdicts for every card (one drag):  {}", stats(previews));
    println!("  render the graph component to HTML (SSR): {}", stats(render));
    println!("  drawing {:.0} × {:.0} units, {} KiB of markup", drawing.0, drawing.1, html_len / 1024);
    Ok(())
}
