//! `gbooks cover`, `--covers DIR` and covers drawn in the terminal, against
//! a fake API that also serves the images and counts what it was asked.

use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::pty::Terminal;
use crate::support::*;

fn image(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/covers")
        .join(name);
    std::fs::read(p).unwrap()
}

/// Serves `body` at `at`, expecting exactly `times` requests.
async fn serve(server: &MockServer, at: &str, status: u16, body: Vec<u8>, times: u64) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(status).set_body_bytes(body))
        .expect(times)
        .mount(server)
        .await;
}

/// A volume whose `imageLinks` point at the fake: `links` is (key, path).
fn volume_with(id: &str, server: &MockServer, links: &[(&str, &str)]) -> Value {
    let mut v = volume(id, &format!("Title {id}"));
    let map: serde_json::Map<String, Value> = links
        .iter()
        .map(|(k, p)| (k.to_string(), Value::String(format!("{}{p}", server.uri()))))
        .collect();
    v["volumeInfo"]["imageLinks"] = Value::Object(map);
    v
}

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The largest links are tried first and refused when they are not shaped
/// like a cover or not an image; a re-run downloads nothing (the cache) and
/// refuses to replace the file without --force. No key goes to image hosts.
#[tokio::test]
async fn the_best_usable_cover_is_saved_once_and_not_replaced_without_force() {
    let server = MockServer::start().await;
    let v = volume_with(
        "V1",
        &server,
        &[
            ("extraLarge", "/img/xl"),
            ("large", "/img/l"),
            ("medium", "/img/m"),
            ("small", "/img/s"),
            ("thumbnail", "/img/t"),
        ],
    );
    mount_json(&server, "/books/v1/volumes/V1", v).await;
    // Images are cached, refused or not; the rest is asked again.
    serve(&server, "/img/xl", 200, image("wide.png"), 1).await;
    serve(&server, "/img/l", 200, image("not-a-cover.html"), 3).await;
    serve(&server, "/img/m", 404, Vec::new(), 3).await;
    serve(&server, "/img/s", 200, image("cover.jpg"), 1).await;
    serve(&server, "/img/t", 200, image("cover.gif"), 0).await;

    let sb = Sandbox::new();
    let out = run(sb.cmd(&api(&server)).args(["cover", "V1", "--api-key", API_KEY])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        files(sb.dir.path())
            .iter()
            .filter(|f| f.starts_with("V1"))
            .count(),
        1
    );
    assert_eq!(
        std::fs::read(sb.dir.path().join("V1.jpg")).unwrap(),
        image("cover.jpg")
    );
    assert!(
        stderr(&out).contains("Saved ./V1.jpg (small)"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());

    let again = run(sb.cmd(&api(&server)).args(["cover", "V1", "--api-key", API_KEY])).await;
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        one_error_line(&again),
        "gbooks: error: V1: ./V1.jpg exists; use --force to replace it"
    );
    std::fs::write(sb.dir.path().join("V1.jpg"), b"old").unwrap();
    let forced = run(sb
        .cmd(&api(&server))
        .args(["cover", "V1", "--force", "--api-key", API_KEY]))
    .await;
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert_eq!(
        std::fs::read(sb.dir.path().join("V1.jpg")).unwrap(),
        image("cover.jpg")
    );
    // Nothing half-written is left behind.
    assert!(!files(sb.dir.path()).iter().any(|f| f.contains(".part")));

    for request in server.received_requests().await.unwrap() {
        if request.url.path().starts_with("/img/") {
            assert!(request.url.query().is_none(), "{}", request.url);
            assert!(!request.headers.contains_key("authorization"));
        }
    }
    assert_no_secrets(&forced, None);
    server.verify().await;
}

#[tokio::test]
async fn dash_writes_the_image_to_stdout_and_o_names_the_file() {
    let server = MockServer::start().await;
    mount_json(
        &server,
        "/books/v1/volumes/V1",
        volume_with("V1", &server, &[("thumbnail", "/img/t")]),
    )
    .await;
    serve(&server, "/img/t", 200, image("cover.webp"), 1).await;
    let sb = Sandbox::new();
    let out = run(sb.cmd(&api(&server)).args(["cover", "V1", "-o", "-"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(out.stdout, image("cover.webp"));

    let out = run(sb.cmd(&api(&server)).args(["cover", "V1", "-o", "front.img"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(sb.dir.path().join("front.img")).unwrap(),
        image("cover.webp")
    );

    let out = run(sb.cmd(&api(&server)).args(["cover", "V1", "V2", "-o", "x.jpg"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(one_error_line(&out).contains("-o takes one volume"));
    let out = run(sb
        .cmd(&api(&server))
        .args(["cover", "V1", "-o", "x.jpg", "--dir", "d"]))
    .await;
    assert_eq!(out.status.code(), Some(2));
    server.verify().await;
}

/// Exit 3 when no argument has a usable cover, saying so; 1 when any
/// argument failed, the others still written.
#[tokio::test]
async fn no_usable_cover_is_exit_3_and_a_partial_run_exit_1() {
    let server = MockServer::start().await;
    mount_json(
        &server,
        "/books/v1/volumes/GOOD",
        volume_with("GOOD", &server, &[("thumbnail", "/img/good")]),
    )
    .await;
    mount_json(&server, "/books/v1/volumes/BARE", volume("BARE", "No links")).await;
    mount_json(
        &server,
        "/books/v1/volumes/HTML",
        volume_with("HTML", &server, &[("thumbnail", "/img/html")]),
    )
    .await;
    serve(&server, "/img/good", 200, image("2x2.png"), 1).await;
    serve(&server, "/img/html", 200, image("not-a-cover.html"), 2).await;
    let sb = Sandbox::new();
    let cases: [(&[&str], i32, &str); 3] = [
        (
            &["BARE"],
            3,
            "gbooks: error: BARE: no usable cover: the volume has no image links",
        ),
        (
            &["HTML"],
            3,
            "gbooks: error: HTML: no usable cover (thumbnail: not a JPEG, PNG, GIF or WebP image)",
        ),
        (
            &["BARE", "HTML"],
            3,
            "gbooks: error: none of the 2 volumes has a usable cover",
        ),
    ];
    for (args, code, last) in cases {
        let out = run(sb
            .cmd(&api(&server))
            .arg("cover")
            .args(args)
            .arg("--dir")
            .arg("out"))
        .await;
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().last(), Some(last), "{args:?}");
    }
    let out = run(sb
        .cmd(&api(&server))
        .args(["cover", "BARE", "GOOD", "--dir", "out"]))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("gbooks: BARE: no usable cover"), "{err}");
    assert!(
        err.ends_with("gbooks: error: 1 of 2 covers were not saved\n"),
        "{err}"
    );
    assert_eq!(files(&sb.dir.path().join("out")), ["GOOD.png"]);
    server.verify().await;
}

/// An ISBN is looked up, and only a volume that carries it counts; the file
/// is named after the ISBN.
#[tokio::test]
async fn an_isbn_names_the_volume_that_carries_it() {
    let server = MockServer::start().await;
    let isbn = isbn13("978044101359");
    let mut wrong = volume("WRONG", "A study guide");
    wrong["volumeInfo"]["industryIdentifiers"] =
        json!([{ "type": "ISBN_13", "identifier": isbn13("978000000000") }]);
    let mut right = volume("RIGHT", "Dune");
    right["volumeInfo"]["industryIdentifiers"] = json!([{ "type": "ISBN_13", "identifier": isbn }]);
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .and(query_param("q", format!("isbn:{isbn}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(volumes(vec![wrong, right])))
        .expect(1)
        .mount(&server)
        .await;
    mount_json(
        &server,
        "/books/v1/volumes/RIGHT",
        volume_with("RIGHT", &server, &[("thumbnail", "/img/right")]),
    )
    .await;
    serve(&server, "/img/right", 200, image("cover.gif"), 1).await;
    let sb = Sandbox::new();
    let out = run(sb.cmd(&api(&server)).args(["cover", &isbn, "--dir", "covers"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(files(&sb.dir.path().join("covers")), [format!("{isbn}.gif")]);
    server.verify().await;
}

/// `--covers DIR` saves each listed volume's cover and leaves the listing
/// as it is; a second run finds them saved and downloads nothing.
#[tokio::test]
async fn covers_dir_saves_each_listed_volume_and_changes_no_output() {
    let server = MockServer::start().await;
    let page = volumes(vec![
        volume_with(
            "A1",
            &server,
            &[("smallThumbnail", "/img/a-small"), ("thumbnail", "/img/a")],
        ),
        volume_with("B2", &server, &[("thumbnail", "/img/b")]),
        volume("C3", "No cover"),
    ]);
    mount_json(&server, "/books/v1/volumes", page).await;
    serve(&server, "/img/a", 200, image("cover.jpg"), 1).await;
    serve(&server, "/img/a-small", 200, image("cover.gif"), 0).await;
    serve(&server, "/img/b", 200, image("cover.webp"), 1).await;
    let sb = Sandbox::new();
    let plain = run(sb.cmd(&api(&server)).args(["search", "dune", "--no-cache"])).await;
    let with = run(sb.cmd(&api(&server)).args(["search", "dune", "--covers", "c"])).await;
    assert_eq!(with.status.code(), Some(0), "{}", stderr(&with));
    assert_eq!(stdout(&with), stdout(&plain));
    assert_eq!(files(&sb.dir.path().join("c")), ["A1.jpg", "B2.webp"]);
    assert!(
        stderr(&with).contains("Saved 2 covers in c."),
        "{}",
        stderr(&with)
    );
    // The table asks only for the fields it shows, and the image links.
    let fields: Vec<String> = queries(&server)
        .await
        .iter()
        .filter_map(|q| param(q, "fields").map(str::to_string))
        .collect();
    assert!(fields.iter().any(|f| f.contains("imageLinks")), "{fields:?}");

    let json = run(sb
        .cmd(&api(&server))
        .args(["search", "dune", "--covers", "c", "--json"]))
    .await;
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let listed: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(3));
    server.verify().await;
}

#[tokio::test]
async fn isbn_covers_are_named_by_isbn() {
    let server = MockServer::start().await;
    let isbn = isbn13("978044101359");
    let mut v = volume_with("D1", &server, &[("thumbnail", "/img/d")]);
    v["volumeInfo"]["industryIdentifiers"] = json!([{ "type": "ISBN_13", "identifier": isbn }]);
    mount_json(&server, "/books/v1/volumes", volumes(vec![v])).await;
    serve(&server, "/img/d", 200, image("cover.jpg"), 1).await;
    let sb = Sandbox::new();
    let out = run(sb
        .cmd(&api(&server))
        .args(["isbn", &isbn, "--covers", "c", "--format", "csv"]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("D1"));
    assert_eq!(files(&sb.dir.path().join("c")), [format!("{isbn}.jpg")]);
    server.verify().await;
}

/// `identify --covers DIR`: the candidates listed, or the one `--best`
/// picked, named by volume id as in the list.
#[tokio::test]
async fn identify_saves_the_covers_of_what_it_prints() {
    let server = MockServer::start().await;
    let isbn = isbn13("978044101359");
    let mut v = volume_with("E1", &server, &[("thumbnail", "/img/e")]);
    v["volumeInfo"]["title"] = json!("Dune");
    v["volumeInfo"]["industryIdentifiers"] = json!([{ "type": "ISBN_13", "identifier": isbn }]);
    mount_json(&server, "/books/v1/volumes", volumes(vec![v])).await;
    serve(&server, "/img/e", 200, image("cover.jpg"), 2).await;
    let sb = Sandbox::new();
    for (dir, args) in [("best", &["--best"][..]), ("list", &["--json"][..])] {
        let out = run(sb
            .cmd(&api(&server))
            .args(["identify", "--isbn", &isbn, "--covers", dir, "--no-cache"])
            .args(args))
        .await;
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("E1") || stdout(&out).contains("Dune"),
            "{args:?}"
        );
        assert_eq!(files(&sb.dir.path().join(dir)), ["E1.jpg"], "{args:?}");
    }
    server.verify().await;
}

/// Variables set for a run.
type Env = Vec<(&'static str, &'static str)>;

/// `gbooks show` on a terminal of 24 x 100 with `env`; its screen.
async fn show_on_a_terminal(
    server: &MockServer,
    env: &[(&str, &str)],
    args: &[&str],
    answer_da1: bool,
) -> (u32, String) {
    let sb = Sandbox::new();
    let mut cmd = sb.std_cmd(&api(server));
    cmd.env("TERM", "xterm")
        .args(["show", "V1", "--no-pager"])
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || {
        let _sb = sb;
        let mut terminal = Terminal::spawn(&cmd, 24, 100);
        if answer_da1 {
            terminal.wait_for("\u{1b}[c");
            // xterm -ti vt340's answer.
            terminal.type_text("\u{1b}[?63;1;2;4;6;9;15;16;22;28c");
        }
        terminal.finish()
    })
    .await
    .unwrap()
}

async fn server_with_cover(cover: Option<&str>) -> MockServer {
    let server = MockServer::start().await;
    let mut v = volume_with("V1", &server, &[("small", "/img/small")]);
    v["volumeInfo"]["description"] = json!("A desert planet.");
    mount_json(&server, "/books/v1/volumes/V1", v).await;
    let (status, body) = match cover {
        Some(name) => (200, image(name)),
        None => (404, Vec::new()),
    };
    Mock::given(method("GET"))
        .and(path("/img/small"))
        .respond_with(ResponseTemplate::new(status).set_body_bytes(body))
        .mount(&server)
        .await;
    server
}

/// Each terminal gets its own escapes, and the details are still there.
#[tokio::test]
async fn show_draws_the_cover_with_the_terminals_own_protocol() {
    // Variables, arguments, whether the terminal answers the query, and
    // what must be on the screen.
    type Case = (Env, Vec<&'static str>, bool, &'static str);
    let cases: Vec<(String, Case)> = vec![
        (
            "kitty".into(),
            (vec![("TERM", "xterm-kitty")], vec![], false, "\u{1b}_Gf=100,a=T,"),
        ),
        (
            "kitty window".into(),
            (
                vec![("KITTY_WINDOW_ID", "1")],
                vec![],
                false,
                "\u{1b}_Gf=100,a=T,",
            ),
        ),
        (
            "iTerm2".into(),
            (
                vec![("TERM_PROGRAM", "iTerm.app")],
                vec![],
                false,
                "\u{1b}]1337;File=inline=1;",
            ),
        ),
        (
            "WezTerm".into(),
            (
                vec![("TERM_PROGRAM", "WezTerm")],
                vec![],
                false,
                "\u{1b}]1337;File=inline=1;",
            ),
        ),
        ("sixel, by DA1".into(), (vec![], vec![], true, "\u{1b}Pq\"1;1;")),
        // The terminal does not answer the query: half blocks, soon.
        (
            "half blocks with always".into(),
            (vec![], vec!["--cover", "always"], false, "▀"),
        ),
    ];
    check_cases(cases, |(env, args, da1, want)| async move {
        let server = server_with_cover(Some("cover.jpg")).await;
        let (code, screen) = show_on_a_terminal(&server, &env, &args, da1).await;
        assert_eq!(code, 0, "{screen:?}");
        assert!(screen.contains(want), "{want:?} not in {screen:?}");
        assert!(
            screen.contains("Title V1") && screen.contains("A desert planet."),
            "{screen:?}"
        );
    })
    .await;
}

/// No escapes: `never`, `auto` where no graphics are known, a config saying
/// never, a cover that cannot be fetched.
#[tokio::test]
async fn show_draws_nothing_when_it_should_not() {
    // Variables, arguments, and the image served.
    type Case = (Env, Vec<&'static str>, Option<&'static str>);
    let cases: Vec<(String, Case)> = vec![
        (
            "never".into(),
            (
                vec![("TERM", "xterm-kitty")],
                vec!["--cover", "never"],
                Some("cover.jpg"),
            ),
        ),
        (
            "auto without graphics".into(),
            (vec![], vec![], Some("cover.jpg")),
        ),
        (
            "json".into(),
            (vec![("TERM", "xterm-kitty")], vec!["--json"], Some("cover.jpg")),
        ),
        (
            "no cover to fetch".into(),
            (vec![("TERM", "xterm-kitty")], vec![], None),
        ),
        (
            "not an image".into(),
            (vec![("TERM", "xterm-kitty")], vec![], Some("not-a-cover.html")),
        ),
    ];
    check_cases(cases, |(env, args, cover)| async move {
        let server = server_with_cover(cover).await;
        let (code, screen) = show_on_a_terminal(&server, &env, &args, false).await;
        assert_eq!(code, 0, "{screen:?}");
        for escape in ["\u{1b}_G", "\u{1b}]1337", "\u{1b}Pq", "▀"] {
            assert!(!screen.contains(escape), "{escape:?} in {screen:?}");
        }
        assert!(screen.contains("V1"), "{screen:?}");
    })
    .await;
    // `cover = "never"` in config.toml, on kitty.
    let server = server_with_cover(Some("cover.jpg")).await;
    let sb = Sandbox::new();
    sb.write_config("cover = \"never\"\n");
    let mut cmd = sb.std_cmd(&api(&server));
    cmd.env("TERM", "xterm-kitty").args(["show", "V1", "--no-pager"]);
    let (code, screen) = tokio::task::spawn_blocking(move || Terminal::spawn(&cmd, 24, 100).finish())
        .await
        .unwrap();
    assert_eq!(code, 0);
    assert!(!screen.contains("\u{1b}_G"), "{screen:?}");
}

/// Piped, there is never a picture, whatever the terminal says.
#[tokio::test]
async fn piped_show_has_no_picture_even_with_always() {
    let server = MockServer::start().await;
    mount_json(
        &server,
        "/books/v1/volumes/V1",
        volume_with("V1", &server, &[("small", "/img/small")]),
    )
    .await;
    serve(&server, "/img/small", 200, image("cover.jpg"), 0).await;
    let sb = Sandbox::new();
    let out = run(sb
        .cmd(&api(&server))
        .env("TERM", "xterm-kitty")
        .env("TERM_PROGRAM", "iTerm.app")
        .args(["show", "V1", "--cover", "always"]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).contains('\u{1b}'), "{:?}", stdout(&out));
    assert!(stdout(&out).contains("Title V1"));
    server.verify().await;
}

/// `search --cover always` on a terminal: one row per volume, each led by
/// a two-cell half-block thumbnail.
#[tokio::test]
async fn search_tables_get_half_block_thumbnails_with_always() {
    let server = MockServer::start().await;
    let page = volumes(vec![
        volume_with("A1", &server, &[("smallThumbnail", "/img/a")]),
        volume("B2", "No cover"),
    ]);
    mount_json(&server, "/books/v1/volumes", page).await;
    serve(&server, "/img/a", 200, image("2x2.png"), 1).await;
    let sb = Sandbox::new();
    let mut cmd = sb.std_cmd(&api(&server));
    cmd.env("TERM", "xterm").args([
        "search",
        "dune",
        "--cover",
        "always",
        "--no-pager",
        "--color",
        "never",
    ]);
    let (code, screen) = tokio::task::spawn_blocking(move || Terminal::spawn(&cmd, 24, 80).finish())
        .await
        .unwrap();
    assert_eq!(code, 0, "{screen}");
    let lines: Vec<&str> = screen.lines().map(|l| l.trim_end_matches('\r')).collect();
    assert!(lines[0].starts_with("    ID"), "{lines:?}");
    assert!(
        lines[1].starts_with("\u{1b}[38;2;255;0;0m\u{1b}[48;2;0;0;255m▀\u{1b}[38;2;0;255;0m\u{1b}[48;2;255;255;255m▀\u{1b}[0m  A1"),
        "{lines:?}"
    );
    assert!(lines[2].starts_with("    B2"), "{lines:?}");
    server.verify().await;
}
