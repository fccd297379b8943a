//! Opening a URL in the user's browser, for `open` and `login`: `$BROWSER`
//! first (a `:`-separated list of commands, `%s` standing for the URL), else
//! the platform's opener. The browser runs on its own.

use std::process::{Command, Stdio};

/// Starts the first command that can be started; the error names the last
/// failure, for a message such as "open the URL yourself".
pub fn open(url: &str, browser_env: Option<&str>) -> Result<(), String> {
    let candidates: Vec<&str> = match browser_env {
        Some(list) => list.split(':').filter(|c| !c.trim().is_empty()).collect(),
        None => platform_openers().to_vec(),
    };
    let mut last = "no browser command".to_string();
    for candidate in candidates {
        let mut words: Vec<String> = candidate.split_whitespace().map(str::to_string).collect();
        if words.iter().any(|w| w.contains("%s")) {
            for w in &mut words {
                *w = w.replace("%s", url);
            }
        } else {
            words.push(url.to_string());
        }
        let Some((program, args)) = words.split_first() else {
            continue;
        };
        let spawned = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        match spawned {
            Ok(child) => match settle(child) {
                Ok(()) => return Ok(()),
                Err(why) => last = format!("{program}: {why}"),
            },
            Err(e) => last = format!("{program}: {e}"),
        }
    }
    Err(last)
}

/// How long a browser command has to fail at once (a wrong `$BROWSER`, no
/// display): past that, it is taken to have opened the page.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(400);

/// Waits briefly for an immediate failure, which comes back with the first
/// line the command wrote on stderr; a command still running is left to run.
fn settle(mut child: std::process::Child) -> Result<(), String> {
    use std::io::{BufRead, BufReader};
    let stderr = child.stderr.take();
    let started = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < SETTLE => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            _ => break None,
        }
    };
    match status {
        Some(status) if !status.success() => {
            let first = stderr
                .and_then(|e| {
                    BufReader::new(e)
                        .lines()
                        .map_while(Result::ok)
                        .find(|l| !l.trim().is_empty())
                })
                .map(|l| crate::sanitize::terminal_line(l.trim()));
            Err(first.unwrap_or_else(|| format!("exited with {status}")))
        }
        Some(_) => Ok(()),
        None => {
            // Its stderr is read to the end, so a chatty browser never blocks on it.
            std::thread::spawn(move || {
                if let Some(mut e) = stderr {
                    let _ = std::io::copy(&mut e, &mut std::io::sink());
                }
                child.wait()
            });
            Ok(())
        }
    }
}

fn platform_openers() -> &'static [&'static str] {
    if cfg!(target_os = "macos") {
        &["open"]
    } else if cfg!(windows) {
        &["rundll32 url.dll,FileProtocolHandler"]
    } else {
        &["xdg-open", "gio open", "sensible-browser"]
    }
}
