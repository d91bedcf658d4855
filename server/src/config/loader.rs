//! From text to `Config`: JSON syntax, key classification (with lines), typed sections, legacy
//! synonyms, credentials files, `${VAR}` expansion, then validation (`validate.rs`).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use serde_path_to_error::Segment;

use super::credentials::{expand_env, read_client_credentials};
use super::error::{one_line, ConfigError, ConfigWarning, Location, WarningKind};
use super::keys::{classify, suggest, suggest_among, KeyKind, RAFT_FILE_KEYS, SECRET_KEYS};
use super::legacy::Legacy;
use super::locate::{LineIndex, Seg};
use super::{validate, Config, Loaded, RAFT_FILE_NAME};

/// Looks up an environment variable (injectable for tests).
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Where the keys of the files being loaded are, for error and warning locations.
pub(crate) struct Ctx<'a> {
    /// The files read: the configuration file first, then `raft.conf` if there is one.
    files: Vec<(&'a str, Option<&'a LineIndex>)>,
    /// Canonical key → the key as written (its last occurrence counts) and the index in
    /// `files` of the file that set it (`raft.conf` wins over the configuration file).
    written: HashMap<&'static str, (String, usize)>,
}

impl<'a> Ctx<'a> {
    /// A context with no file behind it (for `Config::validated` and defaults).
    pub(crate) fn detached(origin: &'a str) -> Self {
        Ctx {
            files: vec![(origin, None)],
            written: HashMap::new(),
        }
    }

    /// Whether a file set `key` (by its canonical name).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.written.contains_key(key)
    }

    /// File and line of `key`.
    pub(crate) fn at(&self, key: &str) -> Location {
        self.at_path(key, &[])
    }

    /// File and line of `key` if a file set it, else of `instead` if a file set that (the
    /// key that made `key` necessary), else the configuration file.
    pub(crate) fn at_or(&self, key: &str, instead: &str) -> Location {
        if !self.has(key) && self.has(instead) {
            self.at(instead)
        } else {
            self.at(key)
        }
    }

    /// File and line of something inside `key`'s value (an array element, a map member).
    pub(crate) fn at_path(&self, key: &str, rest: &[Seg]) -> Location {
        let (origin, index, written) = match self.written.get(key) {
            Some((written, file)) => {
                let (origin, index) = self.files[*file];
                (origin, index, Some(written))
            }
            None => (self.files[0].0, None, None),
        };
        let line = written.and_then(|written| {
            let mut path = vec![Seg::Key(written.clone())];
            path.extend_from_slice(rest);
            index?.line_of(&path)
        });
        Location::new(origin, line)
    }
}

/// One configuration text and the name that starts its messages.
#[derive(Clone, Copy)]
pub(crate) struct Source<'a> {
    pub(crate) text: &'a str,
    pub(crate) origin: &'a str,
}

/// Reads and parses the file at `path`, with `raft` (or else a `raft.conf` beside `path`, if
/// one exists) merged over it.
pub(crate) fn load(
    path: &Path,
    raft: Option<&Path>,
    env: EnvLookup<'_>,
) -> Result<Loaded, ConfigError> {
    let raft_path = match raft {
        Some(explicit) => Some(explicit.to_path_buf()),
        None => raft_file_beside(path),
    };
    let origin = path.display().to_string();
    let text = read(path)?;
    let mut loaded = match &raft_path {
        None => parse(&text, &origin, env)?,
        Some(raft_path) => {
            let raft_origin = raft_path.display().to_string();
            let raft_text = read(raft_path)?;
            parse_files(
                Source {
                    text: &text,
                    origin: &origin,
                },
                Some(Source {
                    text: &raft_text,
                    origin: &raft_origin,
                }),
                env,
            )?
        }
    };
    loaded.config.raft_file = raft_path;
    Ok(loaded)
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// `raft.conf` in the directory of `config`, when it exists (and is not `config` itself).
fn raft_file_beside(config: &Path) -> Option<PathBuf> {
    if config.file_name() == Some(OsStr::new(RAFT_FILE_NAME)) {
        return None;
    }
    let candidate = config
        .parent()
        .unwrap_or_else(|| Path::new(""))
        .join(RAFT_FILE_NAME);
    // A raft.conf that exists but cannot be read is reported by `read`.
    candidate.exists().then_some(candidate)
}

/// Parses configuration `text`; `origin` names it in messages.
pub(crate) fn parse(text: &str, origin: &str, env: EnvLookup<'_>) -> Result<Loaded, ConfigError> {
    parse_files(Source { text, origin }, None, env)
}

/// A parsed file: its top-level object and the lines of its keys.
struct Parsed {
    object: Map<String, Value>,
    index: LineIndex,
}

fn parse_object(source: Source<'_>) -> Result<Parsed, ConfigError> {
    let text = source.text;
    let origin = source.origin;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = serde_json::from_str(text).map_err(|e| syntax_error(origin, &e))?;
    match value {
        Value::Object(object) => Ok(Parsed {
            object,
            index: LineIndex::scan(text),
        }),
        other => Err(ConfigError::NotAnObject {
            at: Location::new(origin, Some(1)),
            found: describe(&other),
        }),
    }
}

/// Parses the configuration file `main` and, when given, the raft file `raft`, whose keys
/// (raft keys only) override `main`'s.
pub(crate) fn parse_files(
    main: Source<'_>,
    raft: Option<Source<'_>>,
    env: EnvLookup<'_>,
) -> Result<Loaded, ConfigError> {
    let main_parsed = parse_object(main)?;
    let raft_parsed = match raft {
        Some(raft) => {
            let parsed = parse_object(raft)?;
            check_raft_file_keys(&parsed.index, raft.origin, main.origin)?;
            Some((raft.origin, parsed))
        }
        None => None,
    };

    let mut warnings = Vec::new();
    let SortedKeys {
        mut current,
        legacy,
        written,
    } = sort_keys(
        &main_parsed.object,
        &main_parsed.index,
        main.origin,
        &mut warnings,
    );
    let mut ctx = Ctx {
        files: vec![(main.origin, Some(&main_parsed.index))],
        written: written
            .into_iter()
            .map(|(canonical, key)| (canonical, (key, 0)))
            .collect(),
    };
    if let Some((raft_origin, parsed)) = &raft_parsed {
        // Only current raft keys get here (checked above), so there is no legacy map.
        let sorted = sort_keys(&parsed.object, &parsed.index, raft_origin, &mut warnings);
        current.extend(sorted.current);
        ctx.files.push((raft_origin, Some(&parsed.index)));
        for (canonical, key) in sorted.written {
            ctx.written.insert(canonical, (key, 1));
        }
    }

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
        raft_file: None,
    };
    let legacy: Legacy = section(&Value::Object(legacy), &ctx, &mut errors);
    // Each section stops at its first error; report the earliest, the configuration file's
    // before raft.conf's.
    if let Some(first) = errors.into_iter().min_by_key(|e| {
        let at = e.location();
        (at.origin != main.origin, at.line.unwrap_or(usize::MAX))
    }) {
        return Err(first);
    }

    legacy.apply(&mut config, &ctx, &mut warnings)?;
    apply_credentials_files(&mut config, &ctx)?;
    expand_secrets(&mut config, &ctx, env)?;
    let config = validate::finish(config, &ctx, &mut warnings)?;
    Ok(Loaded { config, warnings })
}

/// Refuses any key of a raft file that is not a raft key, naming file, line and key.
fn check_raft_file_keys(
    index: &LineIndex,
    origin: &str,
    main_origin: &str,
) -> Result<(), ConfigError> {
    let name = |origin: &str| {
        Path::new(origin)
            .file_name()
            .map_or_else(|| origin.to_owned(), |n| n.to_string_lossy().into_owned())
    };
    for (key, line) in index.top_level_keys() {
        let message = match classify(key) {
            KeyKind::Comment => continue,
            KeyKind::Current(canonical) if RAFT_FILE_KEYS.contains(&canonical) => continue,
            KeyKind::Current(_) | KeyKind::Legacy(_) | KeyKind::Removed(..) => format!(
                "not a raft key: it belongs in {}, not {}",
                name(main_origin),
                name(origin)
            ),
            KeyKind::Unknown => match suggest_among(key, RAFT_FILE_KEYS.iter().copied()) {
                Some(s) => format!("unknown raft key (did you mean {s:?}?)"),
                None => format!(
                    "unknown key; {} may only hold {}",
                    name(origin),
                    RAFT_FILE_KEYS.join(", ")
                ),
            },
        };
        return Err(ConfigError::MisplacedKey {
            at: Location::new(origin, Some(line)),
            key: key.to_owned(),
            message,
        });
    }
    Ok(())
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
        ("RaftSecret", "RaftSecret", &mut config.raft.raft_secret),
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

    // ---- raft.conf ---------------------------------------------------------------------

    const SECRET: &str = "raft-secret-0123456789";

    fn raft_env(name: &str) -> Option<String> {
        (name == "ORCHESTRATOR_RAFT_SECRET").then(|| SECRET.to_owned())
    }

    /// A temp dir holding `config.json` and, when given, `raft.conf`.
    fn files(config: &str, raft: Option<&str>) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, config).unwrap();
        if let Some(raft) = raft {
            std::fs::write(dir.path().join(RAFT_FILE_NAME), raft).unwrap();
        }
        (dir, path)
    }

    const MAIN: &str = "{\n  \"ListenAddress\": \":3001\",\n  \"RaftBind\": \"config-host\",\n  \"RaftDataDir\": \"/from/config\",\n  \"DefaultRaftPort\": 9000\n}";

    const RAFT: &str = r##"{
  "#": "raft settings of the compose environment",
  "RaftEnabled": true,
  "RaftBind": "orchestrator-raft1",
  "RaftDataDir": null,
  "DefaultRaftPort": 10008,
  "RaftNodes": ["orchestrator-raft1", "orchestrator-raft2", "orchestrator-raft3"],
  "RaftSecret": "${ORCHESTRATOR_RAFT_SECRET}"
}"##;

    #[test]
    fn raft_conf_beside_the_config_overrides_it() {
        let (dir, path) = files(MAIN, Some(RAFT));
        let loaded = load(&path, None, &raft_env).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let c = &loaded.config;
        assert_eq!(c.raft_file(), Some(dir.path().join("raft.conf").as_path()));
        assert_eq!(c.listen_addr(), "0.0.0.0:3001", "config.json keys stay");
        assert!(c.raft.raft_enabled);
        assert_eq!(c.raft_bind_addr(), "orchestrator-raft1:10008");
        assert_eq!(c.raft_advertise_addr(), "orchestrator-raft1:10008");
        assert_eq!(
            c.raft.raft_data_dir, "/from/config",
            "null keeps config.json's value"
        );
        assert_eq!(c.raft_peer_addrs().len(), 3);
        assert_eq!(c.raft_secret().expose(), SECRET);

        // Without raft.conf, config.json alone.
        let (_dir, path) = files(MAIN, None);
        let c = load(&path, None, &raft_env).unwrap().config;
        assert_eq!(c.raft_file(), None);
        assert!(!c.raft.raft_enabled);
        assert_eq!(c.raft_bind_addr(), "config-host:9000");
    }

    #[test]
    fn an_explicit_raft_file_replaces_the_one_beside() {
        let (dir, path) = files(MAIN, Some("{\"RaftBind\": \"beside\"}"));
        let other = dir.path().join("node2.raft.conf");
        std::fs::write(&other, "{\"RaftBind\": \"explicit\"}").unwrap();
        let c = load(&path, Some(&other), &raft_env).unwrap().config;
        assert_eq!(c.raft.raft_bind, "explicit");
        assert_eq!(c.raft_file(), Some(other.as_path()));

        let missing = dir.path().join("absent.conf");
        let err = load(&path, Some(&missing), &raft_env).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
        assert!(
            err.to_string().starts_with(&missing.display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn a_config_named_raft_conf_is_not_merged_with_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RAFT_FILE_NAME);
        std::fs::write(&path, "{\"ListenAddress\": \":3002\"}").unwrap();
        let c = load(&path, None, &raft_env).unwrap().config;
        assert_eq!(c.raft_file(), None);
        assert_eq!(c.listen_addr(), "0.0.0.0:3002");
    }

    #[test]
    fn other_keys_in_raft_conf_are_refused_with_file_line_and_key() {
        for (body, key, says) in [
            (
                "\"ListenAddress\": \":3000\"",
                "ListenAddress",
                "belongs in config.json, not raft.conf",
            ),
            (
                "\"ExpectFailureAnalysisConcensus\": true",
                "ExpectFailureAnalysisConcensus",
                "belongs in config.json",
            ),
            (
                "\"SlaveLagQuery\": \"\"",
                "SlaveLagQuery",
                "belongs in config.json",
            ),
            (
                "\"RecoveryPollSeconds\": 1",
                "RecoveryPollSeconds",
                "belongs in config.json",
            ),
            ("\"RaftBnd\": \"x\"", "RaftBnd", "did you mean \"RaftBind\""),
            (
                "\"Whatever\": 1",
                "Whatever",
                "raft.conf may only hold RaftEnabled, RaftBind",
            ),
        ] {
            let raft = format!("{{\n  \"RaftEnabled\": false,\n  {body}\n}}");
            let (dir, path) = files(MAIN, Some(&raft));
            let err = load(&path, None, &raft_env).unwrap_err();
            let file = dir.path().join("raft.conf").display().to_string();
            assert!(matches!(err, ConfigError::MisplacedKey { .. }), "{err}");
            assert_eq!(err.key(), Some(key));
            assert_eq!(err.location(), Location::new(&file, Some(3)));
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("{file}:3: key \"{key}\": ")),
                "{text}"
            );
            assert!(text.contains(says), "{text}");
        }
    }

    #[test]
    fn raft_conf_errors_name_raft_conf() {
        let raft_file = |raft: &str| {
            let err = parse_files(
                Source {
                    text: MAIN,
                    origin: "config.json",
                },
                Some(Source {
                    text: raft,
                    origin: "raft.conf",
                }),
                &raft_env,
            )
            .unwrap_err();
            err.to_string()
        };
        assert_eq!(
            raft_file("{\n\"RaftEnabled\": true,\n\"DefaultRaftPort\": \"x\"\n}"),
            "raft.conf:3: key \"DefaultRaftPort\": invalid type: string \"x\", expected u16"
        );
        assert!(raft_file("{\"RaftEnabled\": tru}").starts_with("raft.conf:1:"));
        assert_eq!(
            raft_file("[]"),
            "raft.conf:1: the configuration must be a JSON object, found an array"
        );
        assert_eq!(
            raft_file("{\n\"RaftEnabled\": true,\n\"RaftSecret\": \"${NOT_SET}\"\n}"),
            "raft.conf:3: key \"RaftSecret\": environment variable \"NOT_SET\" is not set"
        );
        assert_eq!(
            raft_file("{\n\"RaftEnabled\": true,\n\"RaftNodes\": [\"a\",\n \"b:x\"]\n}"),
            "raft.conf:4: key \"RaftNodes[1]\": \"b:x\" is not host[:port]"
        );
        // A key raft.conf did not set is located in config.json.
        let err = parse_files(
            Source {
                text: "{\n\"RaftDataDir\": \"/d\",\n\"RaftBind\": \"\"\n}",
                origin: "config.json",
            },
            Some(Source {
                text: "{\"RaftEnabled\": true}",
                origin: "raft.conf",
            }),
            &raft_env,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("config.json:3: key \"RaftBind\": must be set"),
            "{err}"
        );
    }

    #[test]
    fn raft_secret_is_required_when_raft_is_enabled() {
        // Missing: located at RaftEnabled, naming RaftSecret.
        let err = parse(
            "{\n\"RaftEnabled\": true,\n\"RaftDataDir\": \"/d\"\n}",
            "c.json",
            &raft_env,
        )
        .unwrap_err();
        assert_eq!(err.key(), Some("RaftSecret"));
        let text = err.to_string();
        assert!(
            text.starts_with("c.json:2: key \"RaftSecret\": must be set when RaftEnabled is true: the shared secret"),
            "{text}"
        );
        // Too short: located at RaftSecret; the value is not shown.
        let err = parse(
            "{\n\"RaftEnabled\": true,\n\"RaftDataDir\": \"/d\",\n\"RaftSecret\": \"tooshort-15char\"\n}",
            "c.json",
            &raft_env,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("c.json:4: key \"RaftSecret\": must be at least 16"),
            "{text}"
        );
        assert!(!text.contains("tooshort") && !format!("{err:?}").contains("tooshort"));
        // A secret from an empty variable is missing too.
        let empty = |_: &str| Some(String::new());
        let err = parse(
            "{\"RaftEnabled\": true, \"RaftDataDir\": \"/d\", \"RaftSecret\": \"${S}\"}",
            "c.json",
            &empty,
        )
        .unwrap_err();
        assert!(err.to_string().contains("must be set"), "{err}");
        // Not needed with raft disabled.
        assert!(parse("{\"RaftSecret\": \"\"}", "c.json", &raft_env).is_ok());
        // Secret type errors do not echo the value.
        let err = parse("{\"RaftSecret\": 123456789012345678}", "c.json", &raft_env).unwrap_err();
        assert!(!err.to_string().contains("123456789"), "{err}");
    }

    #[test]
    fn raft_secret_is_masked_in_debug_and_dump() {
        let (_dir, path) = files(MAIN, Some(RAFT));
        let loaded = load(&path, None, &raft_env).unwrap();
        let c = &loaded.config;
        assert_eq!(c.raft_secret().expose(), SECRET);
        assert!(!format!("{c:?}").contains(SECRET));
        assert!(!format!("{loaded:?}").contains(SECRET));
        assert!(!c.dump().to_string().contains(SECRET));
        assert_eq!(c.dump()["RaftSecret"], "****");
        assert_eq!(Config::default().dump()["RaftSecret"], "");
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
