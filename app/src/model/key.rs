//! Instance keys: `host:port`, the identity of a server everywhere (API paths, CLI, graph).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The identity of one MySQL-family server, as orchestrator spells it in JSON
/// (`{"Hostname": "...", "Port": 3306}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InstanceKey {
    /// Host name or address the server is reached at.
    #[serde(rename = "Hostname")]
    pub hostname: String,
    /// TCP port of the server.
    #[serde(rename = "Port")]
    pub port: u16,
}

/// Why a `host[:port]` text is not an instance key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("empty instance name")]
    Empty,
    #[error("invalid port {0:?} in instance name (expected 1-65535)")]
    BadPort(String),
    #[error("invalid host name {0:?} (letters, digits, '.', '-', '_'; ':' only in an IPv6 address)")]
    BadHost(String),
}

impl InstanceKey {
    pub fn new(hostname: impl Into<String>, port: u16) -> Self {
        InstanceKey { hostname: hostname.into(), port }
    }

    /// Parses `host`, `host:port` or `[v6addr]:port`; a missing port means `default_port`.
    pub fn parse(text: &str, default_port: u16) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(KeyError::Empty);
        }
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(|| KeyError::BadHost(text.into()))?;
            match after.strip_prefix(':') {
                Some(p) => (host, Some(p)),
                None if after.is_empty() => (host, None),
                None => return Err(KeyError::BadHost(text.into())),
            }
        } else if text.matches(':').count() == 1 {
            let (h, p) = text.split_once(':').unwrap_or((text, ""));
            (h, Some(p))
        } else {
            (text, None)
        };
        let port = match port {
            None => default_port,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(KeyError::BadPort(p.into())),
            },
        };
        Self::from_parts(host, port)
    }

    /// Builds a key from separate host and port, validating the host.
    pub fn from_parts(host: &str, port: u16) -> Result<Self, KeyError> {
        let host = host.trim();
        if host.is_empty() {
            return Err(KeyError::Empty);
        }
        let valid = host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '%'));
        if !valid || host.len() > 255 {
            return Err(KeyError::BadHost(host.into()));
        }
        // A colon is only valid inside an IPv6 address: `db1:3306:7` is a typo, not a host.
        if host.contains(':') && host.split('%').next().unwrap_or("").parse::<std::net::Ipv6Addr>().is_err() {
            return Err(KeyError::BadHost(host.into()));
        }
        if port == 0 {
            return Err(KeyError::BadPort("0".into()));
        }
        Ok(InstanceKey { hostname: host.to_string(), port })
    }

    /// True for the empty key orchestrator uses for "no source".
    pub fn is_empty(&self) -> bool {
        self.hostname.is_empty()
    }
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.hostname.contains(':') {
            write!(f, "[{}]:{}", self.hostname, self.port)
        } else {
            write!(f, "{}:{}", self.hostname, self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_and_port_forms() {
        assert_eq!(InstanceKey::parse("db1:3307", 3306).unwrap(), InstanceKey::new("db1", 3307));
        assert_eq!(InstanceKey::parse("db1", 3306).unwrap(), InstanceKey::new("db1", 3306));
        assert_eq!(InstanceKey::parse(" 10.0.0.1:3306 ", 1).unwrap(), InstanceKey::new("10.0.0.1", 3306));
        assert_eq!(InstanceKey::parse("[::1]:3306", 1).unwrap(), InstanceKey::new("::1", 3306));
        assert_eq!(InstanceKey::parse("[::1]:3306", 1).unwrap().to_string(), "[::1]:3306");
    }

    #[test]
    fn refuses_bad_names() {
        assert_eq!(InstanceKey::parse("", 3306), Err(KeyError::Empty));
        assert_eq!(InstanceKey::parse("db:0", 3306), Err(KeyError::BadPort("0".into())));
        assert_eq!(InstanceKey::parse("db:70000", 3306), Err(KeyError::BadPort("70000".into())));
        assert_eq!(InstanceKey::parse("db:x", 3306), Err(KeyError::BadPort("x".into())));
        assert!(matches!(InstanceKey::parse("d b:1", 3306), Err(KeyError::BadHost(_))));
        assert!(matches!(InstanceKey::parse("a;drop:1", 3306), Err(KeyError::BadHost(_))));
        assert!(matches!(InstanceKey::parse("db1:3306:7", 3306), Err(KeyError::BadHost(_))));
        assert!(matches!(InstanceKey::from_parts("db1:3306", 3306), Err(KeyError::BadHost(_))));
        assert_eq!(InstanceKey::parse("fe80::1%eth0", 3306).unwrap().hostname, "fe80::1%eth0");
    }
}
