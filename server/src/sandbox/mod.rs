//! Real MySQL-family servers on loopback ports, wired into a replication shape, for integration
//! tests and `orchestrator demo`.
//!
//! `Sandbox::start` starts N servers (MariaDB from the host's packages, or Oracle MySQL from a
//! Debian sid root filesystem under chroot) on free 127.0.0.1 ports in a private directory,
//! makes them replicate as asked, and returns once every replica runs both threads. Dropping the
//! `Sandbox` kills every server (SIGKILL) and removes the directory.
//!
//! # Layout
//! - `options`:     flavors, shapes and options (what to start).
//! - `error`:       `SandboxError`, one-line messages that say what to do.
//! - `flavor`:      per-flavor binaries, datadir initialization, server options and accounts.
//! - `template`:    the cached template datadir every server is copied from.
//! - `server`:      one server: directory, free port, process, readiness.
//! - `process`:     spawning children that die with this process; kill/stop/continue.
//! - `reaper`:      owner-stamped directories; cleanup of those whose owner died.
//! - `replication`: CHANGE MASTER / CHANGE REPLICATION SOURCE wiring and the waits on it.
//! - `nodes`:       three `orchestrator http` processes forming a raft cluster (tests, bench).
//!
//! # No orphans
//! Servers are killed by `Drop` (also while unwinding from a panic); they carry
//! `PR_SET_PDEATHSIG=SIGKILL`, set from a spawner thread that lives as long as the process, so
//! they also die when the owning process is killed, whichever thread or runtime started them;
//! and every `Sandbox::start` removes the directories (and kills the processes) of sandboxes
//! whose owner process is dead. Because of the spawner thread, a sandbox may be started from
//! any thread or task, `spawn_blocking` included.
//!
//! # Machine-wide state
//! Template datadirs are cached in [`cache_dir`]; the MySQL flavor needs the root filesystem
//! that `scripts/prepare-mysql-rootfs.sh` builds (at [`mysql_rootfs`]). Sandbox directories
//! live in `$TMPDIR/orchestrator-sandbox/` (MariaDB) and `<rootfs>/var/lib/orchestrator-sandbox/`
//! (MySQL, which must see its files inside the root).

mod error;
mod flavor;
pub mod nodes;
mod options;
mod process;
mod reaper;
mod replication;
mod server;
mod template;

pub use error::SandboxError;
pub use flavor::{mysql_rootfs, DEFAULT_MYSQL_ROOTFS};
pub use options::{SandboxFlavor, SandboxOptions, Shape};
pub use server::SandboxServer;
pub use template::cache_dir;

use crate::mysql::{ConnectSpec, Dialect, MySqlError, TextConn, TextRow};
use app::model::InstanceKey;
use flavor::Runtime;
use reaper::OwnedDir;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The account orchestrator uses on managed servers (orchestrator's documented grants).
pub const TOPOLOGY_USER: &str = "orchestrator";
pub const TOPOLOGY_PASSWORD: &str = "orch_topology_password";
/// The account replicas connect to their source with (REPLICATION SLAVE only).
pub const REPLICATION_USER: &str = "repl";
pub const REPLICATION_PASSWORD: &str = "repl_password";
/// An account with every privilege, for tests' own writes and assertions.
pub const ADMIN_USER: &str = "sandbox_admin";
pub const ADMIN_PASSWORD: &str = "sandbox_admin_password";

/// The most servers one sandbox may have (each takes ~90-170 MB of memory).
const MAX_SERVERS: usize = 32;
/// How long `start` waits for the replicas of the requested shape to run both threads.
const WIRE_TIMEOUT: Duration = Duration::from_secs(60);

/// Running servers; dropping it kills them and removes their directory.
pub struct Sandbox {
    opts: SandboxOptions,
    runtime: Runtime,
    dialect: Dialect,
    servers: Vec<SandboxServer>,
    // Last: removed after the servers are dead.
    dir: OwnedDir,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("opts", &self.opts)
            .field("dir", &self.dir.0)
            .field("servers", &self.servers)
            .finish()
    }
}

impl Sandbox {
    /// Starts `opts.count` servers, wires them into `opts.shape`, and returns once every
    /// replica runs both replication threads. The first call on a machine also builds the
    /// template datadir (a few seconds).
    pub async fn start(opts: SandboxOptions) -> Result<Sandbox, SandboxError> {
        if opts.count == 0 || opts.count > MAX_SERVERS {
            return Err(SandboxError::Options(format!("count must be 1 to {MAX_SERVERS}, not {}", opts.count)));
        }
        let started = Instant::now();
        let runtime = Runtime::locate(opts.flavor).await?;
        let reap = || flavor::all_base_dirs().iter().for_each(|base| reaper::reap_stale(base));
        let _ = tokio::task::spawn_blocking(reap).await;
        let template = template::ensure(&runtime).await?;
        let base = runtime.base_dir();
        let dir = reaper::claim_dir(&base, "sb").map_err(|e| SandboxError::io("create a directory in", &base, e))?;
        let dir = OwnedDir(dir);
        let launches = (0..opts.count).map(|i| server::launch(&runtime, &template, &dir.0, i, opts.gtid));
        // On an error the servers already started are dropped, which kills them.
        let servers = futures::future::try_join_all(launches).await?;
        let dialect = runtime.dialect;
        let mut sandbox = Sandbox { opts, runtime, dialect, servers, dir };
        sandbox.dialect = sandbox.detect_dialect().await?;
        sandbox.wire(WIRE_TIMEOUT).await?;
        tracing::info!(
            flavor = %sandbox.opts.flavor,
            count = sandbox.opts.count,
            ports = ?sandbox.servers.iter().map(|s| s.port).collect::<Vec<_>>(),
            elapsed = ?started.elapsed(),
            "sandbox started"
        );
        Ok(sandbox)
    }

    /// Builds the template datadir of `flavor` if it is not cached yet (what the first
    /// `start` would do), e.g. to keep that time out of a measurement. Returns its path.
    pub async fn prepare(flavor: SandboxFlavor) -> Result<PathBuf, SandboxError> {
        template::ensure(&Runtime::locate(flavor).await?).await
    }

    async fn detect_dialect(&self) -> Result<Dialect, SandboxError> {
        let rows = self.query(0, "SELECT @@version, @@version_comment").await?;
        let row = rows.first().cloned().unwrap_or_default();
        Ok(Dialect::detect(&row.text(&["@@version"]), &row.text(&["@@version_comment"])))
    }

    pub fn servers(&self) -> &[SandboxServer] {
        &self.servers
    }

    /// Server `i`; panics if there is none (like slice indexing).
    pub fn server(&self, i: usize) -> &SandboxServer {
        &self.servers[i]
    }

    /// `127.0.0.1:<port>` of server `i`.
    pub fn key(&self, i: usize) -> InstanceKey {
        InstanceKey::new(self.server(i).host(), self.server(i).port)
    }

    pub fn flavor(&self) -> SandboxFlavor {
        self.opts.flavor
    }

    pub fn options(&self) -> &SandboxOptions {
        &self.opts
    }

    /// The SQL dialect of the servers (detected from `@@version`).
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The sandbox's directory (one subdirectory per server).
    pub fn dir(&self) -> &Path {
        &self.dir.0
    }

    /// How to connect to server `i` as `user`.
    pub fn connect_spec(&self, i: usize, user: &str, password: &str) -> ConnectSpec {
        self.server(i).connect_spec(user, password)
    }

    /// A new connection to server `i` as [`ADMIN_USER`].
    pub async fn admin(&self, i: usize) -> Result<TextConn, SandboxError> {
        let server = self.get(i)?;
        TextConn::connect(&server.connect_spec(ADMIN_USER, ADMIN_PASSWORD)).await.map_err(|e| self.sql_error(i, e))
    }

    /// Runs statements on server `i` as [`ADMIN_USER`], on a connection of their own.
    pub async fn exec(&self, i: usize, sql: &str) -> Result<(), SandboxError> {
        let mut conn = self.admin(i).await?;
        let result = conn.exec(sql).await.map_err(|e| self.sql_error(i, e));
        conn.close().await;
        result
    }

    /// Runs one statement on server `i` as [`ADMIN_USER`] and returns its rows.
    pub async fn query(&self, i: usize, sql: &str) -> Result<Vec<TextRow>, SandboxError> {
        let mut conn = self.admin(i).await?;
        let result = conn.query(sql).await.map_err(|e| self.sql_error(i, e));
        conn.close().await;
        result
    }

    /// SIGKILL server `i` and reap it: it is gone when this returns. Panics if there is no
    /// server `i`.
    pub fn kill(&self, i: usize) {
        self.server(i).process.kill();
    }

    /// SIGSTOP server `i`: it keeps its connections open but answers nothing (a hung server).
    pub fn pause(&self, i: usize) {
        self.server(i).process.signal(libc::SIGSTOP);
    }

    /// SIGCONT server `i` after `pause`.
    pub fn resume(&self, i: usize) {
        self.server(i).process.signal(libc::SIGCONT);
    }

    /// Starts server `i` again on its datadir and port, typically after `kill` (a running
    /// server is killed first). Replication settings persist in the datadir, so a replica
    /// resumes replicating by itself.
    pub async fn restart(&self, i: usize) -> Result<(), SandboxError> {
        server::restart(&self.runtime, self.get(i)?).await
    }

    /// The pid of server `i` while its process exists (running or paused).
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.server(i).process.pid()
    }

    fn get(&self, i: usize) -> Result<&SandboxServer, SandboxError> {
        self.servers.get(i).ok_or(SandboxError::NoSuchServer { index: i, count: self.servers.len() })
    }

    fn sql_error(&self, i: usize, source: MySqlError) -> SandboxError {
        SandboxError::Sql { server: self.servers[i].name.clone(), source }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Signal every server before reaping any, so they die in parallel.
        for s in &self.servers {
            s.process.signal(libc::SIGKILL);
        }
        for s in &self.servers {
            s.process.kill();
        }
    }
}
