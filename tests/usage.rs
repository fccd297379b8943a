//! Usage errors: one `gbooks: error:` line, exit 2, nothing sent; and help
//! and version, which need nothing at all.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::support::*;

/// Usage errors that clap finds are one `gbooks: error:` line too, with
/// clap's tip kept and a pointer to the right --help.
#[test]
fn usage_errors_are_one_line() {
    let sb = Sandbox::new();
    for (args, want) in [
        (
            &["search", "x", "--limit", "0"][..],
            "gbooks: error: invalid value '0' for '--limit <N>': 0 is not in 1..=100000; see 'gbooks search --help'",
        ),
        (
            &["search", "x", "--limt", "3"],
            "gbooks: error: unexpected argument '--limt' found; tip: a similar argument exists: '--limit'; see 'gbooks search --help'",
        ),
        (
            &["show"],
            "gbooks: error: the following required arguments were not provided: <VOLUME_ID>; see 'gbooks show --help'",
        ),
        (
            &["shelves", "move", "2", "v1", "-1"],
            "gbooks: error: unexpected argument '-1' found; tip: to pass '-1' as a value, use '-- -1'; see 'gbooks shelves move --help'",
        ),
        (
            &["search", "x", "--format", "pdf"],
            "gbooks: error: invalid value 'pdf' for '--format <FORMAT>' [possible values: table, json, jsonl, csv, bibtex, biblatex, ris, csl-json, text, html, markdown]; see 'gbooks search --help'",
        ),
        (
            &["serch", "x"],
            "gbooks: error: unrecognized subcommand 'serch'; tip: a similar subcommand exists: 'search'; see 'gbooks --help'",
        ),
    ] {
        let out = sb.cmd(NOWHERE).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stdout(&out).is_empty(), "{args:?}");
        assert_eq!(one_error_line(&out), want, "{args:?}");
    }
    // Help is not an error: on stdout, whole, exit 0.
    let out = sb.cmd(NOWHERE).args(["search", "--help"]).output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("Usage: gbooks search"));
}

/// Every `--help`, nested ones too, ends with the exit codes, the
/// environment and a pointer to that command's man page; `-h` stays short
/// and keeps the command's own note.
#[test]
fn every_long_help_ends_with_the_environment_and_its_man_page() {
    let sb = Sandbox::new();
    for (args, page) in [
        (&["--help"][..], "`gbooks man` (or `man gbooks`)"),
        (
            &["search", "--help"],
            "`gbooks man search` and `man gbooks-search`",
        ),
        (
            &["shelves", "add", "--help"],
            "`gbooks man shelves add` and `man gbooks-shelves-add`",
        ),
        (
            &["auth", "key", "set", "--help"],
            "`gbooks man auth key set` and `man gbooks-auth-key-set`",
        ),
        (&["cover", "--help"], "`gbooks man cover` and `man gbooks-cover`"),
    ] {
        let out = sb.cmd(NOWHERE).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let text = stdout(&out);
        let env = text
            .find("Environment:")
            .unwrap_or_else(|| panic!("{args:?}: {text}"));
        assert!(
            text[env..].contains("GBOOKS_API_KEY") && text[env..].contains("NO_PROXY"),
            "{args:?}"
        );
        let last = text.trim_end().lines().last().unwrap();
        assert!(
            last.starts_with("More: the README") && last.contains(page),
            "{args:?}: {last}"
        );
        let short = sb
            .cmd(NOWHERE)
            .args([&args[..args.len() - 1], &["-h"]].concat())
            .output()
            .unwrap();
        assert!(!stdout(&short).contains("Environment:"), "{args:?} -h");
    }
    // `gbooks help …` shows the same long help, footer and all; a query
    // that happens to be "help" changes nothing.
    for (args, page) in [
        (&["help", "search"][..], "`gbooks man search`"),
        (&["help", "auth", "key", "set"], "`gbooks man auth key set`"),
        (&["--format", "json", "help", "cover"], "`gbooks man cover`"),
    ] {
        let out = sb.cmd(NOWHERE).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let text = stdout(&out);
        assert!(text.contains("Environment:"), "{args:?}: {text}");
        assert!(text.trim_end().lines().last().unwrap().contains(page), "{args:?}");
    }
    // A command's own note stays, above the footer.
    let out = sb.cmd(NOWHERE).args(["cover", "--help"]).output().unwrap();
    let text = stdout(&out);
    let note = text.find("Exit status: 0 when every cover was saved").unwrap();
    assert!(note < text.find("Environment:").unwrap());
}

#[tokio::test]
async fn offsets_past_the_apis_range_are_usage_errors_not_panics() {
    let server = MockServer::start().await;
    // Every page is full, so paging goes on past the first one.
    let endless = List {
        total: u128::MAX,
        total_items: Some(u64::MAX),
        ..List::of(0)
    };
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(endless)
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    for args in [
        &["search", "x", "--offset", "18446744073709551615"][..],
        &["search", "x", "--offset", "4294967296", "--limit", "100"],
        &[
            "shelves",
            "show",
            "2",
            "--user",
            "u1",
            "--offset",
            "18446744073709551615",
        ],
    ] {
        let out = sb.cmd(&api(&server)).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());

    // The largest startIndex the API takes still pages without overflow.
    let out = sb
        .cmd(&api(&server))
        .args([
            "search",
            "x",
            "--offset",
            "4294967295",
            "--limit",
            "100",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.len(), 100);
    assert_eq!(got[0]["id"], "v4294967295");
}

/// Neither a config that does not parse, nor stored credentials that do not,
/// nor an API base that is no URL matters for help and version.
#[test]
fn help_and_version_need_nothing() {
    let sb = Sandbox::new();
    sb.write_config("this is not toml");
    std::fs::write(sb.credentials_file(), "garbage").unwrap();
    for args in [
        &["--help"][..],
        &["--version"],
        &["login", "--help"],
        &["auth", "status", "--help"],
    ] {
        let out = sb.cmd("not a url").args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        match args {
            ["--version"] => assert_eq!(text, format!("gbooks {}\n", env!("CARGO_PKG_VERSION"))),
            ["--help"] => assert!(text.contains("search"), "{text}"),
            _ => assert!(text.contains("Usage: gbooks"), "{args:?}: {text}"),
        }
    }
}
