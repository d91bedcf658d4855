//! The figures discovery is judged by, measured and printed (run with `--nocapture`): the time
//! from `discover` of a primary to its three-server cluster being listed, and per probe the wall
//! time, statements and round trips, from the node's own `/api/discovery-metrics` and from a
//! probe loop on a warm connection.

use super::support::{Fixture, WAIT};
use crate::common::wait_for;
use serde_json::{json, Value};
use server::mysql::probe::{ProbeConn, ProbeSettings, SiteQueries};
use server::mysql::TextConn;
use server::sandbox::{SandboxFlavor, Shape, TOPOLOGY_PASSWORD, TOPOLOGY_USER};
use std::time::{Duration, Instant};

const ALIAS_QUERY: &str = "SELECT CONCAT('mysql', @@global.server_id)";
/// Probes of each server to let the node make before reading its metrics.
const PROBES_PER_SERVER: u64 = 10;

pub async fn discovery_figures(flavor: SandboxFlavor) {
    let fx = Fixture::start_alone(flavor, 3, Shape::PrimaryWithReplicas, json!({"DetectInstanceAliasQuery": ALIAS_QUERY})).await;

    let listed = time_to_list_the_cluster(&fx).await;
    println!("{flavor}: discover of the primary -> 3-server cluster listed: {:.1} ms (target < 100 ms)", ms(listed));
    assert!(listed < Duration::from_secs(1), "listing the cluster took {listed:?}");

    let m = metrics_after(&fx, 3 + 3 * PROBES_PER_SERVER).await;
    let probes = m["Probes"].as_f64().unwrap();
    let mean = m["MeanProbeLatencyMillis"].as_f64().unwrap();
    let connects = m["Connects"].as_f64().unwrap();
    let connect_ms = m["MeanConnectMillis"].as_f64().unwrap();
    // Each server's first probe paid for opening its connection; the rest reused it.
    let reusing = (mean * probes - connects * connect_ms) / probes;
    println!(
        "{flavor}: node metrics after {probes} probes (InstancePollSeconds 1, with DetectInstanceAliasQuery): \
         {} statements in {} round trip(s) per probe; mean wall time {mean:.2} ms per probe, \
         {reusing:.2} ms without the {connects} connects ({connect_ms:.2} ms each)",
        m["StatementsPerProbe"], m["RoundTripsPerProbe"]
    );
    for i in 0..3 {
        let latency = fx.instance(i).await["LastDiscoveryLatency"].as_f64().unwrap_or(0.0) / 1e6;
        println!("{flavor}:   {} last probe {latency:.2} ms", fx.name(i));
    }
    assert_eq!(m["FailedProbes"], 0, "{m}");
    assert_eq!(m["RoundTripsPerProbe"], 1.0, "the probe and the site query share one round trip: {m}");
    assert_eq!(m["Connects"], 3, "one connection per server, kept open: {m}");

    let (median, p90) = warm_probe_loop(&fx, 0, 50).await;
    println!(
        "{flavor}: back-to-back probes of the primary on a warm connection: median {:.2} ms, p90 {:.2} ms",
        ms(median),
        ms(p90)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// From the `discover` request to `/api/cluster` listing all three servers, each probed; polled
/// every millisecond so the polling does not dominate the figure.
async fn time_to_list_the_cluster(fx: &Fixture) -> Duration {
    let started = Instant::now();
    fx.discover(0).await;
    let cluster = fx.name(0);
    loop {
        let (status, body) = fx.node.api(&format!("cluster/{cluster}")).await;
        let members = body.as_array().cloned().unwrap_or_default();
        if status == 200 && members.len() == 3 && members.iter().all(|m| m["IsLastCheckValid"] == true && m["Version"] != "") {
            return started.elapsed();
        }
        assert!(started.elapsed() < WAIT, "the cluster was not listed within {WAIT:?}: {body}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// `/api/discovery-metrics` once the node has made at least `probes` probes.
async fn metrics_after(fx: &Fixture, probes: u64) -> Value {
    wait_for(WAIT + Duration::from_secs(PROBES_PER_SERVER), &format!("{probes} probes"), || async {
        let (status, m) = fx.node.api("discovery-metrics").await;
        (status == 200 && m["Probes"].as_u64().unwrap_or(0) >= probes).then_some(m)
    })
    .await
}

/// Median and 90th percentile of `count` probes of server `i` sent one after the other on one
/// connection, with the same site query as the node.
async fn warm_probe_loop(fx: &Fixture, i: usize, count: usize) -> (Duration, Duration) {
    let conn = TextConn::connect(&fx.sb.connect_spec(i, TOPOLOGY_USER, TOPOLOGY_PASSWORD)).await.expect("connect");
    let mut conn = ProbeConn::new(conn).await.expect("dialect");
    let settings = ProbeSettings {
        default_port: 3306,
        site: SiteQueries { instance_alias: ALIAS_QUERY.into(), ..Default::default() },
        ..Default::default()
    };
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        let result = conn.probe(&fx.sb.key(i), &settings).await.expect("probe");
        times.push(started.elapsed());
        assert_eq!((result.round_trips, result.instance.instance_alias.as_str()), (1, fx.sb.server(i).name.as_str()));
    }
    conn.conn.close().await;
    times.sort();
    (times[count / 2], times[count * 9 / 10])
}
