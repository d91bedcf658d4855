//! The `orchestrator` binary as users type it: `-c <command>` against a real node in front of
//! real MariaDB servers (output compared with orchestrator's formats), exit statuses and
//! one-line errors, the `ORCHESTRATOR_API` list, and `orchestrator http --config`.

mod common;

use common::{orchestrator_bin, replica_status, run_cli, wait_for, TestNode};
use serde_json::json;
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// One run of the binary.
struct Run {
    args: String,
    code: i32,
    out: String,
    err: String,
}

async fn cli(api: &str, args: &[&str]) -> Run {
    let (code, out, err) = run_cli(api, args).await;
    Run { args: args.join(" "), code, out, err }
}

/// The lines a successful run prints.
async fn lines(api: &str, args: &[&str]) -> Vec<String> {
    cli(api, args).await.lines()
}

impl Run {
    /// Exit 0, nothing on stderr; the lines printed.
    fn lines(&self) -> Vec<String> {
        assert_eq!(self.code, 0, "`{}` failed: {}", self.args, self.err);
        assert_eq!(self.err, "", "`{}` wrote to stderr", self.args);
        self.out.lines().map(str::to_string).collect()
    }

    /// Exit `code`, nothing on stdout, exactly one `orchestrator: ...` line on stderr that
    /// contains `needle`.
    fn fails(&self, code: i32, needle: &str) {
        let what = &self.args;
        assert_eq!(self.code, code, "`{what}`: exit status (stderr: {})", self.err);
        assert_eq!(self.out, "", "`{what}`: nothing on stdout");
        assert_eq!(self.err.lines().count(), 1, "`{what}`: one line on stderr, got {:?}", self.err);
        assert!(self.err.starts_with("orchestrator: "), "`{what}`: {:?}", self.err);
        assert!(self.err.contains(needle), "`{what}`: stderr {:?} should contain {needle:?}", self.err);
    }
}

/// A port nothing listens on: bound by the OS, then released.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn names(sb: &Sandbox) -> Vec<String> {
    (0..sb.servers().len()).map(|i| sb.key(i).to_string()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// orchestrator's description tokens for server `i`, from the server's own variables:
/// lag, status, version, ro/rw, binlog format, flags (`>>` log_slave_updates, `GTID`).
async fn description_tokens(sb: &Sandbox, i: usize) -> Vec<String> {
    let row = sb.query(i, "SELECT @@version, @@read_only, @@binlog_format, @@log_bin, @@log_slave_updates").await.unwrap().remove(0);
    let v = |n: usize| row.at(n).unwrap_or("").to_string();
    let mut flags = Vec::new();
    if v(3) == "1" && v(4) == "1" {
        flags.push(">>");
    }
    // MariaDB: only a replica that positions by GTID uses it (orchestrator's UsingMariaDBGTID).
    if replica_status(sb, i).await.is_some_and(|r| r.text(&["Using_Gtid"]) != "No") {
        flags.push("GTID");
    }
    let binlog = if v(3) == "1" { v(2) } else { "nobinlog".to_string() };
    vec!["0s".into(), "ok".into(), v(0), if v(1) == "1" { "ro" } else { "rw" }.into(), binlog, flags.join(",")]
}

/// (depth, server) depth first from server 0, siblings in key order, as the shape wires them.
fn tree_order(sb: &Sandbox, shape: Shape) -> Vec<(usize, usize)> {
    let ports: Vec<u16> = sb.servers().iter().map(|s| s.port).collect();
    let mut out = Vec::new();
    let mut stack = vec![(0usize, 0usize)];
    while let Some((depth, at)) = stack.pop() {
        out.push((depth, at));
        let mut children: Vec<usize> = (0..ports.len()).filter(|&j| shape.source_of(j, ports.len()) == Some(at)).collect();
        // Pushed highest port first, so the lowest is popped (printed) first.
        children.sort_by_key(|&j| std::cmp::Reverse(ports[j]));
        stack.extend(children.into_iter().map(|c| (depth + 1, c)));
    }
    out
}

/// orchestrator's `topology` and `topology-tabulated` lines for the sandbox, by the rules of
/// its `ASCIITopology`: two spaces per level below the first and `+ ` before a replica that
/// replicates; `topology` aligns every line's `[`; `topology-tabulated` pads every column
/// (`util.Tabulate`, lag right-aligned) and joins them with `|`.
async fn expected_topology(sb: &Sandbox, shape: Shape) -> (Vec<String>, Vec<String>) {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (depth, i) in tree_order(sb, shape) {
        let prefix = if depth == 0 { String::new() } else { format!("{}+ ", "  ".repeat(depth - 1)) };
        let mut row = vec![format!("{prefix}{}", sb.key(i))];
        row.extend(description_tokens(sb, i).await);
        rows.push(row);
    }
    let width = |c: usize| rows.iter().map(|r| r[c].len()).max().unwrap_or(0);
    let plain = rows
        .iter()
        .map(|r| {
            let shown: Vec<&str> = r[1..].iter().map(String::as_str).filter(|t| !t.is_empty()).collect();
            format!("{:<w$} [{}]", r[0], shown.join(","), w = width(0))
        })
        .collect();
    let tabulated = rows
        .iter()
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(c, cell)| if c == 1 { format!("{cell:>w$}", w = width(c)) } else { format!("{cell:<w$}", w = width(c)) })
                .collect();
            cells.join("|")
        })
        .collect();
    (plain, tabulated)
}

/// orchestrator pads the last tabulated column with trailing spaces; we print none.
fn trim_ends(lines: Vec<String>) -> Vec<String> {
    lines.into_iter().map(|l| l.trim_end().to_string()).collect()
}

async fn topology_is_orchestrators(shape: Shape, count: usize) {
    let sb = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, count, shape)).await.unwrap();
    let node = TestNode::start(json!({})).await;
    let n = names(&sb);
    let deepest = n[count - 1].as_str();
    // Discovering the last server finds the whole tree; discover prints the canonical key.
    assert_eq!(cli(&node.url, &["-c", "discover", "-i", deepest]).await.lines(), [deepest]);
    node.wait_cluster(&n[0], count).await;

    let (plain, tabulated) = expected_topology(&sb, shape).await;
    let runs = [
        vec!["-c", "topology", "-i", &n[0]],
        vec!["-c", "topology", "-i", deepest],
        vec!["-c", "topology", "--alias", &n[0]],
        // the seed README literally types `-c topolo`
        vec!["-c", "topolo", "-i", &n[1]],
        // without -i, the only cluster
        vec!["-c", "topology"],
    ];
    for args in runs {
        assert_eq!(cli(&node.url, &args).await.lines(), plain, "{args:?}");
    }
    let got = cli(&node.url, &["-c", "topology-tabulated", "-i", deepest]).await.lines();
    assert_eq!(trim_ends(got), trim_ends(tabulated));
}

#[tokio::test]
async fn topology_of_primary_with_replicas() {
    topology_is_orchestrators(Shape::PrimaryWithReplicas, 3).await;
}

#[tokio::test]
async fn topology_of_chain() {
    topology_is_orchestrators(Shape::Chain, 3).await;
}

#[tokio::test]
async fn topology_of_intermediate_primary() {
    topology_is_orchestrators(Shape::IntermediatePrimary, 4).await;
}

#[tokio::test]
async fn information_and_management_commands() {
    let sb = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 3, Shape::PrimaryWithReplicas)).await.unwrap();
    let node = TestNode::start(json!({})).await;
    let n = names(&sb);
    let api = node.url.as_str();

    assert_eq!(lines(api, &["-c", "discover", "-i", &n[1]]).await, [n[1].clone()]);
    node.wait_cluster(&n[0], 3).await;
    assert_eq!(lines(api, &["-c", "clusters"]).await, [n[0].clone()]);
    assert_eq!(lines(api, &["-c", "clusters-alias"]).await, [format!("{}\t{}", n[0], n[0])]);
    assert_eq!(sorted(lines(api, &["-c", "all-instances"]).await), sorted(n.clone()));
    for command in ["which-instance", "instance"] {
        assert_eq!(lines(api, &["-c", command, "-i", &n[2]]).await, [n[2].clone()], "{command}");
    }
    assert_eq!(lines(api, &["-c", "which-cluster", "-i", &n[2]]).await, [n[0].clone()]);
    assert_eq!(lines(api, &["-c", "which-cluster-master", "-i", &n[1]]).await, [n[0].clone()]);
    let members = lines(api, &["-c", "which-cluster-instances", "-i", &n[2]]).await;
    assert_eq!((members[0].clone(), sorted(members)), (n[0].clone(), sorted(n.clone())), "primary first");
    assert_eq!(lines(api, &["-c", "which-master", "-i", &n[1]]).await, [n[0].clone()]);
    assert!(lines(api, &["-c", "which-master", "-i", &n[0]]).await.is_empty(), "a primary has no source");
    for command in ["which-replicas", "which-slaves"] {
        assert_eq!(sorted(lines(api, &["-c", command, "-i", &n[0]]).await), sorted(n[1..].to_vec()), "{command}");
        assert!(lines(api, &["-c", command, "-i", &n[2]]).await.is_empty(), "{command}");
    }
    let port2 = sb.key(2).port.to_string();
    assert_eq!(lines(api, &["-c", "search", "-i", &port2]).await, [n[2].clone()]);
    assert_eq!(sorted(lines(api, &["-c", "search", "-i", "MariaDB"]).await), sorted(n.clone()));

    // An alias, set through any member, then used in place of the cluster.
    assert_eq!(lines(api, &["-c", "set-cluster-alias", "-i", &n[1], "--alias", "main"]).await, [format!("{}\tmain", n[0])]);
    assert_eq!(lines(api, &["-c", "clusters-alias"]).await, [format!("{}\tmain", n[0])]);
    assert_eq!(lines(api, &["-c", "which-cluster", "--alias", "main"]).await, [n[0].clone()]);
    assert_eq!(lines(api, &["-c", "which-cluster-alias", "-i", &n[2]]).await, ["main"]);
    assert_eq!(lines(api, &["-c", "which-cluster-master", "--alias", "main"]).await, [n[0].clone()]);
    assert_eq!(lines(api, &["-c", "topology", "--alias", "main"]).await.len(), 3);

    assert_eq!(lines(api, &["-c", "forget", "-i", &n[2]]).await, [n[2].clone()]);
    cli(api, &["-c", "which-instance", "-i", &n[2]]).await.fails(1, &format!("unknown instance {}", n[2]));
    let audit = lines(api, &["-c", "audit"]).await;
    let actions: Vec<&str> = audit.iter().map(|l| l.split('\t').nth(1).unwrap_or("")).collect();
    assert_eq!(actions, ["forget", "set-cluster-alias", "discover"]);
}

#[tokio::test]
async fn help_and_version_need_no_node() {
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let list = cli(&dead, &["-c", "help"]).await.lines();
    for command in ["discover", "forget", "topology", "topology-tabulated", "clusters", "which-cluster-master", "which-replicas", "search"] {
        assert!(list.iter().any(|l| l.trim_start().starts_with(&format!("{command} "))), "help lists {command}: {list:#?}");
    }
    for args in [vec!["help", "topology"], vec!["-c", "help", "topology"]] {
        let text = cli(&dead, &args).await.lines();
        assert!(text[0].starts_with("topology: "), "{args:?}: {text:?}");
        assert!(text.iter().any(|l| l.starts_with("Usage: orchestrator -c topology")), "{args:?}: {text:?}");
    }
    let legacy = cli(&dead, &["help", "which-slaves"]).await.lines();
    assert!(legacy[0].starts_with("which-replicas: "), "{legacy:?}");
    let version = env!("CARGO_PKG_VERSION");
    for args in [vec!["-c", "version"], vec!["version"]] {
        assert_eq!(cli(&dead, &args).await.lines(), [version], "{args:?}");
    }
}

#[tokio::test]
async fn errors_are_one_line_with_orchestrators_exit_statuses() {
    let node = TestNode::start(json!({})).await;
    let api = node.url.as_str();
    let nowhere = format!("127.0.0.1:{}", closed_port());
    let usage: &[(&[&str], &str)] = &[
        (&["-c", "frobnicate"], "unknown command \"frobnicate\""),
        (&["-c", "which-cluster-"], "ambiguous command"),
        (&["-c", "which-instance"], "needs -i"),
        (&["-c", "which-instance", "-i", "db:0"], "invalid port \"0\""),
        (&["-c", "which-master", "-i", "db:x"], "invalid port \"x\""),
        (&["-c", "discover", "-i", "d b"], "invalid host name"),
        (&["-c", "which-instance", "-i", "db1:3306:7"], "db1:3306:7"),
        (&["-c", "topology", "-i", "db:70000"], "invalid port \"70000\""),
        (&["-c", "set-cluster-alias", "-i", "db1"], "needs --alias"),
        (&["-c", "clusters", "--frobnicate"], "--frobnicate"),
        (&["-c", "clusters", "-x"], "-x"),
        (&["help", "frobnicate"], "unknown command"),
        (&[], "nothing to do"),
    ];
    for (args, needle) in usage {
        cli(api, args).await.fails(2, needle);
    }
    let failed: &[(&[&str], String)] = &[
        (&["-c", "which-instance", "-i", &nowhere], format!("unknown instance {nowhere}")),
        (&["-c", "which-master", "-i", &nowhere], format!("unknown instance {nowhere}")),
        (&["-c", "which-replicas", "-i", &nowhere], format!("unknown instance {nowhere}")),
        (&["-c", "forget", "-i", &nowhere], format!("unknown instance {nowhere}")),
        (&["-c", "topology", "-i", &nowhere], nowhere.clone()),
        (&["-c", "discover", "-i", &nowhere], format!("cannot connect to {nowhere}")),
        (&["-c", "topology"], "no clusters known".to_string()),
    ];
    for (args, needle) in failed {
        cli(api, args).await.fails(1, needle);
    }
    // Nothing was kept from those attempts.
    assert_eq!(cli(api, &["-c", "all-instances"]).await.lines(), Vec::<String>::new());

    let dead = format!("http://{nowhere}");
    cli(&dead, &["-c", "clusters"]).await.fails(1, &format!("cannot reach the orchestrator API at {dead}/api"));
}

#[tokio::test]
async fn several_clusters_need_a_choice() {
    let first = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 2, Shape::PrimaryWithReplicas)).await.unwrap();
    let second = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 1, Shape::Standalone)).await.unwrap();
    let node = TestNode::start(json!({})).await;
    let (a, b) = (first.key(0).to_string(), second.key(0).to_string());
    node.discover_cluster(&first.key(0), 2).await;
    node.discover_cluster(&second.key(0), 1).await;

    assert_eq!(cli(&node.url, &["-c", "clusters"]).await.lines(), sorted(vec![a.clone(), b.clone()]));
    for command in ["topology", "which-cluster-master", "which-cluster-instances"] {
        let run = cli(&node.url, &["-c", command]).await;
        run.fails(2, "several clusters are known");
        assert!(run.err.contains(&a) && run.err.contains(&b), "{command}: lists both: {}", run.err);
    }
    assert_eq!(cli(&node.url, &["-c", "topology", "-i", &b]).await.lines().len(), 1);
    assert_eq!(cli(&node.url, &["-c", "which-cluster-instances", "-i", &a]).await.lines().len(), 2);
}

#[tokio::test]
async fn api_list_skips_a_dead_node() {
    let node = TestNode::start(json!({})).await;
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let apis = format!("{dead} {}", node.url);
    assert_eq!(cli(&apis, &["-c", "which-api"]).await.lines(), [format!("{}/api", node.url)]);
    // The live node answers: an unknown instance is its 404, not "cannot reach".
    let nowhere = format!("127.0.0.1:{}", closed_port());
    cli(&apis, &["-c", "which-instance", "-i", &nowhere]).await.fails(1, &format!("unknown instance {nowhere}"));
    assert_eq!(cli(&apis, &["-c", "clusters"]).await.lines(), Vec::<String>::new());
}

/// `orchestrator http --config <file>`, killed if the test ends first.
fn spawn_http(config: &std::path::Path) -> tokio::process::Child {
    tokio::process::Command::new(orchestrator_bin())
        .arg("http")
        .arg("--config")
        .arg(config)
        .current_dir(config.parent().unwrap())
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn orchestrator http")
}

#[tokio::test]
async fn http_refuses_a_bad_config_before_listening() {
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", closed_port());
    let cases = [
        ("malformed.json", format!("{{\n  \"ListenAddress\": \"{listen}\",\n  \"Debug\": true,,\n}}\n"), ":3:", "malformed JSON"),
        ("wrong-type.json", format!("{{\n  \"ListenAddress\": \"{listen}\",\n  \"InstancePollSeconds\": \"five\"\n}}\n"), ":3:", "\"InstancePollSeconds\""),
    ];
    for (name, text, line, needle) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = tokio::time::timeout(Duration::from_secs(30), spawn_http(&path).wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{name}: `orchestrator http` started instead of refusing the configuration"))
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        // One line and nothing else: no "serving on", so it never listened.
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        let expected_start = format!("orchestrator: {}{line}", path.display());
        assert!(err.starts_with(&expected_start), "{name}: {err:?} should start with {expected_start:?}");
        assert!(err.contains(needle), "{name}: {err:?} should name {needle:?}");
    }
}

#[tokio::test]
async fn http_warns_about_an_unknown_key_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", closed_port());
    let path = dir.path().join("orchestrator.conf.json");
    let config = json!({
        "ListenAddress": listen,
        "SQLite3DataFile": dir.path().join("orchestrator.sqlite3"),
        "TotallyMadeUp": 1,
    });
    std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    let mut child = spawn_http(&path);

    let stderr = Arc::new(Mutex::new(String::new()));
    let mut pipe = child.stderr.take().unwrap();
    let sink = stderr.clone();
    let reader = tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf).await {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });

    let http = reqwest::Client::new();
    let status_url = format!("http://{listen}/api/status");
    let body: serde_json::Value = wait_for(Duration::from_secs(30), "the node to answer /api/status", || async {
        let resp = http.get(&status_url).send().await.ok()?;
        (resp.status() == 200).then_some(())?;
        resp.json().await.ok()
    })
    .await;
    assert_eq!(body["Code"], "OK", "{body}");
    assert_eq!(body["Details"]["Healthy"], true, "{body}");

    // `run_http` installs its SIGTERM handler only after printing this line (it already serves
    // before that); a SIGTERM sent earlier would kill it outright.
    let serving = format!("serving on http://{listen}");
    wait_for(Duration::from_secs(10), "the \"serving on\" line", || async { stderr.lock().unwrap().contains(&serving).then_some(()) }).await;
    let pid = child.id().expect("running") as libc::pid_t;
    // SAFETY: signalling a child this test spawned and has not reaped.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.expect("stops on SIGTERM").unwrap();
    assert_eq!(status.code(), Some(0), "clean shutdown: {status:?}");
    reader.await.unwrap();

    let err = stderr.lock().unwrap().clone();
    let warning = err.lines().find(|l| l.contains("TotallyMadeUp")).unwrap_or_else(|| panic!("no warning naming the key in {err}"));
    assert!(warning.starts_with(&format!("orchestrator: warning: {}:4:", path.display())), "{warning}");
}
