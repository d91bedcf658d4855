//! The sandbox's clean-up after a killed owner: `orchestrator demo` killed with SIGKILL leaves
//! its servers to die with it and its directory to the next sandbox start.
//!
//! Alone in its test binary on purpose: any sandbox started meanwhile by another test of the
//! same process would remove the dead owner's directory first (that is its job), and the test
//! checks that the directory survives until its own next start.

mod common;

use common::process_gone;
use server::sandbox::{Sandbox, SandboxFlavor, SandboxOptions, Shape};
use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// The servers `orchestrator demo` started, found as its child processes: (pids, sandbox dir).
fn demo_servers(demo_pid: u32) -> (Vec<u32>, PathBuf) {
    let mut pids = Vec::new();
    let mut dir = PathBuf::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)).and_then(|p| p.parse::<u32>().ok());
        if ppid != Some(demo_pid) {
            continue;
        }
        pids.push(pid);
        let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if let Some(cnf) = cmdline.split('\0').find_map(|a| a.strip_prefix("--defaults-file=")) {
            // <sandbox dir>/<server name>/my.cnf
            dir = PathBuf::from(cnf).parent().and_then(|p| p.parent()).unwrap().to_path_buf();
        }
    }
    (pids, dir)
}

/// `orchestrator demo` killed with SIGKILL (no chance to clean up): its servers die with it, and
/// the next sandbox start removes what it left on disk.
#[tokio::test]
async fn servers_die_with_their_killed_owner_and_the_next_start_removes_its_directory() {
    Sandbox::prepare(SandboxFlavor::MariaDb).await.unwrap();
    let mut demo = std::process::Command::new(env!("CARGO_BIN_EXE_orchestrator"))
        .arg("demo")
        .env("ORCHESTRATOR_DEMO_LISTEN", "127.0.0.1:0")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let demo_pid = demo.id();
    let stderr = demo.stderr.take().unwrap();
    let ready = tokio::task::spawn_blocking(move || {
        let mut lines = std::io::BufReader::new(stderr).lines().map_while(Result::ok);
        lines.any(|l| l.starts_with("Node 1:"))
    });
    match tokio::time::timeout(Duration::from_secs(120), ready).await {
        Ok(Ok(true)) => {}
        other => {
            let _ = demo.kill();
            panic!("the demo did not come up: {other:?}");
        }
    }
    let (pids, dir) = demo_servers(demo_pid);
    assert_eq!(pids.len(), 3, "the demo runs three servers");
    assert!(dir.exists());

    demo.kill().unwrap();
    demo.wait().unwrap();
    common::wait_for(WAIT, &format!("servers {pids:?} to die with their killed owner"), || async {
        pids.iter().all(|p| process_gone(*p)).then_some(())
    })
    .await;
    assert!(dir.exists(), "nobody should have removed the dead owner's directory yet");
    let next = Sandbox::start(SandboxOptions::new(SandboxFlavor::MariaDb, 1, Shape::Standalone)).await.unwrap();
    assert!(!dir.exists(), "Sandbox::start did not remove the stale {}", dir.display());
    drop(next);
}

