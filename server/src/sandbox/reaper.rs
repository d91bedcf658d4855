//! Directories owned by one process, and the cleanup of those whose owner died.
//!
//! Every directory the harness creates is named `<label>-<owner pid>-<random>` and holds an
//! `owner` file with the owner's pid and kernel start time (pids are reused; the pair is not).
//! The pid in the name lets a directory be judged before its `owner` file is written, so a
//! directory being created by a live process is never taken for a stale one. Processes started
//! for a directory record their pid in a `process.pid` file inside it (or in a subdirectory).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

const OWNER_FILE: &str = "owner";
const PID_FILE: &str = "process.pid";

/// Creates `<base>/<label>-<pid>-<random>` with its `owner` file.
pub(crate) fn claim_dir(base: &Path, label: &str) -> io::Result<PathBuf> {
    fs::create_dir_all(base)?;
    let me = std::process::id();
    let stamp = start_time(me).unwrap_or_default();
    loop {
        let dir = base.join(format!("{label}-{me}-{:06x}", rand::random::<u32>() & 0xff_ffff));
        match fs::create_dir(&dir) {
            Ok(()) => {
                // Written aside and renamed, so a reaper never reads a half-written file.
                let partial = dir.join(format!("{OWNER_FILE}.partial"));
                fs::write(&partial, format!("{me} {stamp}\n"))?;
                fs::rename(&partial, dir.join(OWNER_FILE))?;
                return Ok(dir);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A directory removed when dropped (also when the future that made it is cancelled).
pub(crate) struct OwnedDir(pub(crate) PathBuf);

impl Drop for OwnedDir {
    fn drop(&mut self) {
        if let Err(e) = fs::remove_dir_all(&self.0) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::warn!(dir = %self.0.display(), error = %e, "cannot remove a sandbox directory");
            }
        }
    }
}

/// Records the pid of a process started for `dir`, for a later reaper.
pub(crate) fn record_pid(dir: &Path, pid: u32) -> io::Result<()> {
    fs::write(dir.join(PID_FILE), format!("{pid}\n"))
}

/// Kills the processes of, and removes, every directory in `base` whose owner is dead.
/// Directories whose name does not follow `claim_dir`'s pattern are left alone.
pub(crate) fn reap_stale(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(owner) = owner_pid(&name) else { continue };
        let dir = entry.path();
        if owner_alive(&dir, owner) {
            continue;
        }
        tracing::info!(dir = %dir.display(), owner, "removing a sandbox directory left by a dead process");
        kill_processes_of(&dir, &name);
        if let Err(e) = fs::remove_dir_all(&dir) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot remove a stale sandbox directory");
        }
    }
}

/// The owner pid in a name made by `claim_dir`: `<label>-<pid>-<6 hex digits>`.
fn owner_pid(name: &str) -> Option<u32> {
    let mut parts = name.rsplitn(3, '-');
    let random = parts.next()?;
    let pid = parts.next()?;
    let label = parts.next()?;
    let ok = !label.is_empty() && random.len() == 6 && random.chars().all(|c| c.is_ascii_hexdigit());
    ok.then(|| pid.parse().ok()).flatten()
}

fn owner_alive(dir: &Path, pid: u32) -> bool {
    let Some(now) = start_time(pid) else { return false };
    match fs::read_to_string(dir.join(OWNER_FILE)) {
        // Empty: written by an older harness that wrote in place, and being written right now.
        Ok(text) if text.trim().is_empty() => true,
        Ok(text) => {
            let mut fields = text.split_whitespace();
            fields.next() == Some(&pid.to_string()) && fields.next().is_none_or(|t| t == now)
        }
        // Not written yet: the live owner is still creating the directory.
        Err(_) => true,
    }
}

/// The kernel start time of `pid` (field 22 of /proc/PID/stat), or `None` if it does not exist.
fn start_time(pid: u32) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19).map(str::to_string)
}

/// SIGKILLs the processes recorded in `dir`, then any other process whose command line names
/// the directory (a server started by a script, such as mariadb-install-db's bootstrap server).
/// A pid is only signalled if its command line mentions `unique`, so a reused pid is spared.
fn kill_processes_of(dir: &Path, unique: &str) {
    let mut pids: Vec<u32> = Vec::new();
    let mut pid_files = vec![dir.join(PID_FILE)];
    if let Ok(entries) = fs::read_dir(dir) {
        pid_files.extend(entries.flatten().map(|e| e.path().join(PID_FILE)));
    }
    for file in pid_files {
        if let Some(pid) = fs::read_to_string(&file).ok().and_then(|t| t.trim().parse().ok()) {
            pids.push(pid);
        }
    }
    if let Ok(entries) = fs::read_dir("/proc") {
        pids.extend(entries.flatten().filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok()));
    }
    pids.sort_unstable();
    pids.dedup();
    for pid in pids {
        let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else { continue };
        if String::from_utf8_lossy(&cmdline).contains(unique) {
            // SAFETY: plain kill(2) of a process verified to belong to the stale directory.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_pid_is_read_from_claimed_names_only() {
        assert_eq!(owner_pid("sb-1234-a1b2c3"), Some(1234));
        assert_eq!(owner_pid("mariadb-10.11.19-1f2e3d4c.tmp-77-00ff00"), Some(77));
        assert_eq!(owner_pid("templates"), None);
        assert_eq!(owner_pid("sb-x-a1b2c3"), None);
        assert_eq!(owner_pid("sb-12-zzzzzz"), None);
        assert_eq!(owner_pid("-12-a1b2c3"), None);
    }

    #[test]
    fn a_directory_of_a_dead_owner_is_removed_and_a_live_one_kept() {
        let base = tempfile::tempdir().unwrap();
        let mine = claim_dir(base.path(), "sb").unwrap();
        // pid_max is at most 2^22, so this pid cannot exist.
        let dead = base.path().join("sb-99999999-abcdef");
        fs::create_dir(&dead).unwrap();
        fs::write(dead.join(OWNER_FILE), "99999999 1\n").unwrap();
        // Our own pid with another start time: a previous process that had our pid.
        let reused = base.path().join(format!("sb-{}-fedcba", std::process::id()));
        fs::create_dir(&reused).unwrap();
        fs::write(reused.join(OWNER_FILE), format!("{} 1\n", std::process::id())).unwrap();
        // Ours, its owner file caught while being written (empty): a live directory.
        let writing = base.path().join(format!("sb-{}-0a0b0c", std::process::id()));
        fs::create_dir(&writing).unwrap();
        fs::write(writing.join(OWNER_FILE), "").unwrap();
        let foreign = base.path().join("unrelated");
        fs::create_dir(&foreign).unwrap();
        reap_stale(base.path());
        assert!(mine.exists());
        assert!(writing.exists(), "a half-written owner file is not a dead owner");
        assert!(!dead.exists());
        assert!(!reused.exists());
        assert!(foreign.exists());
    }
}
