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
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{message}");
}
