//! Long output through a pager, as git and gh do it.
//!
//! git and gh start the pager whenever stdout is a terminal and leave short
//! output to `less -F`. Here output is held until it is longer than the
//! screen and the pager starts only then: a `$PAGER` without `-F` (`more`,
//! `most`, `less` with the user's own `$LESS`) would otherwise page one line,
//! and short output needs no process at all.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};

use unicode_width::UnicodeWidthChar;

/// The pager when none is configured.
pub const DEFAULT: &str = "less -FRX";

/// Held output that may not yet show a line (one huge line of marks).
const MAX_HELD: usize = 1 << 20;

/// The pager command to use, or `None` for none; precedence as git's:
/// `--no-pager`, then `$GBOOKS_PAGER`, then the config's `pager`, then
/// `$PAGER`, then [`DEFAULT`]. An empty value or `cat` means no pager.
pub fn choose(
    no_pager: bool,
    gbooks_pager: Option<&str>,
    config: Option<&str>,
    pager: Option<&str>,
) -> Option<String> {
    if no_pager {
        return None;
    }
    let command = gbooks_pager.or(config).or(pager).unwrap_or(DEFAULT).trim();
    (!command.is_empty() && command != "cat").then(|| command.to_string())
}

/// How paged output ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Everything reached the screen or the pager.
    Shown,
    /// The pager was closed before it read everything (`q` in `less`):
    /// not an error, the user has seen enough.
    Quit,
    /// The shell could not run the pager (exit 126 or 127): the output is lost.
    NotRun(ExitStatus),
}

/// A running pager; what is written to it is what it shows.
///
/// Dropping it closes its input and waits for it, so the shell prompt does
/// not come back while the pager still holds the terminal.
pub struct Pager {
    child: Child,
    stdin: Option<ChildStdin>,
    quit: bool,
}

impl Pager {
    /// Starts `command` through `sh -c` (so `less -FRX` and quoted commands
    /// work) with its input a pipe and its output our stdout; `None` when it
    /// cannot start. A plain first word is looked up on `$PATH` first: the
    /// shell would start anyway and lose the output.
    pub fn start(command: &str) -> Option<Pager> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        if !runnable(command, &path) {
            return None;
        }
        let less = std::env::var_os("LESS");
        let lv = std::env::var_os("LV");
        let mut child = build(command, less.is_some(), lv.is_some())
            .stdin(Stdio::piped())
            .spawn()
            .ok()?;
        let stdin = child.stdin.take();
        Some(Pager {
            child,
            stdin,
            quit: false,
        })
    }

    /// Closes the pager's input and waits for the user to leave it.
    pub fn finish(mut self) -> io::Result<Ended> {
        let flushed = self.stdin.as_mut().map_or(Ok(()), Write::flush);
        self.note(&flushed);
        drop(self.stdin.take());
        let status = self.child.wait()?;
        Ok(match status.code() {
            Some(126 | 127) => Ended::NotRun(status),
            _ if self.quit => Ended::Quit,
            _ => Ended::Shown,
        })
    }

    fn note<T>(&mut self, result: &io::Result<T>) {
        if result
            .as_ref()
            .is_err_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
        {
            self.quit = true;
        }
    }
}

/// Writes fail with `BrokenPipe` once the pager has quit, so the caller
/// stops producing output (and `error::is_broken_pipe` makes that exit 0).
impl Write for Pager {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = match self.stdin.as_mut() {
            Some(stdin) => stdin.write(buf),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        };
        self.note(&result);
        result
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.stdin.as_mut().map_or(Ok(()), Write::flush);
        self.note(&result);
        result
    }
}

impl Drop for Pager {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// The pager's command line, with `LESS=FRX` and `LV=-c` (colour through
/// `less` and `lv`) unless the user set their own, as git does.
fn build(command: &str, less_set: bool, lv_set: bool) -> Command {
    let mut cmd = shell(command);
    if !less_set {
        cmd.env("LESS", "FRX");
    }
    if !lv_set {
        cmd.env("LV", "-c");
    }
    cmd
}

#[cfg(unix)]
fn shell(command: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(command);
    cmd
}

/// No `sh` to rely on: words split at spaces, no quoting.
#[cfg(not(unix))]
fn shell(command: &str) -> Command {
    let mut words = command.split_whitespace();
    let mut cmd = Command::new(words.next().unwrap_or_default());
    cmd.args(words);
    cmd
}

/// Whether `command`'s program exists; anything the shell would expand or
/// interpret first is left to the shell.
fn runnable(command: &str, path: &OsString) -> bool {
    let Some(program) = command.split_whitespace().next() else {
        return false;
    };
    if program.contains(|c: char| "'\"\\$`=(){}|&;<>*?[]~!#".contains(c)) {
        return true;
    }
    if program.contains('/') {
        return is_program(Path::new(program));
    }
    if !cfg!(unix) {
        // Spawning reports a missing program itself.
        return true;
    }
    std::env::split_paths(path).any(|dir| is_program(&dir.join(program)))
}

#[cfg(unix)]
fn is_program(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_program(path: &Path) -> bool {
    path.is_file()
}

/// The terminal stdout writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    pub rows: usize,
    pub cols: usize,
}

/// Stdout on a terminal: output is held until it needs more rows than the
/// screen has (less one for the prompt), then goes through the pager; if it
/// never does, or the pager cannot start, it goes to `direct` as it is.
///
/// Held output is not flushed: a slow stream shows once a screenful has
/// arrived or it ends.
pub struct PagedOutput<W: Write> {
    state: State<W>,
}

enum State<W: Write> {
    Holding {
        direct: W,
        command: String,
        screen: Screen,
        held: Vec<u8>,
        /// Rows taken by the complete lines in `held[..counted]`.
        rows: usize,
        counted: usize,
    },
    Paging(Pager),
    Direct(W),
    /// Between states, while one is being replaced.
    Gone,
}

impl<W: Write> PagedOutput<W> {
    /// `command` from [`choose`]; `None` writes straight to `direct`.
    pub fn new(direct: W, command: Option<String>, screen: Screen) -> PagedOutput<W> {
        let state = match command {
            Some(command) => State::Holding {
                direct,
                command,
                screen,
                held: Vec::new(),
                rows: 0,
                counted: 0,
            },
            None => State::Direct(direct),
        };
        PagedOutput { state }
    }

    /// [`PagedOutput::finish`] through a reference; writes fail afterwards.
    pub fn close(&mut self) -> io::Result<Ended> {
        let this = PagedOutput {
            state: std::mem::replace(&mut self.state, State::Gone),
        };
        this.finish()
    }

    /// Writes what is held, closes the pager's input and waits for it.
    pub fn finish(mut self) -> io::Result<Ended> {
        match std::mem::replace(&mut self.state, State::Gone) {
            State::Holding { mut direct, held, .. } => {
                direct.write_all(&held)?;
                direct.flush()?;
                Ok(Ended::Shown)
            }
            State::Direct(mut direct) => {
                direct.flush()?;
                Ok(Ended::Shown)
            }
            State::Paging(pager) => pager.finish(),
            State::Gone => Ok(Ended::Shown),
        }
    }

    /// Starts the pager if the held output no longer fits the screen.
    fn overflow(&mut self) -> io::Result<()> {
        let State::Holding {
            screen,
            held,
            rows,
            counted,
            ..
        } = &mut self.state
        else {
            return Ok(());
        };
        let fresh = held.get(*counted..).unwrap_or_default();
        if let Some(last) = fresh.iter().rposition(|&b| b == b'\n') {
            *rows += rows_for(&fresh[..=last], screen.cols);
            *counted += last + 1;
        }
        let partial = rows_for(held.get(*counted..).unwrap_or_default(), screen.cols);
        let fits = *rows + partial < screen.rows && held.len() <= MAX_HELD;
        if fits {
            return Ok(());
        }
        let State::Holding {
            direct,
            command,
            held,
            ..
        } = std::mem::replace(&mut self.state, State::Gone)
        else {
            return Ok(());
        };
        self.state = match Pager::start(&command) {
            Some(pager) => State::Paging(pager),
            None => State::Direct(direct),
        };
        self.write_all(&held)
    }
}

impl<W: Write> Write for PagedOutput<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.state {
            State::Holding { held, .. } => {
                held.extend_from_slice(buf);
                self.overflow()?;
                Ok(buf.len())
            }
            State::Paging(pager) => pager.write(buf),
            State::Direct(direct) => direct.write(buf),
            State::Gone => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Holding { .. } | State::Gone => Ok(()),
            State::Paging(pager) => pager.flush(),
            State::Direct(direct) => direct.flush(),
        }
    }
}

/// Terminal rows `text` takes at `cols` columns: each line at least one,
/// long lines wrapped, colour sequences taking no room. Cells per code
/// point, as `output::width` counts them but for its emoji extras, which
/// only decide a page sooner or later; this module stays a leaf.
fn rows_for(text: &[u8], cols: usize) -> usize {
    let text = String::from_utf8_lossy(text);
    let cols = cols.max(1);
    text.split_inclusive('\n')
        .map(|line| {
            let line = strip_csi(line.trim_end_matches('\n'));
            let cells: usize = line.chars().map(|c| c.width().unwrap_or(0)).sum();
            cells.div_ceil(cols).max(1)
        })
        .sum()
}

/// `text` without ANSI CSI sequences (`ESC [ … final`).
fn strip_csi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.clone().next() == Some('[') {
            chars.next();
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    /// A pager that records its arguments, `$LESS`, `$LV` and input.
    fn fake_pager() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = dir.path().join("fake pager");
        let body = format!(
            "#!/bin/sh\nd='{}'\nprintf '%s\\n' \"$@\" > \"$d/args\"\nprintf '%s' \"${{LESS-unset}}\" > \"$d/less\"\nprintf '%s' \"${{LV-unset}}\" > \"$d/lv\"\ncat > \"$d/input\"\n",
            dir.path().display()
        );
        fs::write(&script, body).expect("write script");
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
        (dir, script)
    }

    fn read(dir: &tempfile::TempDir, name: &str) -> String {
        fs::read_to_string(dir.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn quoted(path: &Path) -> String {
        format!("'{}'", path.display())
    }

    #[test]
    fn the_pager_gets_arguments_and_input() {
        let (dir, script) = fake_pager();
        let mut pager = Pager::start(&format!("{} -R 'two words'", quoted(&script))).expect("starts");
        pager.write_all(b"line one\nline two\n").expect("write");
        assert_eq!(pager.finish().expect("finish"), Ended::Shown);
        assert_eq!(read(&dir, "args"), "-R\ntwo words\n");
        assert_eq!(read(&dir, "input"), "line one\nline two\n");
    }

    #[test]
    fn less_and_lv_get_colour_unless_set() {
        let (dir, script) = fake_pager();
        let run = |user_set| {
            let mut cmd = build(&quoted(&script), user_set, user_set);
            if user_set {
                // What the user's environment would pass down.
                cmd.env("LESS", "user").env_remove("LV");
            }
            let mut child = cmd.stdin(Stdio::null()).spawn().expect("spawn");
            assert!(child.wait().expect("wait").success());
            (read(&dir, "less"), read(&dir, "lv"))
        };
        assert_eq!(run(false), ("FRX".into(), "-c".into()));
        assert_eq!(run(true), ("user".into(), "unset".into()), "the user's stand");
    }

    #[test]
    fn quitting_early_is_quiet() {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("out");
        let mut pager = Pager::start(&format!("head -c 10 > {}", quoted(&out))).expect("starts");
        let chunk = [b'x'; 8192];
        let error = (0..1000)
            .find_map(|_| pager.write_all(&chunk).err())
            .expect("a write fails once head has quit");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(pager.finish().expect("finish"), Ended::Quit);
        assert_eq!(fs::read(&out).expect("out").len(), 10);
    }

    #[test]
    fn a_missing_pager_does_not_start() {
        assert!(Pager::start("gbooks-no-such-pager -R").is_none());
        assert!(Pager::start("/nonexistent/pager").is_none());
        assert!(Pager::start("   ").is_none());
        let dir = tempfile::tempdir().expect("temp dir");
        let plain = dir.path().join("not-executable");
        fs::write(&plain, "#!/bin/sh\n").expect("write");
        assert!(Pager::start(&plain.display().to_string()).is_none());
    }

    #[test]
    fn a_shell_that_cannot_run_it_is_reported() {
        // Quoted, so left to the shell, which exits 127.
        let mut pager = Pager::start("'gbooks-no-such-pager'").expect("sh starts");
        let _ = pager.write_all(b"lost\n");
        assert!(matches!(pager.finish().expect("finish"), Ended::NotRun(s) if s.code() == Some(127)));
    }

    #[test]
    fn runnable_looks_on_path() {
        let path = OsString::from("/nonexistent:/bin:/usr/bin");
        assert!(runnable("sh -c true", &path));
        assert!(!runnable("sh", &OsString::from("/nonexistent")));
        assert!(runnable("LESS=x less", &OsString::new()), "left to the shell");
        assert!(!runnable("", &path));
    }

    #[test]
    fn choose_follows_gits_order() {
        assert_eq!(choose(false, None, None, None).as_deref(), Some(DEFAULT));
        assert_eq!(choose(true, Some("most"), None, None), None);
        assert_eq!(
            choose(false, Some("most"), Some("more"), Some("pg")).as_deref(),
            Some("most")
        );
        assert_eq!(
            choose(false, None, Some("more"), Some("pg")).as_deref(),
            Some("more")
        );
        assert_eq!(choose(false, None, None, Some("pg")).as_deref(), Some("pg"));
        assert_eq!(choose(false, Some(""), Some("more"), None), None);
        assert_eq!(choose(false, None, Some(""), Some("pg")), None);
        assert_eq!(choose(false, None, None, Some("cat")), None);
        assert_eq!(choose(false, None, None, Some(" ")), None);
    }

    const SCREEN: Screen = Screen { rows: 5, cols: 10 };

    #[test]
    fn short_output_skips_the_pager() {
        let (dir, script) = fake_pager();
        let mut direct = Vec::new();
        let mut out = PagedOutput::new(&mut direct, Some(quoted(&script)), SCREEN);
        // 4 rows: with the prompt, the 5-row screen is full but not over.
        out.write_all(b"1\n2\n\x1b[1m0123456789\x1b[0m\n").expect("write");
        out.write_all("日本語の本\n".as_bytes()).expect("write");
        assert_eq!(out.finish().expect("finish"), Ended::Shown);
        assert_eq!(direct, "1\n2\n\x1b[1m0123456789\x1b[0m\n日本語の本\n".as_bytes());
        assert!(!dir.path().join("input").exists(), "the pager never ran");
    }

    #[test]
    fn long_output_goes_through_the_pager() {
        let (dir, script) = fake_pager();
        let mut direct = Vec::new();
        let mut out = PagedOutput::new(&mut direct, Some(quoted(&script)), SCREEN);
        // Three rows, then a line that wraps to two: over the screen.
        out.write_all(b"1\n2\n3\n").expect("write");
        out.write_all(b"0123456789a").expect("write");
        out.write_all(b"\nmore\n").expect("write");
        assert_eq!(out.finish().expect("finish"), Ended::Shown);
        assert!(direct.is_empty());
        assert_eq!(read(&dir, "input"), "1\n2\n3\n0123456789a\nmore\n");
    }

    #[test]
    fn no_pager_or_a_missing_one_writes_directly() {
        for command in [None, Some("gbooks-no-such-pager".to_string())] {
            let mut direct = Vec::new();
            let mut out = PagedOutput::new(&mut direct, command, SCREEN);
            let text = "line\n".repeat(50);
            out.write_all(text.as_bytes()).expect("write");
            assert_eq!(out.finish().expect("finish"), Ended::Shown);
            assert_eq!(direct, text.as_bytes());
        }
    }

    #[test]
    fn quitting_the_pager_stops_the_writer() {
        let mut direct = Vec::new();
        let mut out = PagedOutput::new(&mut direct, Some("head -n 1 >/dev/null".into()), SCREEN);
        let line = [b'x'; 99];
        let error = (0..10_000)
            .find_map(|_| out.write_all(&line).and_then(|()| out.write_all(b"\n")).err())
            .expect("a write fails once head has quit");
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(out.finish().expect("finish"), Ended::Quit);
        assert!(direct.is_empty());
    }

    #[test]
    fn rows_count_wrapping_and_ignore_colour() {
        assert_eq!(rows_for(b"", 10), 0);
        assert_eq!(rows_for(b"\n", 10), 1);
        assert_eq!(rows_for(b"abc\n\n", 10), 2);
        assert_eq!(rows_for(b"0123456789\n", 10), 1);
        assert_eq!(rows_for(b"0123456789a\n", 10), 2);
        assert_eq!(rows_for("\x1b[1;31mbold\x1b[0m".as_bytes(), 4), 1);
        assert_eq!(rows_for("لالالا\n".as_bytes(), 4), 2);
    }
}
