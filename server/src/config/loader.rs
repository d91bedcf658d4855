//! From text to `Config`: JSON syntax, key classification (with lines), typed sections, legacy
//! synonyms, credentials files, `${VAR}` expansion, then validation (`validate.rs`).

use std::collections::HashMap;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use serde_path_to_error::Segment;

use super::credentials::{expand_env, read_client_credentials};
use super::error::{one_line, ConfigError, ConfigWarning, Location, WarningKind};
use super::keys::{classify, suggest, KeyKind, SECRET_KEYS};
use super::legacy::Legacy;
use super::locate::{LineIndex, Seg};
use super::{validate, Config, Loaded};

/// Looks up an environment variable (injectable for tests).
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Where the keys of the file being loaded are, for error and warning locations.
pub(crate) struct Ctx<'a> {
    origin: &'a str,
    index: Option<&'a LineIndex>,
    /// Canonical key → the key as written in the file (its last occurrence counts).
    written: HashMap<&'static str, String>,
}

impl<'a> Ctx<'a> {
    /// A context with no file behind it (for `Config::validated` and defaults).
    pub(crate) fn detached(origin: &'a str) -> Self {
        Ctx {
            origin,
            index: None,
            written: HashMap::new(),
        }
    }

    /// Whether the file set `key` (by its canonical name).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.written.contains_key(key)
    }

    /// File and line of `key`.
    pub(crate) fn at(&self, key: &str) -> Location {
        self.at_path(key, &[])
    }

    /// File and line of something inside `key`'s value (an array element, a map member).
    pub(crate) fn at_path(&self, key: &str, rest: &[Seg]) -> Location {
        let line = self.written.get(key).and_then(|written| {
            let mut path = vec![Seg::Key(written.clone())];
            path.extend_from_slice(rest);
            self.index?.line_of(&path)
        });
        Location::new(self.origin, line)
    }
}

/// Reads and parses the file at `path`.
pub(crate) fn load(path: &Path, env: EnvLookup<'_>) -> Result<Loaded, ConfigError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: origin.clone(),
        source,
    })?;
    parse(&text, &origin, env)
}

/// Parses configuration `text`; `origin` names it in messages.
pub(crate) fn parse(text: &str, origin: &str, env: EnvLookup<'_>) -> Result<Loaded, ConfigError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = serde_json::from_str(text).map_err(|e| syntax_error(origin, &e))?;
    let object = match value {
        Value::Object(object) => object,
        other => {
            return Err(ConfigError::NotAnObject {
                at: Location::new(origin, Some(1)),
                found: describe(&other),
            });
        }
    };
    let index = LineIndex::scan(text);
    let mut warnings = Vec::new();
    let SortedKeys {
        current,
        legacy,
        written,
    } = sort_keys(&object, &index, origin, &mut warnings);
    let ctx = Ctx {
        origin,
        index: Some(&index),
        written,
    };

    let current = Value::Object(current);
    let mut errors = Vec::new();
    let mut config = Config {
        service: section(&current, &ctx, &mut errors),
        backend: section(&current, &ctx, &mut errors),
        topology: section(&current, &ctx, &mut errors),
        discovery: section(&current, &ctx, &mut errors),
        recovery: section(&current, &ctx, &mut errors),
        hooks: section(&current, &ctx, &mut errors),
        pseudo_gtid: section(&current, &ctx, &mut errors),
        raft: section(&current, &ctx, &mut errors),
        auth: section(&current, &ctx, &mut errors),
        integrations: section(&current, &ctx, &mut errors),
        agents: section(&current, &ctx, &mut errors),
        compiled: Default::default(),
    };
    let legacy: Legacy = section(&Value::Object(legacy), &ctx, &mut errors);
    // Each section stops at its first error; report the earliest in the file.
    if let Some(first) = errors
        .into_iter()
        .min_by_key(|e| e.location().line.unwrap_or(usize::MAX))
    {
        return Err(first);
    }

    legacy.apply(&mut config, &ctx, &mut warnings)?;
    apply_credentials_files(&mut config, &ctx)?;
    expand_secrets(&mut config, &ctx, env)?;
    let config = validate::finish(config, &ctx, &mut warnings)?;
    Ok(Loaded { config, warnings })
}

/// The file's values under canonical key names.
struct SortedKeys {
    current: Map<String, Value>,
    legacy: Map<String, Value>,
    /// Canonical key → the key as written.
    written: HashMap<&'static str, String>,
}

/// Splits the file's keys into current and legacy maps under their canonical names, warning
/// about unknown, removed, case-mismatched and duplicate keys.
fn sort_keys(
    object: &Map<String, Value>,
    index: &LineIndex,
    origin: &str,
    warnings: &mut Vec<ConfigWarning>,
) -> SortedKeys {
    let mut current = Map::new();
    let mut legacy = Map::new();
    let mut written = HashMap::new();
    let mut seen: HashMap<&'static str, usize> = HashMap::new();
    for (key, line) in index.top_level_keys() {
        let warn = |kind| ConfigWarning {
            at: Location::new(origin, Some(line)),
            key: key.to_owned(),
            kind,
        };
        let (canonical, target) = match classify(key) {
            KeyKind::Current(k) => (k, &mut current),
            KeyKind::Legacy(k) => (k, &mut legacy),
            KeyKind::Removed(_, reason) => {
                warnings.push(warn(WarningKind::NoEffect {
                    reason: reason.to_owned(),
                }));
                continue;
            }
            KeyKind::Comment => continue,
            KeyKind::Unknown => {
                warnings.push(warn(WarningKind::UnknownKey {
                    suggestion: suggest(key).map(str::to_owned),
                }));
                continue;
            }
        };
        if canonical != key {
            warnings.push(warn(WarningKind::CaseMismatch {
                canonical: canonical.to_owned(),
            }));
        }
        if let Some(previous_line) = seen.insert(canonical, line) {
            warnings.push(warn(WarningKind::DuplicateKey {
                previous_line: Some(previous_line),
            }));
        }
        match object.get(key) {
            // As in Go's encoding/json, null leaves the value as it was.
            None | Some(Value::Null) => {}
            Some(value) => {
                written.insert(canonical, key.to_owned());
                target.insert(canonical.to_owned(), value.clone());
            }
        }
    }
    SortedKeys {
        current,
        legacy,
        written,
    }
}

/// Deserializes one section (or the legacy keys) from the canonical map, recording the error
/// (with key path and line) and falling back to defaults so other sections can still report.
fn section<T: DeserializeOwned + Default>(
    map: &Value,
    ctx: &Ctx<'_>,
    errors: &mut Vec<ConfigError>,
) -> T {
    serde_path_to_error::deserialize(map).unwrap_or_else(|err| {
        errors.push(type_error(ctx, &err));
        T::default()
    })
}

fn type_error(ctx: &Ctx<'_>, err: &serde_path_to_error::Error<serde_json::Error>) -> ConfigError {
    let mut segments = err.path().iter();
    let key = match segments.next() {
        Some(Segment::Map { key }) => key.clone(),
        _ => String::new(),
    };
    let rest: Vec<Seg> = segments
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            _ => None,
        })
        .collect();
    let message = if SECRET_KEYS.contains(&key.as_str()) {
        // serde's message would quote the value.
        "invalid type: expected a string (the value is not shown)".to_owned()
    } else {
        one_line(&err.inner().to_string())
    };
    ConfigError::WrongType {
        at: ctx.at_path(&key, &rest),
        key: err.path().to_string(),
        message,
    }
}

fn syntax_error(origin: &str, err: &serde_json::Error) -> ConfigError {
    let (line, column) = (err.line(), err.column());
    let full = err.to_string();
    let suffix = format!(" at line {line} column {column}");
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    ConfigError::Syntax {
        at: Location {
            origin: origin.to_owned(),
            line: Some(line.max(1)),
            column: Some(column),
        },
        message: one_line(message),
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads `MySQL*CredentialsConfigFile` and replaces user/password with what it holds.
fn apply_credentials_files(config: &mut Config, ctx: &Ctx<'_>) -> Result<(), ConfigError> {
    let targets = [
        (
            "MySQLTopologyCredentialsConfigFile",
            config
                .topology
                .mysql_topology_credentials_config_file
                .clone(),
            &mut config.topology.mysql_topology_user,
            &mut config.topology.mysql_topology_password,
        ),
        (
            "MySQLOrchestratorCredentialsConfigFile",
            config
                .backend
                .mysql_orchestrator_credentials_config_file
                .clone(),
            &mut config.backend.mysql_orchestrator_user,
            &mut config.backend.mysql_orchestrator_password,
        ),
    ];
    for (key, path, user, password) in targets {
        if path.is_empty() {
            continue;
        }
        let found =
            read_client_credentials(&path).map_err(|reason| ConfigError::CredentialsFile {
                at: ctx.at(key),
                key,
                path: path.clone(),
                reason: one_line(&reason),
            })?;
        if let Some(u) = found.user {
            *user = u;
        }
        if let Some(p) = found.password {
            *password = p.into();
        }
    }
    Ok(())
}

/// Expands `${VAR}` in every secret.
fn expand_secrets(
    config: &mut Config,
    ctx: &Ctx<'_>,
    env: EnvLookup<'_>,
) -> Result<(), ConfigError> {
    // A password may come from a credentials file; then that key locates the problem.
    let secrets = [
        (
            "MySQLTopologyPassword",
            "MySQLTopologyCredentialsConfigFile",
            &mut config.topology.mysql_topology_password,
        ),
        (
            "MySQLOrchestratorPassword",
            "MySQLOrchestratorCredentialsConfigFile",
            &mut config.backend.mysql_orchestrator_password,
        ),
        (
            "HTTPAuthPassword",
            "HTTPAuthPassword",
            &mut config.auth.http_auth_password,
        ),
        (
            "OAuthClientSecret",
            "OAuthClientSecret",
            &mut config.auth.oauth_client_secret,
        ),
        (
            "ConsulAclToken",
            "ConsulAclToken",
            &mut config.integrations.consul_acl_token,
        ),
    ];
    for (key, fallback, secret) in secrets {
        match expand_env(secret.expose(), env) {
            Ok(None) => {}
            Ok(Some(expanded)) => *secret = expanded.into(),
            Err(var) => {
                let at = if ctx.has(key) || !ctx.has(fallback) {
                    ctx.at(key)
                } else {
                    ctx.at(fallback)
                };
                return Err(ConfigError::MissingEnvVar { at, key, var });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn parse_str(text: &str) -> Result<Loaded, ConfigError> {
        parse(text, "conf.json", &no_env)
    }

    #[test]
    fn empty_object_is_the_default_config() {
        let loaded = parse_str("{}").unwrap();
        assert!(loaded.warnings.is_empty());
        assert_eq!(loaded.config, Config::default());
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let err = parse_str("{\n  \"Debug\": true,\n  \"ReadOnly\" false\n}").unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("conf.json:3:"), "{text}");
        assert!(text.contains("malformed JSON"), "{text}");
        assert!(!text.contains(" at line "), "{text}");
    }

    #[test]
    fn non_object_is_refused() {
        let err = parse_str("[1, 2]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "conf.json:1: the configuration must be a JSON object, found an array"
        );
    }

    #[test]
    fn type_errors_name_key_and_line() {
        let err =
            parse_str("{\n\"Debug\": true,\n\n\"InstancePollSeconds\": \"five\"\n}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "conf.json:4: key \"InstancePollSeconds\": invalid type: string \"five\", expected u64"
        );
    }

    #[test]
    fn nested_type_errors_point_at_the_element() {
        let err = parse_str("{\n\"DiscoverySeeds\": [\n  \"a:1\",\n  7\n]\n}").unwrap_err();
        assert_eq!(err.key(), Some("DiscoverySeeds[1]"));
        assert_eq!(err.location().line, Some(4));
    }

    #[test]
    fn the_earliest_type_error_is_reported() {
        let err = parse_str("{\n\"RaftEnabled\": 1,\n\"Debug\": 2\n}").unwrap_err();
        assert_eq!(err.key(), Some("RaftEnabled"));
    }

    #[test]
    fn secret_type_errors_do_not_echo_the_value() {
        let err = parse_str("{\"MySQLTopologyPassword\": 987654}").unwrap_err();
        assert!(!err.to_string().contains("987654"), "{err}");
        assert!(!format!("{err:?}").contains("987654"));
    }

    #[test]
    fn key_warnings() {
        let text = "{\n\"#\": \"comment\",\n\"instancepollseconds\": 2,\n\"InstancePollSecond\": 3,\n\"RecoveryPollSeconds\": 1,\n\"Debug\": false,\n\"Debug\": true\n}";
        let loaded = parse_str(text).unwrap();
        assert_eq!(loaded.config.discovery.instance_poll_seconds, 2);
        assert!(loaded.config.service.debug, "the last duplicate wins");
        let rendered: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(rendered.len(), 4, "{rendered:#?}");
        assert!(rendered[0].starts_with(
            "conf.json:3: key \"instancepollseconds\" is read as \"InstancePollSeconds\""
        ));
        assert_eq!(rendered[1], "conf.json:4: unknown key \"InstancePollSecond\" (did you mean \"InstancePollSeconds\"?)");
        assert!(rendered[2].starts_with("conf.json:5: key \"RecoveryPollSeconds\" has no effect"));
        assert_eq!(
            rendered[3],
            "conf.json:7: key \"Debug\" is also set on line 6; the last value is used"
        );
    }

    #[test]
    fn null_keeps_the_default() {
        let loaded = parse_str("{\"ListenAddress\": null}").unwrap();
        assert_eq!(loaded.config.service.listen_address, ":3000");
    }

    #[test]
    fn bom_is_tolerated() {
        assert!(parse_str("\u{feff}{}").is_ok());
    }

    #[test]
    fn env_expansion_uses_the_lookup() {
        let env = |name: &str| (name == "ORC_PW").then(|| "from-env".to_owned());
        let loaded = parse("{\"MySQLTopologyPassword\": \"${ORC_PW}\"}", "c.json", &env).unwrap();
        assert_eq!(
            loaded.config.topology.mysql_topology_password.expose(),
            "from-env"
        );
        let err = parse("{\n\"HTTPAuthPassword\": \"${NOPE}\"}", "c.json", &env).unwrap_err();
        assert_eq!(
            err.to_string(),
            "c.json:2: key \"HTTPAuthPassword\": environment variable \"NOPE\" is not set"
        );
    }
}
