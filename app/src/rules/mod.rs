//! The rules that decide whether a topology change may happen, shared by the server (which
//! enforces them before touching anything) and the browser (which previews a drop with them), so
//! the two never disagree. Pure functions of the derived instances.
//!
//! # Layout
//! - `refusal`:     `Refusal`: which rule said no, and why, in words.
//! - `replication`: can A replicate from B (orchestrator's rules, reference 5.6), GTID safety.
//! - `tree`:        ancestry questions: descendants, siblings, grandparents.
//! - `relocation`:  which mechanism a move uses (orchestrator's smart mode, reference 5.5).
//! - `drop`:        what dropping a card on another card of the graph would do.

pub mod drop;
pub mod refusal;
pub mod relocation;
pub mod replication;
pub mod tree;

pub use refusal::{Refusal, Rule};
pub use relocation::{choose_relocation, Mechanism};
pub use replication::{can_replicate_from, can_replicate_from_gtid, RuleSettings};
