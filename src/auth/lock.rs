//! An exclusive lock between gbooks processes, held on a file in the config
//! dir. The OS releases it when the process dies, so a crash never wedges it.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use super::Error;

pub struct FileLock {
    file: File,
}

impl FileLock {
    /// Waits (without blocking the runtime) until the lock on `path` is ours.
    pub async fn acquire(path: &Path, patience: Duration) -> Result<FileLock, Error> {
        if let Some(dir) = path.parent() {
            super::store::create_private_dir(dir)?;
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

fn open(path: &Path) -> Result<std::fs::File, Error> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))
}
