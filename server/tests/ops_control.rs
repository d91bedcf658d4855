//! Replica-control operations against real servers: a node started through `server::start` in
//! front of MariaDB 10.11 and Oracle MySQL 9.x sandboxes, driven through the HTTP API (GET and
//! POST) and the `orchestrator` binary. Every end state is read from the servers themselves;
//! dry runs and refusals must change nothing; the audit records what ran, statement by statement.
//!
//! Run with `cargo test -p server --test ops_control`. The MySQL flavor needs the root
//! filesystem of `scripts/prepare-mysql-rootfs.sh`.
//!
//! # Layout
//! - `support`:     the fixture (sandbox + node + table), operations, the servers' own answers.
//! - `threads`:     stop / start / restart / stop nicely / delay / reset; dry runs; audit.
//! - `detach_skip`: detach and reattach with writes meanwhile; skip-query per mechanism.
//! - `settings`:    flush-binary-logs, gtid-errant-inject-empty, read-only, semi-sync.

mod common;

#[path = "ops_control/detach_skip.rs"]
mod detach_skip;
#[path = "ops_control/settings.rs"]
mod settings;
#[path = "ops_control/support.rs"]
mod support;
#[path = "ops_control/threads.rs"]
mod threads;

/// One test per flavor for each scenario: `<scenario>::mariadb` and `<scenario>::mysql`.
macro_rules! for_both_flavors {
    ($($name:ident => $scenario:expr;)*) => {$(
        mod $name {
            use server::sandbox::SandboxFlavor;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mariadb() {
                ($scenario)(SandboxFlavor::MariaDb).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                ($scenario)(SandboxFlavor::MySql).await;
            }
        }
    )*};
}

for_both_flavors! {
    replication_threads => crate::threads::replication_threads;
    detach_and_skip_with_gtid => |flavor| crate::detach_skip::detach_reattach_and_skip_query(flavor, true);
    detach_and_skip_with_coordinates => |flavor| crate::detach_skip::detach_reattach_and_skip_query(flavor, false);
    server_settings => crate::settings::server_settings;
}
