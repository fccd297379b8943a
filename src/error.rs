//! The one place that turns a failure into what the user sees: an exit code
//! and one line, with a hint of what to do next. Lower layers return typed
//! errors that say what went wrong; this table asks them what they are.

use std::io;

use crate::auth;
use crate::books::{self, ApiError, Sent};
use crate::cache;
use crate::config::ConfigError;
use crate::cover::CoverError;
use crate::http;

/// Exit codes, documented in the README.
pub mod exit {
    pub const SUCCESS: i32 = 0;
    pub const FAILURE: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const NOT_FOUND: i32 = 3;
    pub const AUTH: i32 = 4;
    pub const INTERRUPTED: i32 = 130;
}

/// Bad input that clap could not catch: exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl UsageError {
    pub fn new(msg: impl Into<String>) -> Self {
        UsageError(msg.into())
    }
}

/// The user pressed Ctrl-C.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Some results were errors (batch lookups): the details are already printed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PartialFailure(pub String);

/// A batch that stopped before its end, with a line that says what is left
/// and what to do: exit 1, and the line printed as it is, without the
/// `gbooks: error:` prefix, so that scripts can match it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unfinished(pub String);

/// The line main prints for an error.
pub fn report_line(err: &anyhow::Error) -> String {
    match err.downcast_ref::<Unfinished>() {
        Some(Unfinished(line)) => crate::sanitize::terminal_line(line),
        None => format!("gbooks: error: {}", message(err)),
    }
}

/// Nothing (good enough) for what was asked: no volume carries an ISBN,
/// no argument had a cover, no candidate scored enough: exit 3.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotFound(pub String);

/// A usage error found by clap, as one line: its message, its details and
/// tips, and which `--help` to read. `args` is the command line as typed.
pub fn usage_line(err: &clap::Error, args: impl IntoIterator<Item = String>) -> String {
    let text = err.render().to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid usage");
    let mut line = first.strip_prefix("error: ").unwrap_or(first).to_string();
    let mut listing = line.ends_with(':');
    for detail in lines.take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information")) {
        if detail.starts_with("tip:") {
            listing = false;
            line.push_str("; ");
        } else if line.ends_with(':') || detail.starts_with('[') {
            line.push(' ');
        } else {
            line.push_str(if listing { ", " } else { "; " });
        }
        line.push_str(detail);
    }
    format!("{line}; see '{} --help'", command_path(args))
}

/// `gbooks shelves move` for `gbooks -v shelves move 2 x`: the subcommands named.
fn command_path(args: impl IntoIterator<Item = String>) -> String {
    use clap::CommandFactory;
    let mut cmd = crate::cli::Cli::command();
    let mut path = vec!["gbooks".to_string()];
    for arg in args.into_iter().skip(1).take_while(|a| a != "--") {
        let Some(sub) = cmd.find_subcommand(&arg).cloned() else {
            continue;
        };
        path.push(sub.get_name().to_string());
        cmd = sub;
    }
    path.join(" ")
}

/// True when the error chain ends in a closed stdout (`gbooks … | head -1`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The exit code for an error, from the first cause that has one.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    err.chain().find_map(code_of).unwrap_or(exit::FAILURE)
}

fn code_of(cause: &(dyn std::error::Error + 'static)) -> Option<i32> {
    if cause.is::<UsageError>() {
        return Some(exit::USAGE);
    }
    if cause.is::<Interrupted>() {
        return Some(exit::INTERRUPTED);
    }
    if cause.is::<NotFound>() {
        return Some(exit::NOT_FOUND);
    }
    if let Some(e) = cause.downcast_ref::<CoverError>() {
        return match e {
            CoverError::NoLinks | CoverError::Unusable(_) => Some(exit::NOT_FOUND),
            // The transport error, next in the chain, says.
            CoverError::Http(_) => None,
        };
    }
    if let Some(e) = cause.downcast_ref::<books::Error>() {
        return match e {
            books::Error::Api(api) => Some(api_code(api)),
            books::Error::NotLoggedIn => Some(exit::AUTH),
            books::Error::Http(http::Error::Insecure { .. }) => Some(exit::USAGE),
            // The token source's own error, next in the chain, says.
            books::Error::Token(_) => None,
            _ => Some(exit::FAILURE),
        };
    }
    if let Some(e) = cause.downcast_ref::<auth::Error>() {
        return Some(match e {
            auth::Error::Transport { .. } | auth::Error::Io { .. } => exit::FAILURE,
            auth::Error::Insecure { .. } => exit::USAGE,
            _ => exit::AUTH,
        });
    }
    if let Some(e) = cause.downcast_ref::<ConfigError>() {
        return Some(match e {
            ConfigError::NoConfigDir => exit::FAILURE,
            _ => exit::USAGE,
        });
    }
    if let Some(http::Error::Insecure { .. }) = cause.downcast_ref::<http::Error>() {
        return Some(exit::USAGE);
    }
    if cause.is::<http::Error>() || cause.is::<cache::Error>() {
        return Some(exit::FAILURE);
    }
    None
}

fn api_code(api: &ApiError) -> i32 {
    if api.is_not_found() {
        exit::NOT_FOUND
    } else if api.is_unauthorized() || api.is_key_rejected() || api.is_api_disabled() {
        exit::AUTH
    } else {
        exit::FAILURE
    }
}

/// How a hint joins the line: after a semicolon, or in parentheses.
enum Hint {
    Then(&'static str),
    Aside(String),
    Note(&'static str),
}

/// What the user can do about an error, from the first cause that knows.
fn hint_of(cause: &(dyn std::error::Error + 'static)) -> Option<Hint> {
    if let Some(e) = cause.downcast_ref::<books::Error>() {
        return match e {
            books::Error::Api(api) => api_hint(api),
            books::Error::NotLoggedIn => Some(Hint::Then("run gbooks login")),
            _ => None,
        };
    }
    match cause.downcast_ref::<http::Error>() {
        Some(http::Error::Timeout { each, .. }) => {
            return Some(Hint::Aside(format!("--timeout {} s each", http::seconds(*each))));
        }
        // Only the Books API's requests reach `http::send` with credentials.
        Some(http::Error::Insecure { .. }) => {
            return Some(Hint::Aside("GBOOKS_API_BASE; use https://".into()));
        }
        _ => {}
    }
    if let Some(e) = cause.downcast_ref::<auth::Error>() {
        return match e {
            auth::Error::NotLoggedIn
            | auth::Error::Unreadable
            | auth::Error::Revoked
            | auth::Error::OtherClient => Some(Hint::Then("run gbooks login")),
            auth::Error::NoClientSecretForRefresh { .. } => {
                Some(Hint::Then("run gbooks login --client-secret FILE"))
            }
            auth::Error::Timeout(_) => {
                Some(Hint::Then("run gbooks login again (--timeout SECS waits longer)"))
            }
            auth::Error::Keyring(_) => Some(Hint::Then("use --token-store file")),
            _ => None,
        };
    }
    None
}

fn api_hint(api: &ApiError) -> Option<Hint> {
    if api.sent == Sent::Nothing && api.is_rate_limited() {
        return Some(Hint::Note(
            "keyless calls share one small quota; set an API key with --api-key or GBOOKS_API_KEY",
        ));
    }
    if api.is_daily_quota() {
        return Some(Hint::Aside(
            "the daily quota is used up; it resets at midnight Pacific time".to_string(),
        ));
    }
    if api.is_location_unknown() {
        return Some(Hint::Note(
            "Google cannot tell where you are; pass --country with a two-letter code, e.g. --country US",
        ));
    }
    if api.is_reason("API_KEY_INVALID") || api.is_reason("keyInvalid") {
        return Some(Hint::Note(
            "check --api-key, GBOOKS_API_KEY or api_key in the config file",
        ));
    }
    if api.is_unauthorized() && api.sent == Sent::Bearer {
        return Some(Hint::Note("run gbooks login"));
    }
    None
}

/// One line: the outermost context, then the causes, joined by ": ", then
/// the hint.
pub fn message(err: &anyhow::Error) -> String {
    match hint(err) {
        Some(hint) => one_line(&format!("{}{hint}", message_without_hint(err))),
        None => message_without_hint(err),
    }
}

/// The causes without the hint: for lists that say the hint once at the end.
pub fn message_without_hint(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        // Typed errors often repeat their source's text; print it once.
        if parts.last().is_some_and(|last| last.ends_with(&text)) {
            continue;
        }
        parts.push(text);
    }
    one_line(&parts.join(": "))
}

/// The hint as it joins the line (`; run gbooks login`, ` (hint: …)`).
pub fn hint(err: &anyhow::Error) -> Option<String> {
    Some(match err.chain().find_map(hint_of)? {
        Hint::Then(hint) => format!("; {hint}"),
        Hint::Aside(hint) => format!(" ({hint})"),
        Hint::Note(hint) => format!(" (hint: {hint})"),
    })
}

/// One line, always, and safe for a terminal: a server message can hold
/// newlines and escape sequences.
fn one_line(text: &str) -> String {
    // No secret, even one a server echoed.
    let line = crate::secret::scrub(text);
    let line = crate::sanitize::terminal_line(&line);
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn any_error_is_one_terminal_safe_line(outer in "(?s).{0,40}", inner in "(?s).{0,80}") {
            let err = anyhow::Error::new(UsageError::new(inner)).context(outer);
            let line = message(&err);
            proptest::prop_assert!(!line.contains('\n'));
            proptest::prop_assert!(!line.chars().any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)), "{:?}", line);
            proptest::prop_assert_eq!(exit_code(&err), exit::USAGE);
        }
    }

    #[test]
    fn clap_errors_become_one_line() {
        use clap::Parser;
        let args = ["gbooks", "-v", "shelves", "move", "2", "x", "top"];
        let err = crate::cli::Cli::try_parse_from(args).unwrap_err();
        assert_eq!(
            usage_line(&err, args.map(String::from)),
            "invalid value 'top' for '<POSITION>': invalid digit found in string; see 'gbooks shelves move --help'"
        );
    }
}
