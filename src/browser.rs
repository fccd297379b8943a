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
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(mut child) => {
                // Reaped on the side: gbooks never waits for the browser.
                std::thread::spawn(move || child.wait());
                return Ok(());
            }
            Err(e) => last = format!("{program}: {e}"),
        }
    }
    Err(last)
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
