use std::fmt;

use serde::Deserialize;

/// What a token source may fail with: the Books client passes it on
/// untouched, so the caller can ask the concrete error what it is.
pub type TokenError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What can go wrong talking to the Books API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{0}")]
    Api(ApiError),
    #[error("{0}")]
    Http(#[from] crate::http::Error),
    #[error("invalid response from the Books API: {0}")]
    InvalidResponse(String),
    /// Private data was asked for without a token source or a login.
    #[error("not logged in")]
    NotLoggedIn,
    #[error("{0}")]
    Token(#[source] TokenError),
}

impl Error {
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(api) => Some(api.status),
            _ => None,
        }
    }
}

/// Which credentials went with the request that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Nothing,
    ApiKey,
    Bearer,
}

/// An error answer from Google, in any of its shapes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    pub status: u16,
    pub reason: Option<String>,
    pub message: String,
    pub sent: Sent,
    limit: Option<crate::http::Limit>,
}

impl ApiError {
    /// Parses Google's error JSON: the legacy shape (`errors[]`, no `status`)
    /// and the current one (`status`, `details[]`). A body that is not JSON
    /// (Google serves HTML 404 pages) gives the status and a short text.
    pub fn from_body(status: u16, body: &[u8]) -> ApiError {
        #[derive(Deserialize)]
        struct Envelope {
            error: Body,
        }
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            message: Option<String>,
            #[serde(default)]
            status: Option<String>,
            #[serde(default)]
            errors: Vec<Item>,
            #[serde(default)]
            details: Vec<Detail>,
        }
        #[derive(Deserialize)]
        struct Item {
            #[serde(default)]
            reason: Option<String>,
            #[serde(default)]
            message: Option<String>,
        }
        #[derive(Deserialize)]
        struct Detail {
            #[serde(default, rename = "@type")]
            kind: Option<String>,
            #[serde(default)]
            reason: Option<String>,
        }

        let limit = crate::http::limit_of(status, body);
        if let Ok(env) = serde_json::from_slice::<Envelope>(body) {
            let e = env.error;
            let info_reason = e
                .details
                .iter()
                .find(|d| d.kind.as_deref().is_some_and(|k| k.ends_with("ErrorInfo")))
                .and_then(|d| d.reason.clone());
            let first = e.errors.first();
            let reason = info_reason
                .or_else(|| first.and_then(|i| i.reason.clone()))
                .or(e.status);
            let message = e
                .message
                .or_else(|| first.and_then(|i| i.message.clone()))
                .unwrap_or_else(|| reason_phrase(status).to_string());
            return ApiError {
                status,
                reason,
                message,
                sent: Sent::Nothing,
                limit,
            };
        }
        // OAuth endpoints answer `{"error": "invalid_grant", "error_description": ...}`.
        #[derive(Deserialize)]
        struct OAuth {
            error: String,
            #[serde(default)]
            error_description: Option<String>,
        }
        if let Ok(o) = serde_json::from_slice::<OAuth>(body) {
            let message = o.error_description.unwrap_or_else(|| o.error.clone());
            return ApiError {
                status,
                reason: Some(o.error),
                message,
                sent: Sent::Nothing,
                limit,
            };
        }
        ApiError {
            status,
            reason: None,
            message: short_text(body).unwrap_or_else(|| reason_phrase(status).to_string()),
            sent: Sent::Nothing,
            limit,
        }
    }

    /// Takes out secrets that a server or proxy echoed from the request.
    pub fn redact(&mut self, secrets: &[&crate::secret::Secret]) {
        self.message = crate::secret::redact(&self.message, secrets);
        self.reason = self.reason.as_deref().map(|r| crate::secret::redact(r, secrets));
    }

    pub fn is_reason(&self, reason: &str) -> bool {
        self.reason
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case(reason))
    }

    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }

    /// The token was refused (expired, revoked, or never valid).
    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
    }

    pub fn is_key_rejected(&self) -> bool {
        self.status == 400 && (self.is_reason("API_KEY_INVALID") || self.is_reason("keyInvalid"))
    }

    /// The Books API is not enabled for the key's project, or the key may not use it.
    pub fn is_api_disabled(&self) -> bool {
        self.status == 403
            && (self.is_reason("accessNotConfigured")
                || self.is_reason("SERVICE_DISABLED")
                || self.is_reason("API_KEY_SERVICE_BLOCKED"))
    }

    /// Too many requests, or the small quota of keyless calls is used up.
    pub fn is_rate_limited(&self) -> bool {
        self.status == 429 || self.is_reason("dailyLimitExceededUnreg")
    }

    /// Google asks to slow down (429, or 403 `rateLimitExceeded` or
    /// `userRateLimitExceeded`): worth trying again later.
    pub fn is_throttled(&self) -> bool {
        self.limit == Some(crate::http::Limit::Throttled)
    }

    /// The day's quota is used up (403 `dailyLimitExceeded`,
    /// `dailyLimitExceededUnreg`, `quotaExceeded`, or a per-day 429): nothing
    /// gets through until it resets at midnight Pacific time.
    pub fn is_daily_quota(&self) -> bool {
        self.limit == Some(crate::http::Limit::DailyQuota)
    }

    /// Google could not place the caller (`country` is needed).
    pub fn is_location_unknown(&self) -> bool {
        self.is_reason("unknownLocation")
    }

    /// A 4xx: the request, key or quota is at fault, so every other request
    /// of the run would meet it too.
    pub fn is_client_error(&self) -> bool {
        (400..500).contains(&self.status)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Some(reason) => write!(f, "{} {}: {}", self.status, reason, self.message)?,
            None => write!(
                f,
                "{} {}: {}",
                self.status,
                reason_phrase(self.status),
                self.message
            )?,
        }
        Ok(())
    }
}

/// The `<title>` of an HTML page, or the start of a text body.
fn short_text(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let lower = text.to_ascii_lowercase();
    let snippet = match (lower.find("<title>"), lower.find("</title>")) {
        (Some(a), Some(b)) if a + 7 <= b => text[a + 7..b].to_string(),
        _ if lower.contains("<html") || lower.contains("<!doctype") => String::new(),
        _ => text.to_string(),
    };
    // Scrubbed before the cut: a secret across it would leak in part.
    let snippet = crate::secret::scrub(&snippet);
    let snippet = crate::sanitize::terminal_line(snippet.trim());
    let snippet = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
    if snippet.is_empty() {
        return None;
    }
    Some(match snippet.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &snippet[..i]),
        None => snippet,
    })
}

pub fn reason_phrase(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("HTTP error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_shape_without_status() {
        let body = br#"{"error":{"errors":[{"domain":"global","reason":"backendFailed","message":"Service temporarily unavailable."}],"code":503,"message":"Service temporarily unavailable."}}"#;
        let e = ApiError::from_body(503, body);
        assert_eq!(e.reason.as_deref(), Some("backendFailed"));
        assert_eq!(
            e.to_string(),
            "503 backendFailed: Service temporarily unavailable."
        );
    }

    #[test]
    fn modern_shape_prefers_error_info() {
        let body = br#"{"error":{"code":400,"message":"API key not valid.","errors":[{"reason":"badRequest"}],"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#;
        let e = ApiError::from_body(400, body);
        assert_eq!(e.reason.as_deref(), Some("API_KEY_INVALID"));
        assert!(e.is_key_rejected());
    }

    #[test]
    fn status_only() {
        let e = ApiError::from_body(
            404,
            br#"{"error":{"code":404,"message":"gone","status":"NOT_FOUND"}}"#,
        );
        assert_eq!(e.to_string(), "404 NOT_FOUND: gone");
        assert!(e.is_not_found());
    }

    #[test]
    fn html_and_garbage() {
        let e = ApiError::from_body(
            404,
            b"<!DOCTYPE html><html><title>Error 404 (Not Found)!!1</title><p>x</p>",
        );
        assert_eq!(e.to_string(), "404 Not Found: Error 404 (Not Found)!!1");
        let e = ApiError::from_body(502, &[0xff, 0xfe, 0x00]);
        assert!(e.to_string().starts_with("502 Bad Gateway"));
        let e = ApiError::from_body(500, b"");
        assert_eq!(e.to_string(), "500 Internal Server Error: Internal Server Error");
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_give_a_one_line_error(status in 400u16..600, body in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let e = ApiError::from_body(status, &body);
            proptest::prop_assert_eq!(e.status, status);
            let _ = e.to_string();
        }

        #[test]
        fn any_json_shape_is_read_without_panic(message in "\\PC{0,40}", reason in proptest::option::of("[a-zA-Z_]{1,20}"), code in 0i64..1000) {
            let body = serde_json::json!({"error": {"code": code, "message": message, "errors": [{"reason": reason}]}});
            let e = ApiError::from_body(503, body.to_string().as_bytes());
            proptest::prop_assert_eq!(e.reason, reason);
            proptest::prop_assert_eq!(e.message, message);
        }
    }
}
