//! Progress for multi-page and batch work: on stderr, and only when stderr
//! is a terminal and `--quiet` is off, so it never mixes with data or logs.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar when the length is known, a counter otherwise.
    pub fn new(len: Option<u64>, what: &'static str) -> Progress {
        if crate::messages::is_quiet() || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = match len {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{spinner} {pos}/{len} {msg} [{bar:30}] {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{spinner} {pos} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.set_message(what);
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(bar))
    }

    pub fn hidden() -> Progress {
        Progress(None)
    }

    /// The words after the count, e.g. "ISBNs, 3 in flight, 4.1/s".
    pub fn set_message(&self, text: String) {
        if let Some(bar) = &self.0 {
            bar.set_message(text);
        }
    }

    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(n);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // Leave no bar behind: the data that follows starts on a clean line.
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
