//! Child processes that cannot outlive the test or demo that started them.
//!
//! Every server process is forked from one dedicated thread that lives as long as the process.
//! Linux delivers `PR_SET_PDEATHSIG` when the *thread* that forked a child exits, not the
//! process: a child forked from a tokio blocking-pool thread (retired after 10 s idle) or from a
//! short-lived test thread would be killed early. Forking from a thread that never exits makes
//! the signal mean "the owning process died", whichever thread or runtime asked for the spawn.
//! `Drop` covers orderly endings (including panics); the death signal covers SIGKILL of the
//! owner; the stale-directory reaper (`reaper.rs`) covers whatever slipped through both.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send>;

fn spawner() -> &'static Mutex<mpsc::Sender<Job>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sandbox-spawner".into())
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .expect("cannot start the sandbox spawner thread");
        Mutex::new(tx)
    })
}

/// Starts `cmd` so that it dies with this process: from the spawner thread, with
/// `PR_SET_PDEATHSIG=SIGKILL`, in its own process group (a terminal's Ctrl-C goes to the owner,
/// which then tears the servers down itself), with a clean environment, and optionally chrooted
/// into `root` (the program path is then resolved inside `root`).
pub(crate) async fn spawn(mut cmd: Command, root: Option<&Path>) -> io::Result<Child> {
    let root = match root {
        Some(r) => Some(CString::new(r.as_os_str().as_bytes()).map_err(|_| io::Error::other("NUL in root path"))?),
        None => None,
    };
    let parent = std::process::id() as libc::pid_t;
    cmd.env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").stdin(Stdio::null()).process_group(0);
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe system
    // calls; it allocates nothing (errors come from raw OS codes).
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The owner may have died between fork and prctl; then nobody would send the signal.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            if let Some(root) = &root {
                if libc::chroot(root.as_ptr()) != 0 || libc::chdir(c"/".as_ptr()) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(cmd.spawn());
    });
    spawner()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send(job)
        .map_err(|_| io::Error::other("the sandbox spawner thread is gone"))?;
    rx.await.map_err(|_| io::Error::other("the sandbox spawner thread dropped a request"))?
}

/// Runs `cmd` to completion (see `spawn`), killing it after `timeout`.
pub(crate) async fn run(cmd: Command, root: Option<&Path>, timeout: Duration) -> io::Result<ExitStatus> {
    let process = Process::new(spawn(cmd, root).await?);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(status) = process.exit_status() {
            return Ok(status);
        }
        if tokio::time::Instant::now() >= deadline {
            process.kill();
            return Err(io::Error::new(io::ErrorKind::TimedOut, format!("still running after {timeout:?}")));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A running child, killed and reaped when dropped.
///
/// The `Child` is kept until the process has been reaped, so its pid cannot be reused by an
/// unrelated process while signals may still be sent to it.
#[derive(Debug)]
pub(crate) struct Process {
    child: Mutex<Option<Child>>,
    status: Mutex<Option<ExitStatus>>,
}

impl Process {
    pub(crate) fn new(child: Child) -> Process {
        Process { child: Mutex::new(Some(child)), status: Mutex::new(None) }
    }

    /// The pid while the process runs (or is stopped); `None` once it has exited.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.refresh();
        self.child.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(Child::id)
    }

    /// How the process ended, once it has.
    pub(crate) fn exit_status(&self) -> Option<ExitStatus> {
        self.refresh();
        *self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends `signal` unless the process has been reaped already.
    pub(crate) fn signal(&self, signal: libc::c_int) {
        if let Some(child) = self.child.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            // SAFETY: plain kill(2); the pid is our unreaped child, so it cannot have been reused.
            unsafe {
                libc::kill(child.id() as libc::pid_t, signal);
            }
        }
    }

    /// SIGKILL and reap: when this returns the process is gone and its pid free.
    pub(crate) fn kill(&self) {
        let taken = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut child) = taken {
            // SIGKILL also ends a SIGSTOPped process; wait() then returns within milliseconds.
            let _ = child.kill();
            if let Ok(status) = child.wait() {
                *self.status.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
            }
        }
    }

    /// Takes over `other`'s child (a restarted server), this one having been reaped.
    pub(crate) fn replace(&self, other: Process) {
        self.kill();
        let child = other.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        *self.child.lock().unwrap_or_else(|e| e.into_inner()) = child;
        *self.status.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Reaps the process if it has exited on its own.
    fn refresh(&self) {
        let mut guard = self.child.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(child) = guard.as_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                *self.status.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
                *guard = None;
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}
