//! Login, the token store and refresh.

use crate::error::exit;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("stored credentials are unreadable; run gbooks login")]
    Unreadable,
    #[error("your login has expired or was revoked; run gbooks login")]
    Revoked,
    #[error("{0}")]
    Failed(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        exit::AUTH
    }
}
