//! A string that never shows itself by accident.

use std::fmt;

/// Tokens, client secrets and API keys. `Debug` and `Display` print
/// `(redacted)`; the value is only reachable through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
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
    fn never_formats_the_value() {
        let s = Secret::new("ya29.secret");
        assert_eq!(format!("{s} {s:?}"), "(redacted) (redacted)");
        assert_eq!(s.expose(), "ya29.secret");
    }
}
