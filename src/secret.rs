//! A string that never shows itself by accident.

use std::borrow::Cow;
use std::fmt;
use std::sync::RwLock;

/// Tokens, client secrets and API keys. `Debug` and `Display` print
/// `(redacted)`; the value is only reachable through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Also registers the value, so that [`scrub`] takes it out of every
    /// message from now on.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        register(&value);
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

/// `text` with every secret in it replaced by `(redacted)`, also in the
/// percent-encoded forms a URL or form body gives it: a server or proxy that
/// echoes the request in its error must not put a secret on the terminal.
pub fn redact(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        let raw = secret.expose();
        if raw.is_empty() {
            continue;
        }
        let encoded =
            percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC).to_string();
        let form: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
        for form in [raw, encoded.as_str(), form.as_str()] {
            out = out.replace(form, "(redacted)");
        }
    }
    out
}

/// Every secret the process has seen, in each form it may be echoed in.
static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Shorter values are not registered: scrubbing every `x` of every line
/// for a one-letter "key" would make messages unreadable and hide nothing.
const SHORTEST: usize = 6;

/// A cut secret this long or longer still counts: enough of a token to
/// narrow a guess, and long enough not to match ordinary words.
const PREFIX: usize = 8;

/// Remembers a secret (a token, key, password, code or verifier) for
/// [`scrub`]. Called as soon as a secret becomes known.
pub fn register(value: &str) {
    if value.chars().count() < SHORTEST {
        return;
    }
    let encoded =
        percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string();
    let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let mut known = KNOWN.write().unwrap_or_else(|e| e.into_inner());
    // Matched without regard to ASCII case: `%2f` and `%2F` are both
    // echoed, and hiding a little more than the secret costs nothing.
    for f in [
        value.to_ascii_lowercase(),
        encoded.to_ascii_lowercase(),
        form.to_ascii_lowercase(),
    ] {
        if !known.contains(&f) {
            known.push(f);
        }
    }
}

/// `text` with every registered secret replaced by `(redacted)`: whole,
/// percent- or form-encoded, or cut to a prefix of 8 characters or more.
/// The one choke point every message passes before it is shown or cut.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let known = KNOWN.read().unwrap_or_else(|e| e.into_inner());
    if known.is_empty() {
        return Cow::Borrowed(text);
    }
    let lower = text.to_ascii_lowercase();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for form in known.iter() {
        find_spans(&lower, form, &mut spans);
    }
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in spans {
        if end <= copied {
            continue;
        }
        if start >= copied {
            out.push_str(&text[copied..start]);
            out.push_str("(redacted)");
        }
        copied = end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// Where `form`, or a prefix of it of `PREFIX` characters or more, is in
/// `text` (both lower-cased already).
fn find_spans(text: &str, form: &str, spans: &mut Vec<(usize, usize)>) {
    let anchor_len = form.char_indices().nth(PREFIX).map_or(form.len(), |(i, _)| i);
    let whole_only = anchor_len == form.len();
    let anchor = &form[..anchor_len];
    let (t, f) = (text.as_bytes(), form.as_bytes());
    let mut from = 0;
    while let Some(at) = text[from..].find(anchor).map(|a| a + from) {
        let mut len = anchor_len;
        while len < f.len() && at + len < t.len() && t[at + len] == f[len] {
            len += 1;
        }
        while !form.is_char_boundary(len) {
            len -= 1;
        }
        if !whole_only || len == f.len() {
            spans.push((at, at + len));
        }
        from = at + anchor_len.max(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_plain_and_encoded_forms() {
        let refresh = Secret::new("1//refresh+token");
        let key = Secret::new("AIzaKEY");
        let text = "a=1%2F%2Frefresh%2Btoken b=1//refresh+token c=1%2F%2Frefresh%2Btoken&key=AIzaKEY";
        assert_eq!(
            redact(text, &[&refresh, &key, &Secret::new("")]),
            "a=(redacted) b=(redacted) c=(redacted)&key=(redacted)"
        );
        assert_eq!(redact("nothing here", &[&key]), "nothing here");
    }

    proptest::proptest! {
        #[test]
        fn a_redacted_text_never_holds_the_secret(
            secret in "[A-Za-z0-9/+._~-]{4,24}",
            before in "\\PC{0,20}",
            after in "\\PC{0,20}",
        ) {
            let s = Secret::new(secret.clone());
            let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            let text = format!("{before}{secret}{after} {form}");
            let clean = redact(&text, &[&s]);
            proptest::prop_assert!(!clean.contains(&secret), "{clean}");
        }
    }

    #[test]
    fn scrubs_registered_secrets_whole_encoded_and_cut() {
        register("ya29.scrub/me+now-0123456789");
        register("short");
        let text = "a ya29.scrub/me+now-0123456789 b ya29.scrub%2Fme%2bnow c ya29.scr… d ya29.sc e short";
        assert_eq!(
            scrub(text),
            "a (redacted) b (redacted) c (redacted)… d ya29.sc e short"
        );
        assert!(matches!(scrub("nothing"), Cow::Borrowed(_)));
    }

    #[test]
    fn never_formats_the_value() {
        let s = Secret::new("ya29.secret");
        assert_eq!(format!("{s} {s:?}"), "(redacted) (redacted)");
        assert_eq!(s.expose(), "ya29.secret");
    }
}
