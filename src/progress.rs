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
            Some(n) => ProgressBar::with_draw_target(Some(n), narrow_stderr()).with_style(
                ProgressStyle::with_template("{spinner} {pos}/{len} {msg} [{bar:30}] {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            ),
            None => ProgressBar::with_draw_target(None, narrow_stderr()).with_style(
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

/// Stderr, with two columns kept free at the right: the terminal echoes a
/// Ctrl-C as `^C` after the bar, and on a full-width bar that wraps to a
/// new line, leaving the bar above where the clearing no longer reaches.
fn narrow_stderr() -> ProgressDrawTarget {
    ProgressDrawTarget::term_like_with_hz(Box::new(Narrow(console::Term::buffered_stderr())), 20)
}

#[derive(Debug)]
struct Narrow(console::Term);

impl indicatif::TermLike for Narrow {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(3).max(10)
    }

    fn height(&self) -> u16 {
        self.0.size().0
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_up(n)
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_down(n)
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_right(n)
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_left(n)
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.0.write_line(s)
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.0.write_str(s)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.0.clear_line()
    }

    fn flush(&self) -> std::io::Result<()> {
        self.0.flush()
    }
}
