//! `gbooks open`: the volume's page in `$BROWSER`, and its URL on stderr.

use std::time::{Duration, Instant};

use crate::support::oauth::{opened_urls, recording_browser};
use crate::support::*;

#[test]
fn open_uses_browser_and_prints_the_url() {
    let sb = Sandbox::new();
    let out = sb
        .cmd(NOWHERE)
        .args(["open", "AbyoDwAAQBAJ"])
        .env("BROWSER", recording_browser(sb.dir.path()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let url = "https://books.google.com/books?id=AbyoDwAAQBAJ";
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains(url));
    // gbooks never waits for the browser: wait for its whole line here.
    let started = Instant::now();
    while opened_urls(sb.dir.path()).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(20), "no browser ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(opened_urls(sb.dir.path()), [url]);
}
