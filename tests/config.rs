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
