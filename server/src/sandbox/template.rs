//! The template datadir: initialized once per machine, flavor, server version and recipe (the
//! initializer's arguments and the account statements), then copied for every server.
//!
//! Initializing takes 1-5 s; copying takes a fraction of that. A template is built in a private
//! directory and renamed into the cache in one step, so a reader sees a complete template or
//! none, and test processes racing to build the same one just waste a build (the first rename
//! wins). Within one process a lock avoids even that.

use super::error::{log_tail, SandboxError};
use super::flavor::Runtime;
use super::{process, reaper};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Where templates are cached: `$ORCH_SANDBOX_CACHE`, else /var/cache/orchestrator-sandbox if
/// writable, else `$TMPDIR/orchestrator-sandbox-cache`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ORCH_SANDBOX_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let system = Path::new("/var/cache/orchestrator-sandbox");
    if fs::create_dir_all(system).is_ok() && writable(system) {
        return system.to_path_buf();
    }
    std::env::temp_dir().join("orchestrator-sandbox-cache")
}

fn writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else { return false };
    // SAFETY: access(2) with a valid NUL-terminated path.
    unsafe { libc::access(path.as_ptr(), libc::W_OK) == 0 }
}

/// The cache key: flavor, version, and a hash of everything that shapes the template's content.
fn key(rt: &Runtime) -> String {
    let cmd = rt.init_command(Path::new("/d"), Path::new("/s"), Path::new("/l"));
    let mut recipe = format!("{:?}", cmd.get_program());
    for arg in cmd.get_args() {
        recipe.push_str(&format!(" {arg:?}"));
    }
    recipe.push_str(&rt.setup_sql());
    let version: String =
        rt.version.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect();
    // 8 hex digits: never taken for a reaper-managed `<label>-<pid>-<6 hex>` name.
    format!("{}-{version}-{:08x}", rt.flavor.name(), fnv1a(recipe.as_bytes()) as u32)
}

/// A hash that stays the same across Rust releases (std's `DefaultHasher` may not).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// The template datadir for `rt`, built first if needed.
pub(crate) async fn ensure(rt: &Runtime) -> Result<PathBuf, SandboxError> {
    static BUILD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let templates = cache_dir().join("templates");
    let key = key(rt);
    let done = templates.join(&key);
    if done.join("data").is_dir() {
        return Ok(done.join("data"));
    }
    let _one_builder = BUILD.lock().await;
    if done.join("data").is_dir() {
        return Ok(done.join("data"));
    }
    fs::create_dir_all(&templates).map_err(|e| SandboxError::io("create", &templates, e))?;
    reaper::reap_stale(&templates);
    let started = Instant::now();
    let build = reaper::claim_dir(&rt.base_dir(), "build")
        .map_err(|e| SandboxError::io("create a directory in", rt.base_dir(), e))?;
    let build = reaper::OwnedDir(build);
    build_and_publish(rt, &build.0, &templates, &key).await?;
    tracing::info!(template = %done.display(), elapsed = ?started.elapsed(), "built a sandbox template datadir");
    Ok(done.join("data"))
}

async fn build_and_publish(rt: &Runtime, build: &Path, templates: &Path, key: &str) -> Result<(), SandboxError> {
    let data = build.join("data");
    let sql = build.join("setup.sql");
    let console = build.join("init.log");
    let error_log = build.join("error.log");
    fs::write(&sql, rt.setup_sql()).map_err(|e| SandboxError::io("write", &sql, e))?;
    let out = fs::File::create(&console).map_err(|e| SandboxError::io("create", &console, e))?;
    let err = out.try_clone().map_err(|e| SandboxError::io("open", &console, e))?;
    let mut cmd = rt.init_command(&data, &sql, &error_log);
    cmd.stdout(Stdio::from(out)).stderr(Stdio::from(err));
    let failed = |reason: String| {
        let log = if error_log.exists() { &error_log } else { &console };
        // The build directory is removed on return: keep its log where the message points.
        let kept = templates.join(format!("{key}.failed.log"));
        let log = if fs::copy(log, &kept).is_ok() { kept } else { log.clone() };
        SandboxError::Template { flavor: rt.flavor.name().into(), reason, tail: log_tail(&log, 6), log }
    };
    match process::run(cmd, rt.root.as_deref(), Duration::from_secs(300)).await {
        Ok(status) if status.success() => {}
        Ok(status) => return Err(failed(format!("the initializer exited with {status}"))),
        Err(e) => return Err(failed(format!("cannot run the initializer: {e}"))),
    }
    if !data.join("mysql").is_dir() {
        return Err(failed("the initializer left no mysql schema".into()));
    }
    // Every copy must generate its own server_uuid at first start.
    let _ = fs::remove_file(data.join("auto.cnf"));

    let staging = reaper::claim_dir(templates, &format!("{key}.tmp"))
        .map_err(|e| SandboxError::io("create a directory in", templates, e))?;
    let publish = move_dir(&data, &staging.join("data")).and_then(|()| fs::rename(&staging, templates.join(key)));
    if let Err(e) = publish {
        let _ = fs::remove_dir_all(&staging);
        // Another process published the same template first: use theirs.
        if !templates.join(key).join("data").is_dir() {
            return Err(SandboxError::io("publish the template into", templates, e));
        }
    }
    Ok(())
}

/// Renames `from` to `to`, or copies it when they are on different file systems.
fn move_dir(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => copy_dir(from, to),
        other => other,
    }
}

/// Copies a datadir (regular files and directories; a datadir holds nothing else worth copying).
/// `fs::copy` uses copy_file_range, so the kernel copies (or reflinks) without a round trip
/// through user space.
pub(crate) fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn copy_dir_copies_nested_files() {
        let src = tempfile::tempdir().unwrap();
        fs::create_dir(src.path().join("mysql")).unwrap();
        fs::write(src.path().join("mysql/user.ibd"), b"x").unwrap();
        fs::write(src.path().join("ibdata1"), b"y").unwrap();
        let dst = tempfile::tempdir().unwrap();
        copy_dir(src.path(), &dst.path().join("data")).unwrap();
        assert_eq!(fs::read(dst.path().join("data/mysql/user.ibd")).unwrap(), b"x");
        assert_eq!(fs::read(dst.path().join("data/ibdata1")).unwrap(), b"y");
    }
}
