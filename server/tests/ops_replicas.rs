//! Operations on several replicas and role swaps on real servers: relocate-replicas,
//! move-up-replicas, move-replicas-gtid, repoint-replicas, take-siblings, take-master,
//! make-co-master, regroup-replicas and get-candidate-replica, against MariaDB 10.11 and Oracle
//! MySQL 9.x from the sandbox, through a node started with `server::start`, over its HTTP API
//! and its CLI. Every operation is first run as a dry run (nothing may change), then for real;
//! its end state is read from every server's own SHOW REPLICA/SLAVE STATUS; a writer inserts rows
//! on the primary throughout, and at the end every server has every acknowledged row and the same
//! table checksum. Every wait has a deadline.
//!
//! Run with `cargo test -p server --test ops_replicas -- --nocapture` to see each operation's
//! duration (from its report). The MySQL flavor needs the root filesystem of
//! `scripts/prepare-mysql-rootfs.sh`.
//!
//! # Layout
//! - `support`:     the fixture (sandbox + node), API/CLI calls with their dry runs, the
//!   servers' own answers, the writer and the continuity check.
//! - `gtid`:        every operation on GTID replicas.
//! - `coordinates`: the same with binlog coordinates (move-up-replicas, take-siblings,
//!   regroup, take-master by alignment).
//! - `co_master`:   make-co-master by GTID and by coordinates, with and without
//!   ReplicationCredentialsQuery; take-master's refusals.
//! - `failure`:     one replica failing in move-up-replicas is put back alone; its source restarts.

mod common;

#[path = "ops_replicas/co_master.rs"]
mod co_master;
#[path = "ops_replicas/coordinates.rs"]
mod coordinates;
#[path = "ops_replicas/failure.rs"]
mod failure;
#[path = "ops_replicas/gtid.rs"]
mod gtid;
#[path = "ops_replicas/support.rs"]
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
    gtid_operations => crate::gtid::gtid_operations_keep_every_row;
    coordinate_operations => crate::coordinates::coordinate_operations_keep_every_row;
    co_master_by_gtid => crate::co_master::co_master_by_gtid;
    co_master_by_coordinates => crate::co_master::co_master_by_coordinates;
    co_master_with_channel_credentials => crate::co_master::co_master_with_the_channels_credentials;
    failing_replica_put_back_alone => crate::failure::a_failing_replica_leaves_the_others_moved;
}
