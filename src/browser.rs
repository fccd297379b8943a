//! Opening a URL in the user's browser: `$BROWSER` first (a `:`-separated
//! list of commands, `%s` standing for the URL), else the platform's opener.

use std::process::{Command, Stdio};

pub fn open(url: &str, browser_env: Option<&str>) -> Result<(), String> {
    let candidates: Vec<String> = match browser_env {
        Some(list) => list
            .split(':')
            .filter(|c| !c.trim().is_empty())
            .map(str::to_string)
            .collect(),
        None => platform_openers().iter().map(|s| s.to_string()).collect(),
    };
    for candidate in &candidates {
        let mut words: Vec<String> = candidate.split_whitespace().map(str::to_string).collect();
        if words.is_empty() {
            continue;
        }
        if words.iter().any(|w| w.contains("%s")) {
            for w in &mut words {
                *w = w.replace("%s", url);
            }
        } else {
            words.push(url.to_string());
        }
        let spawned = Command::new(&words[0])
            .args(&words[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if spawned.is_ok() {
            return Ok(());
        }
    }
    Err("no browser could be started; open the URL yourself".into())
}

fn platform_openers() -> &'static [&'static str] {
    if cfg!(target_os = "macos") {
        &["open"]
    } else if cfg!(windows) {
        &["explorer"]
    } else {
        &["xdg-open", "gio open", "sensible-browser"]
    }
}
