//! Google's OAuth client file (`client_secret.json`): which app is asking,
//! and where its authorization and token endpoints are.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use super::Error;
use crate::secret::Secret;

pub const FILE_NAME: &str = "client_secret.json";

pub struct ClientSecret {
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub auth_uri: Url,
    pub token_uri: Url,
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecret")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("auth_uri", &self.auth_uri.as_str())
            .field("token_uri", &self.token_uri.as_str())
            .finish()
    }
}

impl ClientSecret {
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<ClientSecret, Error> {
        #[derive(Deserialize)]
        struct Envelope {
            installed: Option<Inner>,
            web: Option<Inner>,
        }
        #[derive(Deserialize)]
        struct Inner {
            client_id: String,
            client_secret: Option<String>,
            auth_uri: Option<String>,
            token_uri: Option<String>,
        }
        let bad = |detail: String| Error::BadClientSecret {
            path: path.to_path_buf(),
            detail,
        };
        let env: Envelope = serde_json::from_slice(bytes).map_err(|e| bad(json_problem(&e)))?;
        let inner = env.installed.or(env.web).ok_or_else(|| {
            bad("expected an \"installed\" or \"web\" object (a Desktop app client)".into())
        })?;
        if inner.client_id.trim().is_empty() {
            return Err(bad("client_id is empty".into()));
        }
        let url = |name: &str, value: Option<String>, default: &str| -> Result<Url, Error> {
            let value = value.unwrap_or_else(|| default.to_string());
            let parsed = Url::parse(&value).ok();
            if let Some(password) = parsed.as_ref().and_then(|u| u.password()) {
                crate::secret::register(password);
            }
            parsed
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| bad(format!("{name} is not an http(s) URL")))
        };
        Ok(ClientSecret {
            client_id: inner.client_id,
            client_secret: inner.client_secret.filter(|s| !s.is_empty()).map(Secret::new),
            auth_uri: url(
                "auth_uri",
                inner.auth_uri,
                "https://accounts.google.com/o/oauth2/auth",
            )?,
            token_uri: url(
                "token_uri",
                inner.token_uri,
                "https://oauth2.googleapis.com/token",
            )?,
        })
    }

    /// Reads the client file: `explicit` (the flag or GBOOKS_CLIENT_SECRET_FILE),
    /// else the copy in the config dir.
    pub fn load(explicit: Option<&Path>, config_dir: &Path) -> Result<ClientSecret, Error> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => config_dir.join(FILE_NAME),
        };
        match std::fs::read(&path) {
            Ok(bytes) => ClientSecret::parse(&path, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
                Err(Error::NoClientSecret {
                    dir: config_dir.to_path_buf(),
                })
            }
            Err(e) => Err(Error::io(format!("cannot read {}", path.display()), e)),
        }
    }

    /// Copies a client file given with `--client-secret` into the config dir
    /// (0600), after checking it parses.
    pub fn install(from: &Path, config_dir: &Path) -> Result<(ClientSecret, PathBuf), Error> {
        let bytes =
            std::fs::read(from).map_err(|e| Error::io(format!("cannot read {}", from.display()), e))?;
        let parsed = ClientSecret::parse(from, &bytes)?;
        let to = config_dir.join(FILE_NAME);
        let same = std::fs::canonicalize(from).ok() == std::fs::canonicalize(&to).ok();
        if !same {
            super::private_fs::write_private(config_dir, &to, &bytes)?;
        }
        Ok((parsed, to))
    }
}

/// Where the file is wrong, without the value found there: serde's own
/// message quotes it ("invalid type: string \"GOCSPX-…\"").
fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let at = format!("line {}, column {}", e.line(), e.column());
    let text = e.to_string();
    let what = text.split(" at line ").next().unwrap_or_default();
    match e.classify() {
        Category::Syntax | Category::Eof => format!("not valid JSON ({at})"),
        Category::Data if what.starts_with("missing field") => format!("{what} ({at})"),
        _ => format!("a value of the wrong type ({at})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_installed_and_web_clients() {
        let p = Path::new("c.json");
        let c = ClientSecret::parse(
            p,
            br#"{"installed":{"client_id":"id1","client_secret":"s3cr3t","auth_uri":"http://127.0.0.1:1/auth","token_uri":"http://127.0.0.1:1/token","redirect_uris":["http://localhost"]}}"#,
        )
        .unwrap();
        assert_eq!(c.client_id, "id1");
        assert_eq!(c.client_secret.as_ref().unwrap().expose(), "s3cr3t");
        assert_eq!(c.token_uri.as_str(), "http://127.0.0.1:1/token");
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let w = ClientSecret::parse(p, br#"{"web":{"client_id":"id2"}}"#).unwrap();
        assert_eq!(w.client_id, "id2");
        assert_eq!(w.token_uri.as_str(), "https://oauth2.googleapis.com/token");
        for bad in [
            &br#"{"other":{}}"#[..],
            br#"{"installed":{"client_id":""}}"#,
            br#"{"installed":{"client_id":"x","token_uri":"ftp://x"}}"#,
            b"not json",
        ] {
            let err = ClientSecret::parse(p, bad).unwrap_err();
            assert!(matches!(err, Error::BadClientSecret { .. }), "{err}");
        }
    }

    #[test]
    fn errors_never_quote_the_file() {
        for (bad, want) in [
            (
                &br#"{"installed": "GOCSPX-leak"}"#[..],
                "a value of the wrong type (line 1, column 27)",
            ),
            (
                br#"{"installed": {"client_id": "x", "client_secret": 987654321}}"#,
                "a value of the wrong type",
            ),
            (
                br#"{"installed": {"client_secret": "GOCSPX-leak"}}"#,
                "missing field `client_id`",
            ),
            (
                br#"{"installed": {"client_id": "x", "client_secret": "GOCSPX-leak"#,
                "not valid JSON",
            ),
        ] {
            let err = ClientSecret::parse(Path::new("c.json"), bad)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{err}");
            assert!(!err.contains("leak") && !err.contains("987654321"), "{err}");
        }
    }
}
