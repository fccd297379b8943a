//! Lines for the person at the terminal, on stderr: notes, warnings and
//! questions. Data never goes here, and `--quiet` silences all but `tell`.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: only data and errors are printed.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A line the user needs even with `--quiet` (what to do next, a prompt's
/// question); a closed stderr is not an error.
pub fn tell(message: &str) {
    let message = crate::secret::scrub(message);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{message}");
}

/// A warning: on stderr, prefixed, and silenced by `--quiet`.
pub fn warn(message: &str) {
    status(&format!("gbooks: warning: {message}"));
}

/// A note: stderr, never stdout, and nothing with `--quiet`.
pub fn status(message: &str) {
    if is_quiet() {
        return;
    }
    let message = crate::secret::scrub(message);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{message}");
}

/// The stderr writer of `-v`/`-vv` logs: each event is held whole and
/// scrubbed of secrets before it is written.
pub struct LogLine(Vec<u8>);

impl LogLine {
    pub fn new() -> LogLine {
        LogLine(Vec::new())
    }
}

impl Default for LogLine {
    fn default() -> Self {
        LogLine::new()
    }
}

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let text = crate::secret::scrub(&text);
        // A closed stderr is not an error.
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}
