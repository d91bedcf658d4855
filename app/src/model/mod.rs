//! The serializable model shared by the server, the CLI and the browser.

pub mod analysis;
pub mod display;
pub mod gtid;
pub mod instance;
pub mod key;
pub mod layout;
pub mod ops;
pub mod tree;

pub use instance::{BinlogCoordinates, ClusterInfo, Envelope, Instance, InstanceJson, NullInt64, ThreadState};
pub use key::{InstanceKey, KeyError};

use serde::{Deserialize, Serialize};

/// One cluster with its members, as the dashboard shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterOverview {
    pub info: ClusterInfo,
    /// Members ordered as the topology tree prints them (depth first).
    pub instances: Vec<Instance>,
}
