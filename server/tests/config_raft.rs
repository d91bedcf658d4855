//! `server::config` for raft: the seed's `conf/orchestrator/raft.conf` merged over its
//! `config.json`, `raft.conf` found beside the configuration file or given explicitly, raft
//! keys only in it, `RaftSecret` required and masked, and per-node identity overrides.

use std::path::{Path, PathBuf};

use server::config::{self, apply_identity, ConfigError, IdentityOverrides};

const SECRET: &str = "compose-raft-secret-0123";

fn seed_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../conf/orchestrator")
        .join(name)
}

fn seed_env(name: &str) -> Option<String> {
    match name {
        "ORCHESTRATOR_TOPOLOGY_PASSWORD" => Some("s3cret".to_owned()),
        "ORCHESTRATOR_RAFT_SECRET" => Some(SECRET.to_owned()),
        _ => None,
    }
}

fn seed_config() -> config::Loaded {
    let text = std::fs::read_to_string(seed_file("config.json")).unwrap();
    let raft = std::fs::read_to_string(seed_file("raft.conf")).unwrap();
    config::parse_with_raft(
        &text,
        "conf/orchestrator/config.json",
        &raft,
        "conf/orchestrator/raft.conf",
        &seed_env,
    )
    .unwrap()
}

#[test]
fn the_seed_raft_conf_loads_and_serves_every_node() {
    let loaded = seed_config();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = loaded.config;
    assert!(c.raft.raft_enabled);
    assert_eq!(c.raft.raft_data_dir, "/var/lib/orchestrator");
    assert_eq!(
        c.raft_peer_addrs(),
        vec![
            "orchestrator-raft1:10008",
            "orchestrator-raft2:10008",
            "orchestrator-raft3:10008"
        ]
    );
    assert_eq!(c.raft_secret().expose(), SECRET);
    assert_eq!(c.discovery.discovery_seeds, vec!["mysql1:3306".to_string()]);
    assert!(!format!("{c:?}").contains(SECRET));
    assert_eq!(c.dump()["RaftSecret"], "****");

    for n in 1..=3 {
        let mut node = c.clone();
        let ov = IdentityOverrides {
            raft_bind: Some(format!("orchestrator-raft{n}")),
            ..Default::default()
        };
        apply_identity(&mut node, &ov).unwrap();
        assert_eq!(
            node.raft_advertise_addr(),
            format!("orchestrator-raft{n}:10008")
        );
        assert_eq!(
            node.http_advertise_uri(),
            format!("http://orchestrator-raft{n}:3000")
        );
        assert!(node.raft_peer_addrs().contains(&node.raft_advertise_addr()));
    }
}

#[test]
fn the_seed_raft_conf_needs_its_secret() {
    let text = std::fs::read_to_string(seed_file("config.json")).unwrap();
    let raft = std::fs::read_to_string(seed_file("raft.conf")).unwrap();
    let env = |name: &str| seed_env(name).filter(|_| name != "ORCHESTRATOR_RAFT_SECRET");
    let err = config::parse_with_raft(&text, "config.json", &raft, "raft.conf", &env).unwrap_err();
    assert!(
        matches!(
            err,
            ConfigError::MissingEnvVar {
                key: "RaftSecret",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().starts_with("raft.conf:"), "{err}");
    assert!(
        err.to_string().contains("ORCHESTRATOR_RAFT_SECRET"),
        "{err}"
    );
}

#[test]
fn load_finds_raft_conf_beside_the_config_or_takes_an_explicit_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orchestrator.conf.json");
    std::fs::write(
        &path,
        "{\"ListenAddress\": \":3005\", \"RaftBind\": \"main\"}",
    )
    .unwrap();

    // The existing signature, no raft.conf: the file alone.
    let loaded = config::load(&path).unwrap();
    assert_eq!(loaded.config.raft_file(), None);
    assert_eq!(loaded.config.raft.raft_bind, "main");

    let beside = dir.path().join("raft.conf");
    std::fs::write(&beside, "{\n  \"RaftBind\": \"beside\"\n}").unwrap();
    let loaded = config::load(&path).unwrap();
    assert_eq!(loaded.config.raft_file(), Some(beside.as_path()));
    assert_eq!(loaded.config.raft.raft_bind, "beside");
    assert_eq!(loaded.config.listen_addr(), "0.0.0.0:3005");

    let explicit = dir.path().join("node.raft.json");
    std::fs::write(&explicit, "{\"RaftBind\": \"explicit\"}").unwrap();
    let loaded = config::load_with_raft(&path, Some(&explicit)).unwrap();
    assert_eq!(loaded.config.raft_file(), Some(explicit.as_path()));
    assert_eq!(loaded.config.raft.raft_bind, "explicit");

    std::fs::write(
        &beside,
        "{\n  \"RaftBind\": \"beside\",\n  \"ListenAddress\": \":1\"\n}",
    )
    .unwrap();
    let err = config::load(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3: key \"ListenAddress\": not a raft key: it belongs in orchestrator.conf.json, not raft.conf",
            beside.display()
        )
    );
}

#[test]
fn identity_errors_name_the_flag() {
    let mut c = seed_config().config;
    let ov = IdentityOverrides {
        raft_advertise: Some("orchestrator-raft1:x".into()),
        ..Default::default()
    };
    let err = apply_identity(&mut c, &ov).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--raft-advertise: key \"RaftAdvertise\": \"orchestrator-raft1:x\" is not host[:port]"
    );
}
