//! A real sixel terminal: `gbooks show` in `xterm -ti vt340` on a virtual X
//! screen (Xvfb), and a screenshot (ImageMagick's `import`) that must hold
//! the cover's pixels where the picture goes. `.ci/run` installs the tools.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// Kills what it holds when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A pure red PNG, a cover's shape: in a black-on-white terminal only the
/// picture can be red.
fn red_cover() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("red.png");
    let made = Command::new("convert")
        .args(["-size", "200x300", "xc:#ff0000"])
        .arg(&file)
        .status()
        .expect("ImageMagick's convert (see .ci/run)");
    assert!(made.success());
    std::fs::read(file).unwrap()
}

/// A display number nobody uses.
fn free_display() -> u32 {
    (90..200)
        .find(|n| !Path::new(&format!("/tmp/.X{n}-lock")).exists())
        .unwrap()
}

fn wait_for(what: &str, done: impl Fn() -> bool) {
    let limit = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < limit, "{what} never happened");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Width, height and RGB bytes of a binary PPM (P6, maxval 255).
fn parse_ppm(data: &[u8]) -> (usize, usize, &[u8]) {
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while data[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !data[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(std::str::from_utf8(&data[start..i]).unwrap().to_string());
    }
    assert_eq!((fields[0].as_str(), fields[3].as_str()), ("P6", "255"));
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, &data[i + 1..i + 1 + w * h * 3])
}

#[tokio::test]
async fn xterm_as_a_vt340_shows_the_cover_in_sixel() {
    let server = MockServer::start().await;
    let mut v = volume("V1", "A red book");
    v["volumeInfo"]["imageLinks"] = serde_json::json!({ "small": format!("{}/img/red", server.uri()) });
    mount_json(&server, "/books/v1/volumes/V1", v).await;
    Mock::given(method("GET"))
        .and(path("/img/red"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(red_cover()))
        .mount(&server)
        .await;

    let sb = Sandbox::new();
    let gbooks = sb.std_cmd(&api(&server));
    let done = sb.dir.path().join("done");
    let display = format!(":{}", free_display());
    let screen = tokio::task::spawn_blocking(move || {
        let _xvfb = Running(
            Command::new("Xvfb")
                .args([&display, "-screen", "0", "900x500x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb (see .ci/run)"),
        );
        let lock = format!("/tmp/.X{}-lock", &display[1..]);
        wait_for("Xvfb", || Path::new(&lock).exists());
        let script = format!(
            "'{}' show V1 --no-pager; touch '{}'; sleep 60",
            env!("CARGO_BIN_EXE_gbooks"),
            done.display()
        );
        let mut xterm = Command::new("xterm");
        xterm.env_clear();
        for (k, v) in gbooks.get_envs() {
            if let Some(v) = v {
                xterm.env(k, v);
            }
        }
        xterm
            .env("DISPLAY", &display)
            .args(["-ti", "vt340", "-xrm", "XTerm*numColorRegisters: 256"])
            .args(["-geometry", "100x24+0+0", "-fa", "Monospace", "-fs", "10"])
            .args(["-bg", "white", "-fg", "black", "-e", "sh", "-c", &script])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _xterm = Running(xterm.spawn().expect("xterm (see .ci/run)"));
        wait_for("gbooks show", || done.exists());
        std::thread::sleep(Duration::from_millis(500));
        let shot = Command::new("import")
            .env("DISPLAY", &display)
            .args(["-window", "root", "-depth", "8", "ppm:-"])
            .output()
            .expect("ImageMagick's import (see .ci/run)");
        assert!(shot.status.success(), "{}", String::from_utf8_lossy(&shot.stderr));
        shot.stdout
    })
    .await
    .unwrap();

    let (w, h, rgb) = parse_ppm(&screen);
    let red = |x: usize, y: usize| {
        let p = &rgb[(y * w + x) * 3..][..3];
        p[0] > 200 && p[1] < 60 && p[2] < 60
    };
    let (mut count, mut right, mut bottom) = (0, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if red(x, y) {
                count += 1;
                right = right.max(x);
                bottom = bottom.max(y);
            }
        }
    }
    // A picture about 12 rows high on the left, not a stray pixel.
    assert!(count > 5_000, "{count} red pixels");
    assert!(right < w / 3, "the picture reaches x = {right} of {w}");
    assert!(bottom < h * 3 / 4, "the picture reaches y = {bottom} of {h}");
}
