//! Failure answers from the API and the network: each gives one line on
//! stderr, `gbooks: error: …`, and its exit code.

use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// What the one error line must say.
#[derive(Clone, Copy)]
enum Line {
    Is(&'static str),
    /// Starts so, and holds each hint.
    StartsWith(&'static str, &'static [&'static str]),
}

struct Case {
    /// The API's answer to every `search x`; `None`: nothing listens.
    reply: Option<ResponseTemplate>,
    code: i32,
    line: Line,
    /// How many requests the server must get, when that matters.
    requests: Option<u64>,
}

fn cases() -> Vec<(String, Case)> {
    let case = |name: &str, reply, code, line, requests| {
        (
            name.to_string(),
            Case {
                reply,
                code,
                line,
                requests,
            },
        )
    };
    let invalid = |body: &str| Some(ResponseTemplate::new(200).set_body_string(body));
    let invalid_line = Line::StartsWith("gbooks: error: invalid response from the Books API: ", &[]);
    vec![
        case(
            "503, retried then reported",
            Some(ResponseTemplate::new(503).set_body_string(fixture("error_legacy_503.json"))),
            1,
            Line::Is("gbooks: error: 503 backendFailed: Service temporarily unavailable."),
            Some(4),
        ),
        case(
            "keyless 429 suggests a key",
            Some(
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "0")
                    .set_body_string(fixture("error_429_anonymous.json")),
            ),
            1,
            Line::StartsWith(
                "gbooks: error: 429 RATE_LIMIT_EXCEEDED: Quota exceeded",
                &["GBOOKS_API_KEY"],
            ),
            Some(4),
        ),
        case(
            "unknown location suggests --country, and is final",
            Some(ResponseTemplate::new(403).set_body_string(fixture("error_403_unknown_location.json"))),
            1,
            Line::StartsWith(
                "gbooks: error: 403 unknownLocation: Cannot determine user location",
                &["--country"],
            ),
            Some(1),
        ),
        case(
            "HTML 404 gives the status and short text",
            Some(
                ResponseTemplate::new(404)
                    .insert_header("content-type", "text/html")
                    .set_body_string(fixture("error_404_page.html")),
            ),
            3,
            Line::Is("gbooks: error: 404 Not Found: Error 404 (Not Found)!!1"),
            None,
        ),
        case(
            "truncated JSON",
            invalid("{\"kind\": \"books#volumes\", \"items\": [{\"id\": \"x\""),
            1,
            invalid_line,
            None,
        ),
        case(
            "HTML with a 200",
            invalid("<html>ok</html>"),
            1,
            invalid_line,
            None,
        ),
        case(
            "JSON of the wrong shape",
            invalid("{\"items\": 5}"),
            1,
            invalid_line,
            None,
        ),
        case(
            "nothing listens",
            None,
            1,
            Line::StartsWith("gbooks: error: cannot reach 127.0.0.1: ", &[]),
            None,
        ),
    ]
}

#[tokio::test]
async fn each_failure_is_one_line_with_its_exit_code() {
    check_cases(cases(), |case| async move {
        let server = MockServer::start().await;
        let base = match case.reply {
            Some(reply) => {
                let mut mock = Mock::given(method("GET"))
                    .and(path("/books/v1/volumes"))
                    .respond_with(reply);
                if let Some(n) = case.requests {
                    mock = mock.expect(n);
                }
                mock.mount(&server).await;
                api(&server)
            }
            None => format!("http://127.0.0.1:{}/books/v1", closed_port()),
        };
        let sb = Sandbox::new();
        let out = run(sb.cmd(&base).args(["search", "x"])).await;
        assert_eq!(out.status.code(), Some(case.code), "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "{}", stdout(&out));
        let line = one_error_line(&out);
        match case.line {
            Line::Is(want) => assert_eq!(line, want),
            Line::StartsWith(start, hints) => {
                assert!(line.starts_with(start), "{line}");
                for hint in hints {
                    assert!(line.contains(hint), "no {hint}: {line}");
                }
            }
        }
        server.verify().await;
    })
    .await;
}

#[tokio::test]
async fn a_rejected_key_exits_4_and_is_never_shown() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .and(query_param("key", API_KEY))
        .respond_with(ResponseTemplate::new(400).set_body_string(fixture("error_400_key_invalid.json")))
        .expect(1)
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["-v", "search", "x", "--api-key", API_KEY])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    assert!(
        err.contains("gbooks: error: 400 API_KEY_INVALID: API key not valid."),
        "{err}"
    );
    assert!(err.contains("key=REDACTED"), "-v logs the request: {err}");
    assert!(!err.contains(API_KEY) && !stdout(&out).contains(API_KEY));
}
