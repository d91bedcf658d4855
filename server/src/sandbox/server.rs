//! One server: its directory, port, process, and the wait until it accepts connections.
//!
//! A server's directory (`<sandbox>/mysqlN/`) holds `data/` (a copy of the template), `tmp/`,
//! `my.cnf`, `error.log`, `console.log` (anything printed before the error log opens), the
//! socket, mysqld's pid file, and `process.pid` for the stale-directory reaper.

use super::error::{log_tail, SandboxError};
use super::flavor::Runtime;
use super::process::{self, Process};
use super::{reaper, template, ADMIN_PASSWORD, ADMIN_USER};
use crate::mysql::{ConnectSpec, TextConn};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// How long a server may take to accept connections (crash recovery after a kill included).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// A free port may be taken by another process before the server binds it; then try another.
const PORT_ATTEMPTS: usize = 5;

/// One server of a sandbox.
#[derive(Debug)]
pub struct SandboxServer {
    /// `mysql1`, `mysql2`, ...
    pub name: String,
    pub port: u16,
    /// 1, 2, ... (position in the sandbox plus one).
    pub server_id: u32,
    pub(crate) dir: PathBuf,
    pub(crate) process: Process,
}

impl SandboxServer {
    /// Always 127.0.0.1: servers listen on loopback only.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// The server's directory (datadir, option file, logs), as seen from this process.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn error_log(&self) -> PathBuf {
        self.dir.join("error.log")
    }

    /// A connection description for any account on this server.
    pub fn connect_spec(&self, user: &str, password: &str) -> ConnectSpec {
        ConnectSpec {
            host: self.host().to_string(),
            port: self.port,
            user: user.to_string(),
            password: crate::config::Secret::new(password),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(30),
        }
    }
}

/// Why one start attempt failed.
enum Failure {
    /// Another process owns the port: retry on a new one.
    PortTaken,
    Fatal(SandboxError),
}

/// Creates server `index` of the sandbox in `sandbox_dir` from `template` and starts it on a
/// free port.
pub(crate) async fn launch(
    rt: &Runtime,
    template: &Path,
    sandbox_dir: &Path,
    index: usize,
    gtid: bool,
) -> Result<SandboxServer, SandboxError> {
    let name = format!("mysql{}", index + 1);
    let server_id = index as u32 + 1;
    let dir = sandbox_dir.join(&name);
    for _ in 0..PORT_ATTEMPTS {
        let port = free_port()?;
        // A fresh copy per attempt: a server that failed to bind may have written to its datadir.
        let (from, to) = (template.to_path_buf(), dir.clone());
        tokio::task::spawn_blocking(move || {
            let _ = fs::remove_dir_all(&to);
            fs::create_dir(&to)?;
            fs::create_dir(to.join("tmp"))?;
            template::copy_dir(&from, &to.join("data"))
        })
        .await
        .map_err(|e| SandboxError::io("copy the template into", &dir, std::io::Error::other(e)))?
        .map_err(|e| SandboxError::io("copy the template into", &dir, e))?;
        let cnf = dir.join("my.cnf");
        fs::write(&cnf, rt.server_config(&dir, port, server_id, gtid))
            .map_err(|e| SandboxError::io("write", &cnf, e))?;
        let logs = LogMark::new(&dir);
        let process = spawn(rt, &dir).await?;
        match wait_ready(&name, &dir, port, &process, &logs).await {
            Ok(()) => return Ok(SandboxServer { name, port, server_id, dir, process }),
            Err(Failure::PortTaken) => {
                tracing::debug!(server = %name, port, "port taken before the server bound it; trying another");
                process.kill();
            }
            Err(Failure::Fatal(e)) => return Err(e),
        }
    }
    Err(start_error(
        &name,
        &dir,
        format!("every one of {PORT_ATTEMPTS} free ports was taken before the server could bind it"),
    ))
}

/// Starts `server` again on its datadir and port (after `kill`).
pub(crate) async fn restart(rt: &Runtime, server: &SandboxServer) -> Result<(), SandboxError> {
    server.process.kill();
    let logs = LogMark::new(&server.dir);
    let process = spawn(rt, &server.dir).await?;
    match wait_ready(&server.name, &server.dir, server.port, &process, &logs).await {
        Ok(()) => {
            // Moving the new child in place of the reaped one keeps `server` usable through &self.
            server.process.replace(process);
            Ok(())
        }
        Err(Failure::PortTaken) => Err(start_error(
            &server.name,
            &server.dir,
            format!("port {} was taken by another process while the server was down", server.port),
        )),
        Err(Failure::Fatal(e)) => Err(e),
    }
}

async fn spawn(rt: &Runtime, dir: &Path) -> Result<Process, SandboxError> {
    let console = dir.join("console.log");
    let out = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&console)
        .map_err(|e| SandboxError::io("open", &console, e))?;
    let err = out.try_clone().map_err(|e| SandboxError::io("open", &console, e))?;
    let mut cmd = rt.server_command(dir);
    cmd.stdout(Stdio::from(out)).stderr(Stdio::from(err));
    let child =
        process::spawn(cmd, rt.root.as_deref()).await.map_err(|e| SandboxError::io("start a server in", dir, e))?;
    let process = Process::new(child);
    if let Some(pid) = process.pid() {
        reaper::record_pid(dir, pid).map_err(|e| SandboxError::io("write the pid file in", dir, e))?;
    }
    Ok(process)
}

/// Polls until the server accepts an admin connection and proves to be ours (its datadir is
/// the one we gave it: another sandbox's server may own the port).
async fn wait_ready(name: &str, dir: &Path, port: u16, process: &Process, logs: &LogMark) -> Result<(), Failure> {
    let spec = ConnectSpec {
        host: "127.0.0.1".into(),
        port,
        user: ADMIN_USER.into(),
        password: crate::config::Secret::new(ADMIN_PASSWORD),
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(10),
    };
    // Compared by its unique tail (`sb-<pid>-<random>/mysqlN/data`): the server reports a
    // resolved path, and the temporary directory may be behind a symlink.
    let unique_tail: PathBuf =
        dir.iter().rev().take(2).collect::<Vec<_>>().into_iter().rev().collect::<PathBuf>().join("data");
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = process.exit_status() {
            if logs.new_text().contains("Address already in use") {
                return Err(Failure::PortTaken);
            }
            return Err(Failure::Fatal(start_error(name, dir, format!("the server exited with {status}"))));
        }
        let last_error = match TextConn::connect(&spec).await {
            Ok(mut conn) => {
                let datadir = conn
                    .query("SELECT @@datadir")
                    .await
                    .ok()
                    .and_then(|rows| rows.first().map(|r| r.text(&["@@datadir"])));
                conn.close().await;
                match datadir {
                    Some(d) if Path::new(d.trim_end_matches('/')).ends_with(&unique_tail) => return Ok(()),
                    Some(_) => return Err(Failure::PortTaken),
                    None => "connected, but SELECT @@datadir failed".to_string(),
                }
            }
            Err(e) => e.to_string(),
        };
        if tokio::time::Instant::now() >= deadline {
            return Err(Failure::Fatal(start_error(
                name,
                dir,
                format!("not accepting connections after {}s (last: {last_error})", START_TIMEOUT.as_secs()),
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The ends of a server's logs before a start, so that only this start's messages are judged
/// (the logs of a restarted server hold those of earlier runs).
struct LogMark {
    files: Vec<(PathBuf, u64)>,
}

impl LogMark {
    fn new(dir: &Path) -> LogMark {
        let files = ["error.log", "console.log"]
            .iter()
            .map(|f| dir.join(f))
            .map(|p| {
                let len = fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                (p, len)
            })
            .collect();
        LogMark { files }
    }

    fn new_text(&self) -> String {
        let mut text = String::new();
        for (path, start) in &self.files {
            if let Ok(bytes) = fs::read(path) {
                text.push_str(&String::from_utf8_lossy(bytes.get(*start as usize..).unwrap_or_default()));
            }
        }
        text
    }
}

fn start_error(name: &str, dir: &Path, reason: String) -> SandboxError {
    let log = dir.join("error.log");
    let log = if log.exists() { log } else { dir.join("console.log") };
    SandboxError::Start { server: name.to_string(), reason, tail: log_tail(&log, 8), log }
}

/// A port nobody listens on right now. It is released before the server binds it, so another
/// process may take it first: `launch` retries on a new one.
fn free_port() -> Result<u16, SandboxError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| SandboxError::io("bind", "127.0.0.1:0", e))
}
