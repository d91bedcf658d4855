//! The `orchestrator` command line: `orchestrator http` runs a node; `orchestrator -c <command>`
//! is a thin client of a node's HTTP API (like orchestrator-client, which is what orchestrator
//! users run against a raft cluster anyway); `orchestrator demo` and `orchestrator bench ...`
//! run the demo and the benchmarks.
//!
//! Exit status: 0 success, 1 the operation failed, 2 usage error. Errors are one line on stderr.
//!
//! # Layout
//! - `client`:   talking to the API (leader pick, envelopes, errors).
//! - `commands`: the `-c` command table (information commands) and command lookup.
//! - `ops`:      topology operations and checks (`relocate`, `stop-replica`, `--noop` plans).
//! - `intents`:  maintenance, downtime, promotion rules and tags (`begin-downtime`, `tag`, ...).
//! - `sql`:      `sql`: one read-only statement, printed as a table.
//! - `analysis`: `replication-analysis`: failures and structure warnings, one line each.
//! - `recovery`: acknowledgements, the global switch, observe-only, recovery records.
//! - `raft`:     the raft group: leader, health, status, peers, membership, snapshots.
//! - here:       argument parsing and dispatch.

pub mod analysis;
pub mod client;
pub mod commands;
pub mod intents;
pub mod ops;
pub mod raft;
pub mod recovery;
pub mod sql;

use app::model::InstanceKey;
use clap::Parser;
use commands::Failure;
use std::path::PathBuf;

/// Parsed arguments, with orchestrator's flag names.
#[derive(Parser, Debug, Default)]
#[command(
    name = "orchestrator",
    version,
    about = "MySQL replication topology manager (orchestrator-compatible)",
    after_help = "Run `orchestrator http` to start a node, `orchestrator -c help` to list commands, \
                  `orchestrator help <command>` for one command.",
    disable_help_subcommand = true
)]
pub struct Invocation {
    /// Command to run (see `orchestrator -c help`).
    #[arg(short = 'c', long = "command")]
    pub command: Option<String>,
    /// The instance the command is about, `host[:port]` (or a cluster alias or search text).
    #[arg(short = 'i', long = "instance")]
    pub instance: Option<String>,
    /// Destination instance, `host[:port]`.
    #[arg(short = 'd', long = "destination", visible_short_alias = 's')]
    pub destination: Option<String>,
    /// Cluster alias.
    #[arg(short = 'a', long = "alias")]
    pub alias: Option<String>,
    /// API of the node(s) to talk to; a space-separated list picks the leader.
    #[arg(long = "api", env = "ORCHESTRATOR_API", default_value = "http://127.0.0.1:3000")]
    pub api: String,
    /// Configuration file (orchestrator's JSON format).
    #[arg(long = "config")]
    pub config: Option<PathBuf>,
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long)]
    pub reason: Option<String>,
    #[arg(long)]
    pub duration: Option<String>,
    #[arg(long)]
    pub pattern: Option<String>,
    #[arg(short = 'q', long = "statement")]
    pub statement: Option<String>,
    /// Seconds, for `delay-replication`.
    #[arg(short = 'S', long = "seconds")]
    pub seconds: Option<u32>,
    #[arg(long = "promotion-rule")]
    pub promotion_rule: Option<String>,
    #[arg(long)]
    pub tag: Option<String>,
    /// Show what would be done without doing it.
    #[arg(long)]
    pub noop: bool,
    #[arg(long)]
    pub debug: bool,
    #[arg(long)]
    pub verbose: bool,
    #[arg(long)]
    pub quiet: bool,
    /// `raft-elect-leader`: a hint naming the node to elect (orchestrator-client's `--hostname`).
    #[arg(long)]
    pub hostname: Option<String>,
    /// `http`: this node's HTTP listener, `[host]:port` (`ListenAddress`).
    #[arg(long = "listen-address", env = "ORCHESTRATOR_LISTEN_ADDRESS")]
    pub listen_address: Option<String>,
    /// `http`: this node's raft listener, `host[:port]` (`RaftBind`).
    #[arg(long = "raft-bind", env = "ORCHESTRATOR_RAFT_BIND")]
    pub raft_bind: Option<String>,
    /// `http`: the raft address peers use for this node (`RaftAdvertise`; default `RaftBind`).
    #[arg(long = "raft-advertise", env = "ORCHESTRATOR_RAFT_ADVERTISE")]
    pub raft_advertise: Option<String>,
    /// `http`: this node's data directory (`RaftDataDir`).
    #[arg(long = "raft-data-dir", env = "ORCHESTRATOR_RAFT_DATA_DIR")]
    pub raft_data_dir: Option<String>,
    /// `http`: this node's API as peers reach it (`HTTPAdvertise`).
    #[arg(long = "http-advertise", env = "ORCHESTRATOR_HTTP_ADVERTISE")]
    pub http_advertise: Option<String>,
    /// `http`: the SQLite file without raft (`SQLite3DataFile`).
    #[arg(long = "sqlite-data-file", env = "ORCHESTRATOR_SQLITE_DATA_FILE")]
    pub sqlite_data_file: Option<String>,
    /// `http`, `demo`, `bench <what>`, `help [command]`. Flags may follow these words
    /// (`orchestrator http --config file`), so they are not a trailing catch-all.
    pub positional: Vec<String>,
    /// `DefaultInstancePort`, from the configuration when one is given.
    #[arg(skip = 3306u16)]
    pub default_port: u16,
}

impl Invocation {
    pub fn instance_text(&self) -> Option<&str> {
        self.instance.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    /// `-i` as an instance key (usage error when missing or malformed).
    pub fn instance(&self) -> Result<InstanceKey, Failure> {
        let text = self.instance_text().ok_or_else(|| Failure::Usage("this command needs -i host[:port]".into()))?;
        InstanceKey::parse(text, self.default_port).map_err(|e| Failure::Usage(format!("-i {text:?}: {e}")))
    }
}

/// Go's flag package accepts `-config x` as well as `--config x`; so do we, for the long names
/// orchestrator users type with one dash.
fn normalize_args(args: Vec<String>) -> Vec<String> {
    const LONG: &[&str] = &[
        "config", "alias", "api", "owner", "reason", "duration", "pattern", "statement", "promotion-rule", "tag", "noop",
        "debug", "verbose", "quiet", "instance", "destination", "command", "seconds",
    ];
    args.into_iter()
        .enumerate()
        .map(|(n, a)| {
            if n > 0 && a.starts_with('-') && !a.starts_with("--") {
                let name = a[1..].split('=').next().unwrap_or("");
                if LONG.contains(&name) {
                    return format!("-{a}");
                }
            }
            a
        })
        .collect()
}

/// Runs the command line; returns the process exit status.
pub async fn main_entry(args: Vec<String>) -> i32 {
    let mut inv = match Invocation::try_parse_from(normalize_args(args)) {
        Ok(inv) => inv,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                print!("{e}");
                return 0;
            }
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ");
            eprintln!("orchestrator: {first}");
            return 2;
        }
    };
    let positional: Vec<&str> = inv.positional.iter().map(String::as_str).collect();
    match (inv.command.as_deref(), positional.as_slice()) {
        (None, ["http", ..]) => crate::node::run_http(&inv).await,
        (None, ["demo", ..]) => crate::demo::run(&inv).await,
        (None, ["bench", what @ ..]) => crate::bench::run(&inv, what).await,
        (None, ["help"]) | (Some("help"), []) => {
            print_command_list();
            0
        }
        (None, ["help", name]) | (Some("help"), [name]) => print_command_help(name),
        (None, ["version"]) | (Some("version"), _) => {
            println!("{}", env!("CARGO_PKG_VERSION"));
            0
        }
        (Some(_), [extra, ..]) => {
            eprintln!("orchestrator: unexpected argument {extra:?} after -c (give instances with -i and -d)");
            2
        }
        (Some(name), []) => {
            if let Some(path) = inv.config.clone() {
                match crate::config::load(&path) {
                    Ok(loaded) => inv.default_port = loaded.config.default_instance_port(),
                    Err(e) => {
                        eprintln!("orchestrator: {e}");
                        return 2;
                    }
                }
            }
            run_command(name, &inv).await
        }
        (None, []) => {
            eprintln!("orchestrator: nothing to do; use `orchestrator http` or `orchestrator -c <command>` (see -c help)");
            2
        }
        (None, [other, ..]) => {
            eprintln!("orchestrator: unknown mode {other:?}; use `http`, `demo`, `bench`, `help` or -c <command>");
            2
        }
    }
}

async fn run_command(name: &str, inv: &Invocation) -> i32 {
    let spec = match commands::lookup(name) {
        Ok(s) => s,
        Err(message) => {
            eprintln!("orchestrator: {message}");
            return 2;
        }
    };
    match spec.name {
        "help" => {
            print_command_list();
            return 0;
        }
        "version" => {
            println!("{}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        _ => {}
    }
    let api = client::ApiClient::connect(&inv.api).await;
    let outcome = if commands::is_in(ops::COMMANDS, spec) {
        ops::execute(spec, inv, &api).await
    } else if commands::is_in(intents::COMMANDS, spec) {
        intents::execute(spec, inv, &api).await
    } else if commands::is_in(sql::COMMANDS, spec) {
        sql::execute(spec, inv, &api).await
    } else if commands::is_in(analysis::COMMANDS, spec) {
        analysis::execute(spec, inv, &api).await
    } else if commands::is_in(recovery::COMMANDS, spec) {
        recovery::execute(spec, inv, &api).await
    } else if commands::is_in(raft::COMMANDS, spec) {
        raft::execute(spec, inv, &api).await
    } else {
        commands::execute(spec, inv, &api).await
    };
    match outcome {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            0
        }
        Err(Failure::Usage(m)) => {
            eprintln!("orchestrator: {}: {m}", spec.name);
            2
        }
        Err(Failure::Operation(m)) => {
            eprintln!("orchestrator: {}: {m}", spec.name);
            1
        }
    }
}

fn print_command_list() {
    println!("Usage: orchestrator -c <command> [-i host:port] [-d host:port] [--alias alias]\n");
    println!("Commands:");
    let width = commands::all().map(|c| c.name.len()).max().unwrap_or(0);
    for c in commands::all() {
        println!("  {:width$}  {}", c.name, c.summary);
    }
    println!("\nOther modes: orchestrator http | demo | bench discovery|failover|graph | help <command>");
}

fn print_command_help(name: &str) -> i32 {
    match commands::lookup(name) {
        Ok(c) => {
            println!("{}: {}", c.name, c.summary);
            if !c.aliases.is_empty() {
                println!("Also known as: {}", c.aliases.join(", "));
            }
            if !c.usage.is_empty() {
                println!("\nUsage: orchestrator -c {} {}", c.name, c.usage);
            }
            0
        }
        Err(m) => {
            eprintln!("orchestrator: {m}");
            2
        }
    }
}
