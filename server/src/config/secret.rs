//! `Secret`: a string that never shows itself in logs, errors or `dump-config`.

use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// What every secret prints as, wherever it is printed.
pub const MASK: &str = "****";

/// A password or token read from the configuration.
///
/// `Debug`, `Display` and `Serialize` print [`MASK`] instead of the value (or `""` when the
/// secret is empty, which reveals nothing and tells the reader it is unset). The only way to
/// read the value is [`Secret::expose`], so every use of a password is easy to find.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself: hand it to a driver, never to a log line.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when no secret was configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn masked(&self) -> &'static str {
        if self.0.is_empty() {
            ""
        } else {
            MASK
        }
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.masked())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.masked())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_masked_everywhere_but_expose() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "\"****\"");
        assert_eq!(format!("{s}"), "****");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"****\"");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn empty_secret_prints_empty() {
        let s = Secret::default();
        assert_eq!(format!("{s:?}"), "\"\"");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"\"");
        assert!(s.is_empty());
    }

    #[test]
    fn secret_deserializes_from_a_plain_string() {
        let s: Secret = serde_json::from_str("\"pw\"").unwrap();
        assert_eq!(s.expose(), "pw");
    }
}
