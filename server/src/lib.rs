//! The `orchestrator` node and its command line.
//!
//! # Layout
//! - `config`:    orchestrator-compatible JSON configuration, with file/line/key errors.
//! - `mysql`:     connections to managed servers, the per-flavor SQL dialect, the probe.
//! - `topology`:  pure views of observed servers: clusters, depth, problems, text rendering.
//! - `discovery`: continuous probing of every known server, crawling, forget.
//! - `store`:     the node's database (SQLite by default): observed cache, intent, audit.
//! - `sandbox`:   real MariaDB / MySQL servers on loopback ports for tests and the demo.

pub mod config;
pub mod discovery;
pub mod mysql;
pub mod sandbox;
pub mod store;
pub mod topology;
