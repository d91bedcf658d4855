//! Pure views of a set of observed servers: the derived per-instance view (`derive`) and
//! orchestrator's text rendering (`ascii`).

pub mod ascii;
pub mod clusters;
pub mod derive;

pub use derive::{derive, Declarations, DeriveSettings, Observed};
