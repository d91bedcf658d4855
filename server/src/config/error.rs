//! Errors that refuse a configuration, and warnings that let it load.
//!
//! Both print as one line that starts with the file name (`conf.json:4: ...`), so the binary
//! can print an error and exit with [`ConfigError::EXIT_STATUS`]. No message ever contains the
//! value of a secret key.

use std::fmt;

/// Where in a configuration something was found: file, and line/column when known (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file name (or whatever origin `parse` was given).
    pub origin: String,
    /// 1-based line; `None` when the problem is not tied to a line (e.g. a default value).
    pub line: Option<usize>,
    /// 1-based column; only set for malformed JSON.
    pub column: Option<usize>,
}

impl Location {
    pub(crate) fn new(origin: &str, line: Option<usize>) -> Self {
        Location {
            origin: origin.to_owned(),
            line,
            column: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// Why a configuration was refused. `Display` is one line starting with the file name.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read at all.
    #[error("{path}: cannot read the configuration file: {source}")]
    Read {
        /// The path as given.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The text is not JSON.
    #[error("{at}: malformed JSON: {message}")]
    Syntax {
        /// File, line and column of the first syntax error.
        at: Location,
        /// serde_json's description, without its own position suffix.
        message: String,
    },
    /// The JSON is valid but is not an object (`{...}`).
    #[error("{at}: the configuration must be a JSON object, found {found}")]
    NotAnObject {
        /// The file.
        at: Location,
        /// What was found instead ("an array", "a string", ...).
        found: &'static str,
    },
    /// A value of the wrong JSON type for its key (`"InstancePollSeconds": "five"`).
    #[error("{at}: key {key:?}: {message}")]
    WrongType {
        /// File and line of the value.
        at: Location,
        /// The key path, e.g. `InstancePollSeconds` or `DiscoverySeeds[2]`.
        key: String,
        /// e.g. `invalid type: string "five", expected u64` (never shows a secret's value).
        message: String,
    },
    /// A value of the right type that cannot be used (`"InstancePollSeconds": 0`, a bad regex...).
    #[error("{at}: key {key:?}: {message}")]
    InvalidValue {
        /// File and line of the key.
        at: Location,
        /// The key path.
        key: String,
        /// What is wrong and what is expected.
        message: String,
    },
    /// A `${VAR}` in a secret names an environment variable that is not set.
    #[error("{at}: key {key:?}: environment variable {var:?} is not set")]
    MissingEnvVar {
        /// File and line of the key.
        at: Location,
        /// The secret key.
        key: &'static str,
        /// The variable name.
        var: String,
    },
    /// A `*CredentialsConfigFile` could not be read or holds no credentials.
    #[error("{at}: key {key:?}: cannot use credentials file {path:?}: {reason}")]
    CredentialsFile {
        /// File and line of the key.
        at: Location,
        /// `MySQLTopologyCredentialsConfigFile` or `MySQLOrchestratorCredentialsConfigFile`.
        key: &'static str,
        /// The credentials file path.
        path: String,
        /// Why it could not be used (never contains its content).
        reason: String,
    },
    /// A legacy key and its replacement are both set, to different values.
    #[error("{at}: keys {key:?} and {replacement:?} are synonyms but have different values; keep only {replacement:?}")]
    ConflictingSynonyms {
        /// File and line of the legacy key.
        at: Location,
        /// The legacy key, e.g. `SlaveLagQuery`.
        key: &'static str,
        /// The current key, e.g. `ReplicationLagQuery`.
        replacement: &'static str,
    },
    /// A key in a file that may not hold it: `raft.conf` holds raft keys only.
    #[error("{at}: key {key:?}: {message}")]
    MisplacedKey {
        /// File and line of the key.
        at: Location,
        /// The key as written.
        key: String,
        /// Where it belongs, or which keys the file may hold.
        message: String,
    },
}

impl ConfigError {
    /// The exit status of `orchestrator` when its configuration is refused.
    pub const EXIT_STATUS: i32 = 2;

    /// The key (or key path) the error is about, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::WrongType { key, .. }
            | ConfigError::InvalidValue { key, .. }
            | ConfigError::MisplacedKey { key, .. } => Some(key),
            ConfigError::MissingEnvVar { key, .. }
            | ConfigError::CredentialsFile { key, .. }
            | ConfigError::ConflictingSynonyms { key, .. } => Some(key),
            ConfigError::Read { .. }
            | ConfigError::Syntax { .. }
            | ConfigError::NotAnObject { .. } => None,
        }
    }

    /// File/line/column of the error (for `Read`, just the path).
    pub fn location(&self) -> Location {
        match self {
            ConfigError::Read { path, .. } => Location::new(path, None),
            ConfigError::Syntax { at, .. }
            | ConfigError::NotAnObject { at, .. }
            | ConfigError::WrongType { at, .. }
            | ConfigError::InvalidValue { at, .. }
            | ConfigError::MissingEnvVar { at, .. }
            | ConfigError::CredentialsFile { at, .. }
            | ConfigError::ConflictingSynonyms { at, .. }
            | ConfigError::MisplacedKey { at, .. } => at.clone(),
        }
    }

    pub(crate) fn invalid(
        at: Location,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ConfigError::InvalidValue {
            at,
            key: key.into(),
            message: one_line(&message.into()),
        }
    }
}

/// Something in a configuration that loads but deserves the operator's attention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    /// File and line of the key.
    pub at: Location,
    /// The key as written in the file.
    pub key: String,
    /// What is wrong with it.
    pub kind: WarningKind,
}

/// The kinds of [`ConfigWarning`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarningKind {
    /// Not an orchestrator key (orchestrator ignored these silently); `suggestion` is the
    /// closest known key when one is close enough to be a likely typo.
    UnknownKey {
        /// The probable intended key.
        suggestion: Option<String>,
    },
    /// A key orchestrator accepts (or once accepted) that changes nothing.
    NoEffect {
        /// Why, and what to do instead.
        reason: String,
    },
    /// The key differs from a known key only by case. orchestrator (Go's encoding/json)
    /// matches keys case-insensitively, so the value is used under `canonical`.
    CaseMismatch {
        /// The key's proper spelling.
        canonical: String,
    },
    /// The key appears more than once; as in orchestrator the last value is used.
    DuplicateKey {
        /// Line of the earlier occurrence.
        previous_line: Option<usize>,
    },
    /// A value that loads but probably does not do what was meant.
    Suspicious {
        /// What is odd about it.
        message: String,
    },
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (at, key) = (&self.at, &self.key);
        match &self.kind {
            WarningKind::UnknownKey { suggestion: Some(s) } => {
                write!(f, "{at}: unknown key {key:?} (did you mean {s:?}?)")
            }
            WarningKind::UnknownKey { suggestion: None } => {
                write!(f, "{at}: unknown key {key:?} is ignored")
            }
            WarningKind::NoEffect { reason } => write!(f, "{at}: key {key:?} has no effect: {reason}"),
            WarningKind::CaseMismatch { canonical } => write!(
                f,
                "{at}: key {key:?} is read as {canonical:?} (keys are matched case-insensitively, as in orchestrator); spell it {canonical:?}"
            ),
            WarningKind::DuplicateKey { previous_line: Some(line) } => {
                write!(f, "{at}: key {key:?} is also set on line {line}; the last value is used")
            }
            WarningKind::DuplicateKey { previous_line: None } => {
                write!(f, "{at}: key {key:?} is set more than once; the last value is used")
            }
            WarningKind::Suspicious { message } => write!(f, "{at}: key {key:?}: {message}"),
        }
    }
}

/// Squashes a possibly multi-line message (regex errors span several lines) into one line.
pub(crate) fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    // regex::Error's syntax errors end with "error: <what>"; that line is the useful one.
    if let Some(what) = lines.iter().rev().find_map(|l| l.strip_prefix("error:")) {
        return what.trim().to_owned();
    }
    lines.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_prints_only_what_is_known() {
        let mut at = Location::new("conf.json", None);
        assert_eq!(at.to_string(), "conf.json");
        at.line = Some(4);
        assert_eq!(at.to_string(), "conf.json:4");
        at.column = Some(9);
        assert_eq!(at.to_string(), "conf.json:4:9");
    }

    #[test]
    fn regex_errors_become_one_line() {
        let unclosed = String::from("(abc");
        let err = regex::Regex::new(&unclosed).unwrap_err().to_string();
        assert!(err.contains('\n'));
        assert_eq!(one_line(&err), "unclosed group");
        assert_eq!(one_line("a\n  b"), "a b");
    }

    #[test]
    fn warnings_render_like_compiler_messages() {
        let w = ConfigWarning {
            at: Location::new("conf.json", Some(7)),
            key: "InstancePollSecond".into(),
            kind: WarningKind::UnknownKey {
                suggestion: Some("InstancePollSeconds".into()),
            },
        };
        assert_eq!(
            w.to_string(),
            "conf.json:7: unknown key \"InstancePollSecond\" (did you mean \"InstancePollSeconds\"?)"
        );
    }
}
