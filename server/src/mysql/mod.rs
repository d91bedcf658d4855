//! Talking to managed MySQL-family servers: connections (`conn`), the per-flavor SQL
//! (`dialect`), Oracle GTID set arithmetic (`gtid`), and the read-only probe that discovery
//! runs (`probe`).

pub mod conn;
pub mod dialect;
pub use app::model::gtid;
pub mod probe;

pub use conn::{ConnectSpec, MySqlError, TextConn, TextRow};
pub use dialect::{ChangeSource, Dialect, Flavor, GtidMode, Version};
