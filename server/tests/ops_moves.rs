//! Topology moves on real servers: relocate (smart), move-up, move-below, move-gtid and repoint
//! against MariaDB 10.11 and Oracle MySQL 9.x from the sandbox, through a node started with
//! `server::start`. Every scenario runs once per flavor. End states are read from each server's
//! own SHOW REPLICA/SLAVE STATUS, never from the node's store; every wait has a deadline.
//!
//! Run with `cargo test -p server --test ops_moves -- --nocapture` to see each move's duration
//! (from its report). The MySQL flavor needs the root filesystem of
//! `scripts/prepare-mysql-rootfs.sh`.
//!
//! # Layout
//! - `support`:  the fixture (sandbox + node), operation calls, the servers' own answers, the
//!   writer and the continuity check.
//! - `moves`:    every mechanism succeeding with writes running (GTID; binlog coordinates).
//! - `refusals`: descendant, purged GTIDs, no binary logs: the rule named, nothing changed.
//! - `failure`:  the target killed mid-move (fail point): 502, rollback, no row lost; an
//!   operation held mid-way makes a second one on its servers busy (409).
//! - `plans`:    dry runs (`?dry_run=true`, `--noop`) show the statements and change nothing.

mod common;

#[path = "ops_moves/failure.rs"]
mod failure;
#[path = "ops_moves/moves.rs"]
mod moves;
#[path = "ops_moves/plans.rs"]
mod plans;
#[path = "ops_moves/refusals.rs"]
mod refusals;
#[path = "ops_moves/support.rs"]
mod support;

/// One test per flavor for each scenario: `<scenario>::mariadb` and `<scenario>::mysql`.
macro_rules! for_both_flavors {
    ($($name:ident => $scenario:path;)*) => {$(
        mod $name {
            use server::sandbox::SandboxFlavor;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mariadb() {
                $scenario(SandboxFlavor::MariaDb).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                $scenario(SandboxFlavor::MySql).await;
            }
        }
    )*};
}

for_both_flavors! {
    gtid_moves => crate::moves::gtid_moves_keep_every_row;
    coordinate_moves => crate::moves::coordinate_moves_keep_every_row;
    refused_moves => crate::refusals::refusals_name_the_rule_and_change_nothing;
    gtid_target_killed => crate::failure::gtid_move_to_a_killed_target_is_put_back;
    coordinate_target_killed => crate::failure::coordinate_move_to_a_killed_target_is_put_back;
    coordinate_rollback_after_applying => crate::failure::coordinate_rollback_never_applies_a_transaction_twice;
    busy => crate::failure::a_second_operation_on_busy_servers_is_refused;
    dry_runs => crate::plans::dry_runs_show_the_plan_and_change_nothing;
}
