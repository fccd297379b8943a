//! Error kinds that are not tied to one layer, and the single table that maps
//! every failure to an exit code and a one-line message.

use std::io;

use crate::books;

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

/// An authentication problem found outside the Books client: exit 4.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AuthError(pub String);

/// The user pressed Ctrl-C.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// Some results were errors (batch lookups): the details are already printed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PartialFailure(pub String);

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
    for cause in err.chain() {
        if cause.is::<UsageError>() {
            return exit::USAGE;
        }
        if cause.is::<AuthError>() {
            return exit::AUTH;
        }
        if cause.is::<Interrupted>() {
            return exit::INTERRUPTED;
        }
        if let Some(e) = cause.downcast_ref::<books::Error>() {
            return e.exit_code();
        }
        if let Some(e) = cause.downcast_ref::<crate::config::ConfigError>() {
            return e.exit_code();
        }
        if let Some(e) = cause.downcast_ref::<crate::auth::Error>() {
            return e.exit_code();
        }
    }
    exit::FAILURE
}

/// One line: the outermost context, then the causes, joined by ": ".
pub fn message(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        // Typed errors often repeat their source's text; print it once.
        if parts.last().is_some_and(|last| last.ends_with(&text)) {
            continue;
        }
        parts.push(text);
    }
    // One line, always, and safe for a terminal: a server message can hold
    // newlines and escape sequences.
    let line = crate::sanitize::terminal_line(&parts.join(": "));
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}
