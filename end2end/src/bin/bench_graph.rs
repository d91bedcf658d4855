//! `cargo run --release -p end2end --bin bench-graph [servers] [trials]`: the topology graph of a
//! synthetic cluster (500 servers by default) in headless Chromium, served by a real node:
//! page start → first frame, hydration → first frame, drop verdicts for every card, and a live
//! update of every card → next frame. Prints median, min and max. Needs `scripts/build-site.sh`.

use end2end::{open_hydrated, site_root, wait_for, Browser};
use fantoccini::{Client, Locator};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

async fn figure(client: &Client, attr: &str) -> Option<f64> {
    let el = client.find(Locator::Css("#bench")).await.ok()?;
    el.attr(attr).await.ok()??.parse().ok()
}

async fn trial(client: &Client, url: &str) -> anyhow::Result<[f64; 4]> {
    open_hydrated(client, url).await?;
    let verdicts = wait_for(Duration::from_secs(60), "the first frame's figures", || figure(client, "data-verdicts-ms")).await?;
    let load = figure(client, "data-load-ms").await.unwrap_or_default();
    let hydrate = figure(client, "data-hydrate-ms").await.unwrap_or_default();
    client.find(Locator::Css("button.bench-update")).await?.click().await?;
    let update = wait_for(Duration::from_secs(60), "the update's figure", || figure(client, "data-update-ms")).await?;
    Ok([load, hydrate, verdicts, update])
}

fn stats(mut v: Vec<f64>) -> String {
    v.sort_by(f64::total_cmp);
    format!("median {:.1} ms (min {:.1}, max {:.1})", v[v.len() / 2], v[0], v[v.len() - 1])
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let servers: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(500);
    let trials: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5).max(1);
    std::env::set_var("LEPTOS_SITE_ROOT", site_root()?);
    let dir = tempfile::tempdir()?;
    let config = serde_json::json!({ "SQLite3DataFile": dir.path().join("bench.sqlite3") });
    let config = server::config::parse(&config.to_string(), "bench")?.config;
    let node = server::start(config, server::Listeners { http: TcpListener::bind("127.0.0.1:0").await?, raft: None }, CancellationToken::new()).await?;
    let url = format!("http://{}/bench/graph?servers={servers}", node.addr);
    let outcome = Browser::run(|client| async move {
        let mut runs = Vec::new();
        for _ in 0..trials {
            runs.push(trial(&client, &url).await?);
        }
        let column = |i: usize| runs.iter().map(|r| r[i]).collect::<Vec<_>>();
        println!("Topology graph of {servers} servers in headless Chromium ({trials} trials, 1280×800):");
        println!("  page start → first frame (SSR, wasm load, hydrate): {}", stats(column(0)));
        println!("  hydration → first frame:                            {}", stats(column(1)));
        println!("  drop verdicts for every card (one drag):            {}", stats(column(2)));
        println!("  live update of every card → next frame:             {}", stats(column(3)));
        Ok(())
    })
    .await;
    node.stop().await;
    outcome
}
