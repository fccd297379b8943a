//! `gbooks cite` and `--template`: references in a real CSL style, and
//! volumes through a template of the user's, to stdout or one file each.

use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

fn dune_messiah() -> Value {
    json!({
        "kind": "books#volume",
        "id": "DuneMess01",
        "volumeInfo": {
            "title": "Dune Messiah",
            "authors": ["Frank Herbert"],
            "publisher": "Ace Books",
            "publishedDate": "2008",
            "industryIdentifiers": [
                {"type": "ISBN_10", "identifier": "0441013597"},
                {"type": "ISBN_13", "identifier": "9780441013593"}
            ],
            "pageCount": 336,
            "language": "en",
            "categories": ["Fiction / Science Fiction / General"],
            "description": "<p>The sequel.</p><p>Second paragraph &amp; more.</p>"
        }
    })
}

/// An API that knows Dune Messiah by ISBN and by id, and nothing else.
async fn api_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .and(query_param("q", "isbn:9780441013593"))
        .respond_with(ResponseTemplate::new(200).set_body_json(volumes(vec![dune_messiah()])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes/DuneMess01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(dune_messiah()))
        .mount(&server)
        .await;
    // Any other search finds nothing.
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"kind": "books#volumes", "totalItems": 0})),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn apa_by_isbn_in_each_markup() {
    let server = api_server().await;
    let sb = Sandbox::new();
    for (format, want) in [
        ("markdown", "Herbert, F. (2008). *Dune Messiah*. Ace Books.\n"),
        ("text", "Herbert, F. (2008). Dune Messiah. Ace Books.\n"),
        ("html", "Herbert, F. (2008). <i>Dune Messiah</i>. Ace Books.\n"),
    ] {
        let out = sb
            .cmd(&api(&server))
            .args(["cite", "978-0-441-01359-3", "--style", "apa", "--format", format])
            .output()
            .unwrap();
        assert!(out.status.success(), "{format}: {}", stderr(&out));
        assert_eq!(stdout(&out), want, "{format}");
    }
}

#[tokio::test]
async fn every_bundled_style_and_the_list() {
    let server = api_server().await;
    let sb = Sandbox::new();
    for style in ["apa", "mla", "chicago", "ieee", "harvard"] {
        let out = sb
            .cmd(&api(&server))
            .args(["cite", "DuneMess01", "--style", style])
            .output()
            .unwrap();
        assert!(out.status.success(), "{style}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains("Dune Messiah") && text.contains("Herbert"),
            "{style}: {text}"
        );
    }
    let out = sb
        .cmd(&api(&server))
        .args(["cite", "x", "--style", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for style in ["apa", "mla", "chicago", "ieee", "harvard"] {
        assert!(text.lines().any(|l| l.starts_with(style)), "{style}: {text}");
    }
    assert!(stderr(&out).contains("Citation Style Language"), "attribution");

    let out = sb
        .cmd(&api(&server))
        .args(["cite", "x", "--style", "vancouver-ish"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        one_error_line(&out).contains("unknown citation style"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn an_argument_that_finds_nothing_fails_alone() {
    let server = api_server().await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["cite", "9780000000002", "DuneMess01", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        got,
        json!([{
            "input": "DuneMess01",
            "id": "DuneMess01",
            "style": "apa",
            "reference": "Herbert, F. (2008). Dune Messiah. Ace Books."
        }])
    );
    let err = stderr(&out);
    assert!(
        err.contains("gbooks: error: 9780000000002: no volume carries this ISBN"),
        "{err}"
    );
    assert!(err.contains("1 of 2 could not be cited"), "{err}");
}

#[tokio::test]
async fn a_template_renders_each_volume_to_stdout() {
    let server = api_server().await;
    let sb = Sandbox::new();
    let template = sb.dir.path().join("line.j2");
    std::fs::write(
        &template,
        "- {{ title }} — {{ authors | join(', ') }} ({{ year }}) {{ isbn13 }} {{ missing.deeply }}|{{ description }}\n",
    )
    .unwrap();
    let out = sb
        .cmd(&api(&server))
        .args(["show", "DuneMess01", "--template"])
        .arg(&template)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "- Dune Messiah — Frank Herbert (2008) 9780441013593 |The sequel.\n\nSecond paragraph & more.\n"
    );

    // The reading-list example that ships with gbooks, from stdin.
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/reading-list.j2")).unwrap();
    let mut cmd = sb.std_cmd(&api(&server));
    cmd.args(["isbn", "9780441013593", "--template", "-"]);
    let out = pipe(cmd, &example);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Dune Messiah"), "{}", stdout(&out));
}

#[tokio::test]
async fn a_template_that_does_not_parse_is_a_usage_error_naming_the_line() {
    let server = api_server().await;
    let sb = Sandbox::new();
    let template = sb.dir.path().join("broken.md");
    std::fs::write(&template, "# {{ title }}\n\n{% for a in authors %}\n- {{ a }\n").unwrap();
    let out = sb
        .cmd(&api(&server))
        .args(["show", "DuneMess01", "--template"])
        .arg(&template)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let line = one_error_line(&out);
    assert!(line.contains("template broken.md, line 4"), "{line}");
}

#[tokio::test]
async fn one_file_per_volume_never_overwritten_without_force() {
    let server = api_server().await;
    let sb = Sandbox::new();
    let template = sb.dir.path().join("note.md");
    std::fs::write(&template, "# {{ title }}\n").unwrap();
    let dir = sb.dir.path().join("notes");
    let write = |extra: &[&str]| {
        sb.cmd(&api(&server))
            .args(["show", "DuneMess01", "--template"])
            .arg(&template)
            .arg("--output-dir")
            .arg(&dir)
            .args(["--filename", "{{ authors[0] }} - {{ title }}/../x\u{7}.md"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = write(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "files, not stdout");
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = &files[0];
    assert!(
        !name.contains('/') && !name.contains("..") && !name.chars().any(char::is_control),
        "{name:?}"
    );
    assert!(name.starts_with("Frank Herbert - Dune Messiah"), "{name:?}");
    assert!(stderr(&out).contains("Wrote "), "{}", stderr(&out));
    let path = dir.join(name);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# Dune Messiah\n");

    std::fs::write(&path, "my own edits\n").unwrap();
    let out = write(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("exists; skipped"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "my own edits\n");

    let out = write(&["--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# Dune Messiah\n");
}

/// Runs `cmd` with `input` on its stdin.
fn pipe(mut cmd: std::process::Command, input: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}
