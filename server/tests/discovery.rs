//! Continuous discovery against real servers: a node started through `server::start` in front
//! of MariaDB 10.11 and Oracle MySQL 9.x servers from the sandbox. Every scenario runs once per
//! flavor; assertions compare the node's answers with what the servers themselves answer, and
//! every wait has a deadline.
//!
//! Run with `cargo test -p server --test discovery -- --nocapture` to see the figures. The MySQL
//! flavor needs the root filesystem of `scripts/prepare-mysql-rootfs.sh`.
//!
//! # Layout
//! - `support`:   the fixture (sandbox + node), the node's view, the servers' own answers.
//! - `fields`:    every recorded field against the server (primary + 2 replicas).
//! - `topology`:  a chain found from its bottom, an SQL thread stopped on an error, a killed primary.
//! - `lifecycle`: forget and its grace period; instance and cluster aliases across a restart.
//! - `figures`:   discover-to-listed time, per-probe wall time, statements and round trips.

mod common;

#[path = "discovery/fields.rs"]
mod fields;
#[path = "discovery/figures.rs"]
mod figures;
#[path = "discovery/lifecycle.rs"]
mod lifecycle;
#[path = "discovery/support.rs"]
mod support;
#[path = "discovery/topology.rs"]
mod topology;

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
    every_field_matches_the_server => crate::fields::every_recorded_field_matches_the_server;
    chain_found_from_its_bottom => crate::topology::a_chain_is_found_from_its_bottom;
    replica_stopped_on_sql_error => crate::topology::a_replica_stopped_on_an_sql_error;
    killed_primary_kept_and_reprobed => crate::topology::a_killed_primary_is_kept_marked_and_reprobed_with_backoff;
    forgotten_primary_returns_after_grace => crate::lifecycle::a_forgotten_primary_returns_only_after_the_grace_period;
    aliases_survive_a_restart => crate::lifecycle::aliases_are_detected_and_a_cluster_alias_survives_a_restart;
    discovery_figures => crate::figures::discovery_figures;
}
