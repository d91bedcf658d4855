//! Fence on return: an old primary that did not answer when its successor was promoted (hung,
//! partitioned, or dead) is made read-only the moment it answers again, so it never takes
//! writes next to its successor. The list lives in the store (`pending_fence`), so a restarted
//! node keeps watching. Each pending server gets its own attempt loop: a hung server's connect
//! timeout never delays the others, and a killed one is retried every `RETRY`.

use super::watch::Services;
use crate::refactor::executor::{ExecSettings, Executor};
use app::model::InstanceKey;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the pending list is read, and a server that refused a connection is tried again.
pub const RETRY: Duration = Duration::from_millis(100);

/// Starts the fencer; it ends with `cancel`.
pub fn spawn(services: Services, exec: ExecSettings, super_read_only: bool, cancel: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let trying: Arc<Mutex<HashSet<InstanceKey>>> = Arc::default();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(RETRY) => {}
            }
            // Fencing is the leader's duty; the list is replicated, so a new leader goes on.
            if !services.replicated.is_leader() {
                continue;
            }
            let pending = match services.store.pending_fences().await {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "reading the old primaries to fence failed");
                    continue;
                }
            };
            for (key, recovery) in pending {
                if !trying.lock().unwrap_or_else(|p| p.into_inner()).insert(key.clone()) {
                    continue;
                }
                let (services, exec, trying, cancel) = (services.clone(), exec.clone(), trying.clone(), cancel.clone());
                tokio::spawn(async move {
                    fence_when_back(&services, &exec, super_read_only, &key, recovery, &cancel).await;
                    trying.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
                });
            }
        }
    })
}

/// The statements that fence a server.
pub fn fence_statements(d: &crate::mysql::Dialect, super_read_only: bool) -> Vec<String> {
    let mut statements = vec![d.set_read_only(true)];
    if super_read_only {
        statements.extend(d.set_super_read_only(true));
    }
    statements
}

async fn fence_when_back(s: &Services, exec: &ExecSettings, super_read_only: bool, key: &InstanceKey, recovery: i64, cancel: &CancellationToken) {
    while !cancel.is_cancelled() {
        let view = s.discovery.instances();
        let mut ex = Executor::new(exec.clone(), &view);
        let statements = fence_statements(&ex.dialect_for(key), super_read_only);
        let outcome = ex.exec_all(key, &statements).await;
        ex.close().await;
        match outcome {
            Ok(sent) => {
                let message = format!("{key} answered again and was made read-only (left unfenced by recovery {recovery}): {}", sent.join("; "));
                tracing::warn!(instance = %key, recovery, "{message}");
                if let Err(e) = s.replicated.write(crate::raft::Command::RemovePendingFence { old: key.clone() }).await {
                    tracing::error!(error = %e, "forgetting a fenced old primary failed");
                }
                let cluster = view.get(key).map(|i| i.cluster_name.clone()).unwrap_or_default();
                if let Err(e) = s.store.audit("fence-old-primary", key, &cluster, "orchestrator", &message).await {
                    tracing::error!(error = %e, "auditing a fence failed");
                }
                let _ = s.discovery.refresh(key).await;
                return;
            }
            Err(_) => {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(RETRY) => {}
                }
            }
        }
    }
}
