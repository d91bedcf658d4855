//! The `orchestrator` node and its command line.
//!
//! # Layout
//! - `config`:    orchestrator-compatible JSON configuration, with file/line/key errors.
//! - `mysql`:     connections to managed servers, the per-flavor SQL dialect, the probe.
//! - `topology`:  pure views of observed servers: clusters, depth, problems, text rendering.
//! - `discovery`: continuous probing of every known server, crawling, forget.
//! - `analysis`:  failure analysis, a pure function of a snapshot: orchestrator's codes and
//!   structure warnings, each verdict with the inputs that led to it.
//! - `store`:     the node's database (SQLite by default): observed cache, intent, audit.
//! - `intents`:   what operators declare: maintenance locks, downtime, promotion rules, tags.
//! - `sql`:       the `sql` command: one classified read-only statement on a managed server.
//! - `http`:      the orchestrator-compatible JSON API and the web UI.
//! - `refactor`:  topology operations: rules, plans, dry runs, execution with rollback, audit.
//! - `recovery`:  recovery planning, a pure function of snapshot + verdict + policy to a plan.
//! - `raft`:      replicated state: one write path, carried by openraft between nodes.
//! - `node`:      `start`: one node (store, discovery, HTTP) under one cancellation token.
//! - `cli`:       `orchestrator -c <command>`, a thin client of the API; `orchestrator http`.
//! - `sandbox`:   real MariaDB / MySQL servers on loopback ports for tests and the demo.
//! - `demo`:      `orchestrator demo`: the seed environment on one machine.
//! - `bench`:     `orchestrator bench ...`: measured figures.

pub mod analysis;
pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
pub mod discovery;
pub mod http;
pub mod intents;
pub mod mysql;
pub mod node;
pub mod raft;
pub mod recovery;
pub mod refactor;
pub mod sandbox;
pub mod sql;
pub mod store;
pub mod topology;

pub use node::{start, Listeners, Node};
