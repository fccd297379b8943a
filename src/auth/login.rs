//! The installed-app login (RFC 8252): a one-shot listener on 127.0.0.1,
//! PKCE S256 (RFC 7636) and a `state` checked on return, with a paste-the-URL
//! fallback for machines whose browser cannot reach the listener.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use oauth2::{CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use url::Url;

use super::{constant_time_eq, endpoints, ClientSecret, Credentials, Error, BOOKS_SCOPE};
use crate::http::Http;
use crate::messages;

/// How to run one login.
pub struct LoginOptions {
    pub no_browser: bool,
    /// 0 for an ephemeral port.
    pub port: u16,
    pub timeout: Duration,
    /// Starts the user's browser at a URL; the error says why it could not.
    pub open_browser: OpenBrowser,
}

/// Starts a browser at a URL, or says why it could not.
pub type OpenBrowser = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// An answer to the login: from the listener (with its connection, which
/// gets the result page) or pasted on stdin.
struct Callback {
    query: String,
    stream: Option<TcpStream>,
}

/// Runs the whole login and returns the new credentials, not yet stored:
/// the caller stores them, then tells the browser tab through [`Pending`].
pub async fn login(cs: &ClientSecret, http: &Http, opts: &LoginOptions) -> Result<Pending, Error> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, opts.port))
        .await
        .map_err(|e| Error::io(format!("cannot listen on 127.0.0.1:{}", opts.port), e))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::io("cannot listen on 127.0.0.1", e))?
        .port();
    let redirect = Url::parse(&format!("http://127.0.0.1:{port}/")).expect("a valid URL");

    // 32 random bytes each: a 43-character verifier and a 256-bit state.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256_len(32);
    let state = CsrfToken::new_random_len(32);
    let (auth_url, _) = endpoints::oauth_client(cs)
        .set_redirect_uri(RedirectUrl::from_url(redirect.clone()))
        .authorize_url(|| state.clone())
        .add_scope(Scope::new(BOOKS_SCOPE.to_string()))
        // Both, so that Google always sends a refresh token.
        .add_extra_param("access_type", "offline")
        .add_extra_param("prompt", "consent")
        .set_pkce_challenge(challenge)
        .url();

    // Even with --quiet: without it there is no login.
    messages::tell(&format!(
        "Open this URL in your browser to log in:\n\n    {auth_url}\n"
    ));
    let (tx, mut rx) = mpsc::channel::<Callback>(4);
    let server = tokio::spawn(serve(listener, tx.clone()));
    let mut paste = None;
    if opts.no_browser {
        messages::tell(&format!(
            "Waiting for the browser. If it cannot load the page it is sent to, paste that page's \
             full address (it starts with {redirect}) here and press Enter:"
        ));
        paste = Some(tokio::spawn(read_pasted(tx, redirect.clone())));
    } else {
        drop(tx);
        match (opts.open_browser)(auth_url.as_str()) {
            Ok(()) => messages::status(&format!(
                "Waiting for the browser (up to {} s)...",
                opts.timeout.as_secs_f64()
            )),
            Err(why) => messages::tell(&format!(
                "Could not open a browser ({why}); open the URL above yourself."
            )),
        }
    }

    let deadline = tokio::time::sleep(opts.timeout);
    tokio::pin!(deadline);
    let outcome = loop {
        let cb = tokio::select! {
            callback = rx.recv() => match callback {
                Some(cb) => cb,
                None => break Err(Error::Failed("the login listener stopped".into())),
            },
            _ = &mut deadline => break Err(Error::Timeout(opts.timeout.as_secs_f64())),
        };
        match parse_callback(&cb.query, state.secret()) {
            // A forged request, or a stale tab from an earlier attempt on
            // the same --port: not the answer; the real one may still come.
            Err(Error::StateMismatch) => {
                tracing::info!("login listener: an answer with another state, still waiting");
                match cb.stream {
                    Some(stream) => {
                        let page = result_page(
                            400,
                            "Not this login",
                            "This answer belongs to another login attempt. gbooks is still waiting for the current one.",
                        );
                        let _ = tokio::time::timeout(Duration::from_secs(5), write_page(stream, page)).await;
                    }
                    None => messages::tell(
                        "That address is from another login attempt (its state does not match); paste the newest one:",
                    ),
                }
            }
            Err(e) => {
                fail_page(cb.stream, &e).await;
                break Err(e);
            }
            Ok(code) => {
                break match endpoints::exchange_code(cs, http, code, verifier, &redirect).await {
                    Ok(creds) => Ok(Pending {
                        creds,
                        page: cb.stream,
                    }),
                    Err(e) => {
                        fail_page(cb.stream, &e).await;
                        Err(e)
                    }
                }
            }
        }
    };
    // The listener closes once there is an answer.
    server.abort();
    if let Some(p) = paste {
        p.abort();
    }
    outcome
}

/// New credentials whose browser tab still waits for its page: it says
/// "Logged in" only once they are stored.
pub struct Pending {
    pub creds: Credentials,
    page: Option<TcpStream>,
}

impl Pending {
    /// The credentials are stored: the tab may say so.
    pub async fn stored(self) {
        if let Some(stream) = self.page {
            let page = result_page(
                200,
                "Logged in",
                "gbooks is logged in. You can close this tab and return to the terminal.",
            );
            let _ = tokio::time::timeout(Duration::from_secs(5), write_page(stream, page)).await;
        }
    }

    /// Storing them failed: the tab says so too.
    pub async fn not_stored(self, why: &Error) {
        fail_page(self.page, why).await;
    }
}

async fn fail_page(stream: Option<TcpStream>, e: &Error) {
    if let Some(stream) = stream {
        let page = result_page(400, "Login failed", &format!("gbooks could not log in: {e}."));
        let _ = tokio::time::timeout(Duration::from_secs(5), write_page(stream, page)).await;
    }
}

/// Checks `state` first (in constant time), then reads the code or the error.
pub fn parse_callback(query: &str, expected_state: &str) -> Result<String, Error> {
    let mut params: HashMap<String, String> = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        // A repeated parameter is not something Google sends.
        if params.insert(k.into_owned(), v.into_owned()).is_some() {
            return Err(Error::StateMismatch);
        }
    }
    match params.get("state") {
        Some(s) if constant_time_eq(s.as_bytes(), expected_state.as_bytes()) => {}
        _ => return Err(Error::StateMismatch),
    }
    if let Some(error) = params.get("error") {
        if error == "access_denied" {
            return Err(Error::Denied);
        }
        let mut text = error.clone();
        if let Some(d) = params.get("error_description") {
            text = format!("{text}: {d}");
        }
        // Whoever sent the redirect chose this text: keep it off the terminal's controls.
        return Err(Error::Authorization(crate::sanitize::terminal_line(&text)));
    }
    match params.get("code") {
        Some(code) if !code.is_empty() => Ok(code.clone()),
        _ => Err(Error::Failed(
            "the answer to the login has no authorization code".into(),
        )),
    }
}

/// The query of a pasted redirect address, if it is one.
pub fn pasted_query(text: &str) -> Option<String> {
    // Terminals and chat tools wrap what is copied: quotes, <angle brackets>.
    let text = text
        .trim()
        .trim_matches(|c: char| matches!(c, '"' | '\'' | '<' | '>' | '`') || c.is_whitespace());
    let url = Url::parse(text).ok()?;
    let query = url.query()?;
    let answers = url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "code" || k == "error");
    answers.then(|| query.to_string())
}

/// Whether a request to the listener is the answer, rather than a stray one.
fn is_callback(url: &Url) -> bool {
    url.path() == "/"
        && url
            .query_pairs()
            .any(|(k, _)| k == "code" || k == "error" || k == "state")
}

async fn serve(listener: TcpListener, tx: mpsc::Sender<Callback>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let tx = tx.clone();
        // Each connection on its own task: a silent one (a browser's
        // preconnect) must not hold up the answer.
        tokio::spawn(async move {
            let _ = handle(stream, tx).await;
        });
    }
}

async fn handle(mut stream: TcpStream, tx: mpsc::Sender<Callback>) -> std::io::Result<()> {
    let head = match tokio::time::timeout(Duration::from_secs(10), read_head(&mut stream)).await {
        Ok(head) => head?,
        Err(_) => return Ok(()),
    };
    let mut words = head.lines().next().unwrap_or_default().split(' ');
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let base = Url::parse("http://127.0.0.1/").expect("a valid URL");
    let url = target.starts_with('/').then(|| base.join(target).ok()).flatten();
    match url {
        Some(url) if method == "GET" && is_callback(&url) => {
            let query = url.query().unwrap_or_default().to_string();
            let _ = tx
                .send(Callback {
                    query,
                    stream: Some(stream),
                })
                .await;
            Ok(())
        }
        _ => {
            tracing::info!("login listener: 404 for a stray request");
            write_page(
                stream,
                result_page(404, "Not found", "This is gbooks' login listener."),
            )
            .await
        }
    }
}

async fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while buf.len() < 16 * 1024 && !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

struct Page {
    status: u16,
    html: String,
}

fn result_page(status: u16, title: &str, text: &str) -> Page {
    let html = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>gbooks: {t}</title></head>\
         <body style=\"font-family: sans-serif; margin: 3em\"><h1>{t}</h1><p>{x}</p></body></html>\n",
        t = escape_html(title),
        x = escape_html(text)
    );
    Page { status, html }
}

async fn write_page(mut stream: TcpStream, page: Page) -> std::io::Result<()> {
    let reason = match page.status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n",
        page.status,
        page.html.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(page.html.as_bytes()).await?;
    stream.flush().await?;
    stream.shutdown().await
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn read_pasted(tx: mpsc::Sender<Callback>, redirect: Url) {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        match pasted_query(&line) {
            // Keeps reading: one with the wrong state is not the last word.
            Some(query) => {
                if tx.send(Callback { query, stream: None }).await.is_err() {
                    return;
                }
            }
            None => messages::tell(&format!(
                "That is not the address the browser was sent to; it starts with {redirect}?. Try again:"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_matching_state() {
        let state = "s".repeat(43);
        let ok = format!("code=4%2F0Ab&state={state}&scope=x");
        assert_eq!(parse_callback(&ok, &state).unwrap(), "4/0Ab");
        let forged = "code=4%2F0Ab&state=forged";
        assert!(matches!(
            parse_callback(forged, &state),
            Err(Error::StateMismatch)
        ));
        assert!(matches!(
            parse_callback("code=x", &state),
            Err(Error::StateMismatch)
        ));
        let twice = format!("code=x&state={state}&state={state}");
        assert!(matches!(
            parse_callback(&twice, &state),
            Err(Error::StateMismatch)
        ));
        let denied = format!("error=access_denied&state={state}");
        assert!(matches!(parse_callback(&denied, &state), Err(Error::Denied)));
        let other = format!("error=invalid_scope&error_description=bad+scope&state={state}");
        let err = parse_callback(&other, &state).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the authorization server refused the login: invalid_scope: bad scope"
        );
        // A forged error is a forgery first.
        assert!(matches!(
            parse_callback("error=access_denied&state=nope", &state),
            Err(Error::StateMismatch)
        ));
        assert!(parse_callback(&format!("state={state}"), &state).is_err());
    }

    #[test]
    fn reads_pasted_redirect_addresses() {
        assert_eq!(
            pasted_query("  http://127.0.0.1:8765/?state=abc&code=4/xyz&scope=s \n").as_deref(),
            Some("state=abc&code=4/xyz&scope=s")
        );
        assert!(pasted_query("http://127.0.0.1:1/?error=access_denied&state=a").is_some());
        for not in [
            "4/xyz",
            "http://127.0.0.1:1/",
            "http://127.0.0.1:1/?state=a",
            "hello there",
        ] {
            assert_eq!(pasted_query(not), None, "{not}");
        }
    }

    #[test]
    fn tells_the_answer_from_stray_requests() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(is_callback(&u("http://127.0.0.1:1/?code=a&state=b")));
        assert!(is_callback(&u("http://127.0.0.1:1/?error=access_denied")));
        assert!(!is_callback(&u("http://127.0.0.1:1/favicon.ico")));
        assert!(!is_callback(&u("http://127.0.0.1:1/favicon.ico?code=a")));
        assert!(!is_callback(&u("http://127.0.0.1:1/")));
    }

    /// A query as Google builds it: the code and state in any order among
    /// other parameters, form-encoded.
    fn redirect_query(code: &str, state: &str, extra: &[(String, String)], state_first: bool) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if state_first {
            q.append_pair("state", state);
        }
        q.append_pair("code", code);
        for (k, v) in extra {
            q.append_pair(k, v);
        }
        if !state_first {
            q.append_pair("state", state);
        }
        q.finish()
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_callbacks_never_panic(query in "(?s).{0,200}", state in "(?s).{0,60}") {
            let _ = parse_callback(&query, &state);
            let _ = pasted_query(&query);
            let base = Url::parse("http://127.0.0.1/").unwrap();
            if let Ok(url) = base.join(&format!("/{query}")) {
                let _ = is_callback(&url);
            }
        }

        #[test]
        fn a_built_redirect_parses_back(
            code in "\\PC{1,80}",
            state in "[A-Za-z0-9_-]{43}",
            // Distinct names: a repeated parameter is refused on purpose.
            extra in proptest::collection::btree_map("(scope|authuser|prompt|hd)", "\\PC{0,30}", 0..4),
            state_first in proptest::bool::ANY,
            port in 1u16..,
            pad in "[ \t]{0,3}",
        ) {
            let extra: Vec<(String, String)> = extra.into_iter().collect();
            let query = redirect_query(&code, &state, &extra, state_first);
            proptest::prop_assert_eq!(parse_callback(&query, &state).unwrap(), code.clone());

            // The same answer pasted from the browser's address bar.
            let pasted = format!("{pad}http://127.0.0.1:{port}/?{query}{pad}\n");
            let got = pasted_query(&pasted);
            proptest::prop_assert_eq!(got.as_deref(), Some(query.as_str()));
            proptest::prop_assert_eq!(parse_callback(&got.unwrap(), &state).unwrap(), code.clone());

            // And as the listener sees it.
            let url = Url::parse("http://127.0.0.1/").unwrap().join(&format!("/?{query}")).unwrap();
            proptest::prop_assert!(is_callback(&url));

            // Any other state is refused, whatever the code.
            let mut forged = state.clone().into_bytes();
            forged[0] = if forged[0] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(forged).unwrap();
            proptest::prop_assert!(matches!(parse_callback(&query, &forged), Err(Error::StateMismatch)));
        }

        #[test]
        fn server_chosen_error_text_is_terminal_safe(error in "(?s).{1,40}", description in "(?s).{0,40}") {
            let state = "s".repeat(43);
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.append_pair("error", &error).append_pair("error_description", &description).append_pair("state", &state);
            match parse_callback(&q.finish(), &state) {
                Err(Error::Denied) => proptest::prop_assert_eq!(error.as_str(), "access_denied"),
                Err(Error::Authorization(text)) => {
                    proptest::prop_assert!(!text.chars().any(char::is_control), "{:?}", text);
                }
                other => proptest::prop_assert!(false, "{:?}", other.map(|_| ())),
            }
        }
    }

    #[test]
    fn pkce_verifier_and_challenge_follow_rfc_7636() {
        use base64::Engine as _;
        use sha2::Digest as _;
        for _ in 0..20 {
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256_len(32);
            let v = verifier.secret();
            assert!((43..=128).contains(&v.len()), "{}", v.len());
            assert!(v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
            assert_eq!(challenge.method().as_str(), "S256");
            let want =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(v.as_bytes()));
            assert_eq!(challenge.as_str(), want);
        }
        let (_, a) = PkceCodeChallenge::new_random_sha256_len(32);
        let (_, b) = PkceCodeChallenge::new_random_sha256_len(32);
        assert_ne!(a.secret(), b.secret());
        let state = CsrfToken::new_random_len(32);
        // 32 bytes in base64url: 43 characters, 256 bits.
        assert_eq!(state.secret().len(), 43);
    }
}
