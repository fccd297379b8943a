//! Settings from flags, the environment and config.toml, in that order,
//! and their mistakes: one line, exit 2, nothing sent.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

#[tokio::test]
async fn key_comes_from_flag_then_env_then_file() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(volumes(vec![])))
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    sb.write_config("api_key = \"from-file\"\n");
    sb.cmd(&api(&server))
        .args(["search", "x", "--no-cache"])
        .assert()
        .success();
    sb.cmd(&api(&server))
        .args(["search", "x", "--no-cache"])
        .env("GBOOKS_API_KEY", "from-env")
        .assert()
        .success();
    sb.cmd(&api(&server))
        .args(["search", "x", "--no-cache", "--api-key", "from-flag"])
        .env("GBOOKS_API_KEY", "from-env")
        .assert()
        .success();
    let keys: Vec<String> = queries(&server)
        .await
        .iter()
        .map(|q| param(q, "key").unwrap_or("").to_string())
        .collect();
    assert_eq!(keys, ["from-file", "from-env", "from-flag"]);
}

#[tokio::test]
async fn configuration_mistakes_are_usage_errors() {
    let server = MockServer::start().await;
    let sb = Sandbox::new();
    // config.toml, an environment variable, and what the error says.
    type Case<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a str);
    let cases: &[Case] = &[
        ("country = \"USA\"\n", None, "country must be a two-letter code"),
        ("format = \"xml\"\n", None, "format = \"xml\" in config.toml"),
        (
            "cache_ttl = \"often\"\n",
            None,
            "cache_ttl = \"often\" in config.toml",
        ),
        (
            "colour = \"never\"\n",
            None,
            "config.toml, line 1: unknown field `colour`",
        ),
        (
            "",
            Some(("GBOOKS_TOKEN_STORE", "vault")),
            "GBOOKS_TOKEN_STORE = \"vault\"",
        ),
        (
            "",
            Some(("GBOOKS_API_BASE", "ftp://books")),
            "GBOOKS_API_BASE is not an http(s) URL",
        ),
    ];
    for (file, env, want) in cases {
        sb.write_config(file);
        let mut cmd = sb.cmd(&api(&server));
        cmd.args(["search", "x"]);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{file:?} {env:?}: {}", stderr(&out));
        assert!(
            one_error_line(&out).contains(want),
            "{file:?} {env:?}: {}",
            stderr(&out)
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn malformed_config_names_file_and_line() {
    let sb = Sandbox::new();
    sb.write_config("format = \"json\"\ncountry = = 1\napi_key = \"k\"\n");
    let out = sb.cmd(NOWHERE).args(["search", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let line = one_error_line(&out);
    assert!(line.contains("config.toml, line 2"), "{line}");
    assert!(line.contains(&sb.config_dir().display().to_string()), "{line}");
}

#[tokio::test]
async fn a_bad_revoke_url_does_not_break_other_commands() {
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", volumes(vec![])).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["search", "x", "--json"])
        .env("GBOOKS_REVOKE_URL", "::")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn config_set_get_unset_keep_comments() {
    let sb = Sandbox::new();
    sb.write_config("# mine\nformat = \"csv\"  # for scripts\n\n[unrelated]\n");
    let cfg = |args: &[&str]| sb.cmd(NOWHERE).arg("config").args(args).output().unwrap();
    let out = cfg(&["set", "cache_ttl", "7d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cfg(&["set", "country", "de"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(sb.config_dir().join("config.toml")).unwrap();
    assert!(
        text.starts_with("# mine\nformat = \"csv\"  # for scripts\n"),
        "{text}"
    );
    assert!(text.contains("cache_ttl = \"7d\""), "{text}");
    assert_eq!(stdout(&cfg(&["get", "cache_ttl"])), "7d\n");
    assert_eq!(stdout(&cfg(&["get", "format"])), "csv\n");
    let out = cfg(&["unset", "format"]);
    assert!(out.status.success());
    let out = cfg(&["get", "format"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("format is not set"), "{}", stderr(&out));
    let text = std::fs::read_to_string(sb.config_dir().join("config.toml")).unwrap();
    assert!(text.contains("[unrelated]") && !text.contains("format"), "{text}");
    assert_eq!(
        stdout(&cfg(&["path"])).trim(),
        sb.config_dir().join("config.toml").display().to_string()
    );
}

#[test]
fn config_refuses_unknown_keys_and_bad_values() {
    let sb = Sandbox::new();
    let cfg = |args: &[&str]| sb.cmd(NOWHERE).arg("config").args(args).output().unwrap();
    for args in [
        &["get", "colour"][..],
        &["set", "colour", "never"],
        &["unset", "colour"],
    ] {
        let out = cfg(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            one_error_line(&out),
            "gbooks: error: unknown config key \"colour\": the keys are api_key, format, country, cache_ttl, token_store, pager"
        );
    }
    for (key, value) in [
        ("format", "xml"),
        ("country", "USA"),
        ("cache_ttl", "often"),
        ("token_store", "vault"),
    ] {
        let out = cfg(&["set", key, value]);
        assert_eq!(out.status.code(), Some(2), "{key} {value}");
        assert!(!sb.config_dir().join("config.toml").exists());
    }
    // The key is a secret: never printed, and not typed on a command line.
    sb.write_config("api_key = \"AIza-in-file\"\n");
    let out = cfg(&["get", "api_key"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!stdout(&out).contains("AIza") && !stderr(&out).contains("AIza"));
    assert_eq!(cfg(&["set", "api_key", "AIza-typed"]).status.code(), Some(2));
}

#[test]
fn config_list_says_where_each_value_comes_from() {
    let sb = Sandbox::new();
    // A broken file elsewhere must not stop `config` from fixing it.
    sb.write_config("format = \"csv\"\napi_key = \"AIza-in-file\"\n");
    let out = sb
        .cmd(NOWHERE)
        .args(["config", "list", "--json", "--country", "fr"])
        .env("GBOOKS_PAGER", "")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("AIza"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let source = |key: &str| {
        let row = v.as_array().unwrap().iter().find(|r| r["key"] == key).unwrap();
        (
            row["value"].as_str().unwrap().to_string(),
            row["source"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(source("api_key"), ("(hidden)".into(), "file".into()));
    assert_eq!(source("format"), ("json".into(), "flag".into()));
    assert_eq!(source("country"), ("fr".into(), "flag".into()));
    assert_eq!(source("cache_ttl"), ("24h".into(), "default".into()));
    assert_eq!(source("token_store"), ("file".into(), "environment".into()));
    assert_eq!(source("pager"), ("".into(), "environment".into()));
    let out = sb.cmd(NOWHERE).args(["config", "list"]).output().unwrap();
    let text = stdout(&out);
    assert!(text.starts_with("KEY"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("format") && l.ends_with("file")),
        "{text}"
    );

    sb.write_config("format = = 1\n");
    let out = sb
        .cmd(NOWHERE)
        .args(["config", "unset", "format"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a file toml_edit cannot read is said so"
    );
    assert!(stderr(&out).contains("line 1"), "{}", stderr(&out));
    sb.write_config("colour = \"never\"\n");
    let out = sb
        .cmd(NOWHERE)
        .args(["config", "unset", "colour"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cache_stats_says_the_ttl_as_people_write_it() {
    let sb = Sandbox::new();
    let out = sb.cmd(NOWHERE).args(["cache", "stats"]).output().unwrap();
    assert!(
        stdout(&out).contains("TTL:") && stdout(&out).contains("24h"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("1day"));
}
