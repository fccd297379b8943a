//! Runs `gbooks` on a real pseudo-terminal of a set size: the test reads
//! what it draws, types at it, and presses Ctrl-C (0x03, which the
//! terminal turns into SIGINT for the foreground process).

use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};

/// What the program wrote to the terminal so far, and whether it is done.
#[derive(Default)]
struct Screen {
    bytes: Vec<u8>,
    closed: bool,
}

pub struct Terminal {
    child: Box<dyn Child + Send + Sync>,
    keyboard: Box<dyn Write + Send>,
    screen: Arc<(Mutex<Screen>, Condvar)>,
    reader: Option<std::thread::JoinHandle<()>>,
    // Kept open: closing the master hangs the terminal up.
    _master: Box<dyn MasterPty + Send>,
}

impl Terminal {
    /// Starts `cmd` (its program, arguments, environment and directory) on
    /// a new terminal of `rows` x `cols`.
    pub fn spawn(cmd: &std::process::Command, rows: u16, cols: u16) -> Terminal {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut builder = CommandBuilder::new(cmd.get_program());
        builder.args(cmd.get_args());
        builder.env_clear();
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                builder.env(k, v);
            }
        }
        if let Some(dir) = cmd.get_current_dir() {
            builder.cwd(dir);
        }
        let child = pair.slave.spawn_command(builder).unwrap();
        // Only the child holds the terminal now: its exit ends our reads.
        drop(pair.slave);
        let mut output = pair.master.try_clone_reader().unwrap();
        let keyboard = pair.master.take_writer().unwrap();
        let screen: Arc<(Mutex<Screen>, Condvar)> = Arc::default();
        let shared = screen.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                // Linux answers EIO once the child and its terminal are gone.
                let n = output.read(&mut buf).unwrap_or(0);
                let (lock, changed) = &*shared;
                let mut screen = lock.lock().unwrap();
                if n == 0 {
                    screen.closed = true;
                    changed.notify_all();
                    return;
                }
                screen.bytes.extend_from_slice(&buf[..n]);
                changed.notify_all();
            }
        });
        Terminal {
            child,
            keyboard,
            screen,
            reader: Some(reader),
            _master: pair.master,
        }
    }

    /// Everything drawn so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.screen.0.lock().unwrap().bytes).into_owned()
    }

    /// Waits until `text` is on the screen; fails with the screen if it
    /// never comes.
    pub fn wait_for(&self, text: &str) {
        let limit = Instant::now() + Duration::from_secs(20);
        let (lock, changed) = &*self.screen;
        let mut screen = lock.lock().unwrap();
        while !String::from_utf8_lossy(&screen.bytes).contains(text) {
            let left = limit.saturating_duration_since(Instant::now());
            assert!(
                !screen.closed && !left.is_zero(),
                "{text:?} never showed; the screen: {:?}",
                String::from_utf8_lossy(&screen.bytes)
            );
            screen = changed.wait_timeout(screen, left).unwrap().0;
        }
    }

    pub fn type_text(&mut self, text: &str) {
        self.keyboard.write_all(text.as_bytes()).unwrap();
        self.keyboard.flush().unwrap();
    }

    /// Ctrl-C, once the program has a SIGINT handler: before that, the
    /// signal would kill it however it means to handle it.
    pub fn ctrl_c(&mut self) {
        self.wait_for_sigint_handler();
        self.type_text("\u{3}");
    }

    /// Waits until the program catches SIGINT, as Linux shows in
    /// /proc/PID/status (`SigCgt`, a hex mask with bit 1 for SIGINT).
    #[cfg(target_os = "linux")]
    fn wait_for_sigint_handler(&self) {
        let pid = self.child.process_id().unwrap();
        let limit = Instant::now() + Duration::from_secs(20);
        loop {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let caught = status
                .lines()
                .find_map(|l| l.strip_prefix("SigCgt:"))
                .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
                .unwrap_or(0);
            if caught & (1 << (libc::SIGINT - 1)) != 0 {
                return;
            }
            assert!(Instant::now() < limit, "no SIGINT handler: {status}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn wait_for_sigint_handler(&self) {}

    /// Waits for the program to end; its exit code and all it drew.
    pub fn finish(mut self) -> (u32, String) {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("still running; the screen: {:?}", self.text());
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        assert!(status.signal().is_none(), "killed by {:?}", status.signal());
        (status.exit_code(), self.text())
    }
}
