//! Per-node identity overrides, so that one configuration (and one `raft.conf`) serves every
//! node of a raft cluster: each node is started with its own addresses and data paths (from
//! command-line flags or environment variables) applied over the loaded configuration.

use super::error::{ConfigError, Location};
use super::loader::Ctx;
use super::validate::{check_http_advertise, check_raft_address, split_host_port};
use super::Config;

/// Values that replace the loaded configuration's for this node. `None` keeps the file's value.
///
/// Errors about a value name its flag as origin (`--raft-advertise: key "RaftAdvertise": ...`),
/// see [`IdentityOverrides::FLAGS`]; the caller may fill the fields from flags or environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityOverrides {
    /// `ListenAddress` (`--listen-address`): `[host]:port` of the HTTP listener.
    pub listen_address: Option<String>,
    /// `RaftBind` (`--raft-bind`): `host[:port]`. When `raft_advertise` is not given and the
    /// configuration's `RaftAdvertise` was `RaftBind` (its default), it follows.
    pub raft_bind: Option<String>,
    /// `RaftAdvertise` (`--raft-advertise`): `host[:port]`; empty means `RaftBind`.
    pub raft_advertise: Option<String>,
    /// `RaftDataDir` (`--raft-data-dir`); must not be empty when raft is enabled.
    pub raft_data_dir: Option<String>,
    /// `HTTPAdvertise` (`--http-advertise`): `scheme://host:port`, or empty for the computed one.
    pub http_advertise: Option<String>,
    /// `SQLite3DataFile` (`--sqlite-data-file`); empty means `orchestrator.sqlite3` with the
    /// SQLite backend.
    pub sqlite_data_file: Option<String>,
}

impl IdentityOverrides {
    /// The key each override replaces and the origin its errors name, in field order.
    pub const FLAGS: [(&'static str, &'static str); 6] = [
        ("ListenAddress", "--listen-address"),
        ("RaftBind", "--raft-bind"),
        ("RaftAdvertise", "--raft-advertise"),
        ("RaftDataDir", "--raft-data-dir"),
        ("HTTPAdvertise", "--http-advertise"),
        ("SQLite3DataFile", "--sqlite-data-file"),
    ];

    /// True when nothing is overridden.
    pub fn is_empty(&self) -> bool {
        self == &IdentityOverrides::default()
    }
}

/// Applies `ov` to `config` (after [`load`](super::load)), checking each given value with the
/// rules of its key, then re-derives what depends on them (`RaftAdvertise` defaulting to
/// `RaftBind`, the default SQLite file, compiled forms). On error `config` is unchanged and the
/// error names the flag (`--raft-bind`), the key and the problem.
pub fn apply_identity(config: &mut Config, ov: &IdentityOverrides) -> Result<(), ConfigError> {
    let invalid = |flag: &str, key: &str, why: String| {
        ConfigError::invalid(Location::new(flag, None), key, why)
    };
    let mut next = config.clone();
    let port = next.raft.default_raft_port;
    let raft_enabled = next.raft.raft_enabled;

    if let Some(listen) = &ov.listen_address {
        if split_host_port(listen).is_none() {
            return Err(invalid(
                "--listen-address",
                "ListenAddress",
                format!("{listen:?} is not [host]:port (e.g. \":3000\" or \"127.0.0.1:3000\")"),
            ));
        }
        next.service.listen_address = listen.clone();
    }
    if let Some(bind) = &ov.raft_bind {
        if bind.is_empty() && raft_enabled {
            return Err(invalid(
                "--raft-bind",
                "RaftBind",
                "must not be empty when RaftEnabled is true".to_owned(),
            ));
        }
        if !bind.is_empty() {
            check_raft_address(bind, port)
                .map_err(|why| invalid("--raft-bind", "RaftBind", why))?;
        }
        if ov.raft_advertise.is_none() && next.raft.raft_advertise == next.raft.raft_bind {
            // RaftAdvertise was defaulted from RaftBind (or set to the same): keep following it.
            next.raft.raft_advertise = String::new();
        }
        next.raft.raft_bind = bind.clone();
    }
    if let Some(advertise) = &ov.raft_advertise {
        if !advertise.is_empty() {
            check_raft_address(advertise, port)
                .map_err(|why| invalid("--raft-advertise", "RaftAdvertise", why))?;
        }
        next.raft.raft_advertise = advertise.clone();
    }
    if let Some(dir) = &ov.raft_data_dir {
        if dir.is_empty() && raft_enabled {
            return Err(invalid(
                "--raft-data-dir",
                "RaftDataDir",
                "must not be empty when RaftEnabled is true".to_owned(),
            ));
        }
        next.raft.raft_data_dir = dir.clone();
    }
    if let Some(http) = &ov.http_advertise {
        if !http.is_empty() {
            check_http_advertise(http)
                .map_err(|why| invalid("--http-advertise", "HTTPAdvertise", why))?;
        }
        next.raft.http_advertise = http.clone();
    }
    if let Some(file) = &ov.sqlite_data_file {
        next.backend.sqlite3_data_file = file.clone();
    }

    // Fills RaftAdvertise from RaftBind, the default SQLite file, and recompiles. The values
    // were checked above and the rest was valid already; should something still be refused,
    // the error says where the values came from.
    let ctx = Ctx::detached("identity overrides");
    *config = super::validate::finish(next, &ctx, &mut Vec::new())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse_with_env, Secret, DEFAULT_SQLITE_FILE};

    fn raft_config() -> Config {
        let mut c = Config::default();
        c.raft.raft_enabled = true;
        c.raft.raft_data_dir = "/var/lib/orchestrator".into();
        c.raft.raft_secret = Secret::new("0123456789abcdef");
        c.raft.raft_bind = "orchestrator-raft1".into();
        c.raft.raft_advertise = String::new();
        c.raft.raft_nodes = vec![
            "orchestrator-raft1".into(),
            "orchestrator-raft2".into(),
            "orchestrator-raft3".into(),
        ];
        c.validated().unwrap()
    }

    #[test]
    fn nothing_to_apply_changes_nothing() {
        let mut c = raft_config();
        let before = c.clone();
        assert!(IdentityOverrides::default().is_empty());
        apply_identity(&mut c, &IdentityOverrides::default()).unwrap();
        assert_eq!(c, before);
    }

    #[test]
    fn raft_advertise_follows_an_overridden_bind() {
        let mut c = raft_config();
        assert_eq!(c.raft_advertise_addr(), "orchestrator-raft1:10008");
        let ov = IdentityOverrides {
            raft_bind: Some("orchestrator-raft2".into()),
            ..Default::default()
        };
        apply_identity(&mut c, &ov).unwrap();
        assert_eq!(c.raft_bind_addr(), "orchestrator-raft2:10008");
        assert_eq!(c.raft_advertise_addr(), "orchestrator-raft2:10008");
        assert_eq!(c.http_advertise_uri(), "http://orchestrator-raft2:3000");
    }

    #[test]
    fn an_explicit_advertise_is_kept_or_overridden() {
        let mut c = raft_config();
        c.raft.raft_advertise = "public-1:10008".into();
        let mut c = c.validated().unwrap();
        let ov = IdentityOverrides {
            raft_bind: Some("0.0.0.0:10008".into()),
            ..Default::default()
        };
        apply_identity(&mut c, &ov).unwrap();
        assert_eq!(c.raft.raft_advertise, "public-1:10008");
        let ov = IdentityOverrides {
            raft_advertise: Some("public-2".into()),
            http_advertise: Some("http://public-2:3000".into()),
            listen_address: Some("127.0.0.1:3001".into()),
            raft_data_dir: Some("/data/raft".into()),
            sqlite_data_file: Some("/data/orc.sqlite3".into()),
            ..Default::default()
        };
        apply_identity(&mut c, &ov).unwrap();
        assert_eq!(c.raft_advertise_addr(), "public-2:10008");
        assert_eq!(c.http_advertise_uri(), "http://public-2:3000");
        assert_eq!(c.listen_addr(), "127.0.0.1:3001");
        assert_eq!(c.raft.raft_data_dir, "/data/raft");
        assert_eq!(
            c.sqlite_path(),
            std::path::PathBuf::from("/data/orc.sqlite3")
        );
        // An empty advertise means RaftBind again.
        let ov = IdentityOverrides {
            raft_advertise: Some(String::new()),
            sqlite_data_file: Some(String::new()),
            ..Default::default()
        };
        apply_identity(&mut c, &ov).unwrap();
        assert_eq!(c.raft.raft_advertise, "0.0.0.0:10008");
        assert_eq!(c.backend.sqlite3_data_file, DEFAULT_SQLITE_FILE);
    }

    #[test]
    fn bad_values_name_the_flag_and_key_and_change_nothing() {
        let cases: [(IdentityOverrides, &str, &str); 6] = [
            (
                IdentityOverrides {
                    listen_address: Some("3000".into()),
                    ..Default::default()
                },
                "--listen-address",
                "ListenAddress",
            ),
            (
                IdentityOverrides {
                    raft_bind: Some("host:port".into()),
                    ..Default::default()
                },
                "--raft-bind",
                "RaftBind",
            ),
            (
                IdentityOverrides {
                    raft_bind: Some(String::new()),
                    ..Default::default()
                },
                "--raft-bind",
                "RaftBind",
            ),
            (
                IdentityOverrides {
                    raft_bind: Some("ok-host".into()),
                    raft_advertise: Some("[::1".into()),
                    ..Default::default()
                },
                "--raft-advertise",
                "RaftAdvertise",
            ),
            (
                IdentityOverrides {
                    raft_data_dir: Some(String::new()),
                    ..Default::default()
                },
                "--raft-data-dir",
                "RaftDataDir",
            ),
            (
                IdentityOverrides {
                    http_advertise: Some("orchestrator-raft1:3000".into()),
                    ..Default::default()
                },
                "--http-advertise",
                "HTTPAdvertise",
            ),
        ];
        for (ov, flag, key) in cases {
            let mut c = raft_config();
            let before = c.clone();
            let err = apply_identity(&mut c, &ov).unwrap_err();
            assert_eq!(err.key(), Some(key), "{err}");
            assert_eq!(err.location().origin, flag, "{err}");
            assert!(
                err.to_string()
                    .starts_with(&format!("{flag}: key \"{key}\": ")),
                "{err}"
            );
            assert_eq!(c, before, "{err}");
        }
    }

    #[test]
    fn raft_file_is_kept_and_disabled_raft_accepts_empty_values() {
        let loaded = parse_with_env("{}", "c.json", &|_| None).unwrap();
        let mut c = loaded.config;
        c.raft_file = Some("/etc/orc/raft.conf".into());
        let ov = IdentityOverrides {
            raft_bind: Some(String::new()),
            raft_data_dir: Some(String::new()),
            ..Default::default()
        };
        apply_identity(&mut c, &ov).unwrap();
        assert_eq!(
            c.raft_file(),
            Some(std::path::Path::new("/etc/orc/raft.conf"))
        );
        assert_eq!(c.raft.raft_bind, "");
    }

    #[test]
    fn flags_table_matches_the_fields() {
        let keys: Vec<&str> = IdentityOverrides::FLAGS.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                "ListenAddress",
                "RaftBind",
                "RaftAdvertise",
                "RaftDataDir",
                "HTTPAdvertise",
                "SQLite3DataFile"
            ]
        );
    }
}
