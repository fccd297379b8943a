//! Files only the user may read: the private config dir, atomic 0600
//! writes, and the lock that keeps gbooks processes from writing at once.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use super::Error;

/// Creates the config dir, and any parent, private (0700). A directory
/// that exists keeps its mode: GBOOKS_CONFIG_DIR may be `/tmp`, or a
/// symlink to a directory whose mode its owner chose.
pub fn create_private_dir(dir: &Path) -> Result<(), Error> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))
}

/// Removes the temp files that an interrupted [`write_private`] of `to`
/// left behind. Only under the lock that the writers of `to` take.
pub fn remove_leftovers(dir: &Path, to: &Path) {
    let Some(name) = to.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let prefix = format!(".{name}.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        if file.starts_with(&prefix) && file.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A file gbooks keeps private that someone opened to group or others:
/// closed again to 0600, and `true` so the caller can say so.
#[cfg(unix)]
pub fn tighten(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o077 != 0 => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).is_ok()
        }
        _ => false,
    }
}

#[cfg(not(unix))]
pub fn tighten(_path: &Path) -> bool {
    false
}

/// Writes `to` atomically with mode 0600: a private temp file, then a rename,
/// so that a reader sees the old file or the new one and never half of one.
pub fn write_private(dir: &Path, to: &Path, bytes: &[u8]) -> Result<(), Error> {
    create_private_dir(dir)?;
    let name = to.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let fail = |e| Error::io(format!("cannot write {}", to.display()), e);
    // tempfile creates it 0600 and removes it if anything below fails.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(to).map_err(|e| fail(e.error))?;
    Ok(())
}

/// An exclusive lock between gbooks processes, held on a file in the config
/// dir. The OS releases it when the process dies, so a crash never wedges it.
pub struct FileLock {
    file: File,
}

impl FileLock {
    /// Waits (without blocking the runtime) until the lock on `path` is ours.
    pub async fn acquire(path: &Path, patience: Duration) -> Result<FileLock, Error> {
        if let Some(dir) = path.parent() {
            create_private_dir(dir)?;
        }
        let file = open(path)?;
        let deadline = Instant::now() + patience;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(FileLock { file }),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::Failed(format!(
                        "another gbooks holds {} for more than {} s",
                        path.display(),
                        patience.as_secs()
                    )))
                }
                Err(TryLockError::Error(e)) => {
                    return Err(Error::io(format!("cannot lock {}", path.display()), e))
                }
            }
        }
    }

    /// The same, for code that is already off the runtime.
    pub fn acquire_blocking(path: &Path) -> Result<FileLock, Error> {
        let file = open(path)?;
        file.lock()
            .map_err(|e| Error::io(format!("cannot lock {}", path.display()), e))?;
        Ok(FileLock { file })
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// A lock file: 0600, and never through a symlink, which could point the
/// open (and its create) at a file of someone else's choosing.
fn open(path: &Path) -> Result<std::fs::File, Error> {
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    let file = options
        .open(path)
        .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // One made by an older gbooks may be 0644.
        let _ = file.set_permissions(std::fs::Permissions::from_mode(0o600));
    }
    Ok(file)
}
