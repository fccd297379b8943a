//! gbooks: a command-line client for the Google Books API, and the library
//! behind it.
//!
//! The library part is a Books API client another Rust program can use:
//! [`books`] (the client, typed parameters and models), [`auth`] (the token
//! store, the session that refreshes tokens, and the loopback login),
//! [`isbn`] and [`secret`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use gbooks::auth::{Session, StoreKind};
//! use gbooks::books::{Client, Http, SearchParams, DEFAULT_BASE};
//! use gbooks::secret::Secret;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let http = Http::new(Duration::from_secs(30))?;
//! let base: url::Url = DEFAULT_BASE.parse()?;
//!
//! // A search with an API key: public data.
//! let client = Client::new(http.clone(), base.clone(), Some(Secret::new("AIza…")), None);
//! let params = SearchParams {
//!     q: "intitle:dune".into(),
//!     ..SearchParams::default()
//! };
//! for volume in client.search(&params, 0, 10).await?.items {
//!     println!("{} {}", volume.id, volume.title());
//! }
//!
//! // Your shelves, with the login `gbooks login` stored.
//! let config_dir = std::path::PathBuf::from("/home/me/.config/gbooks");
//! let session = Session::new(StoreKind::Auto, config_dir, None, http.clone());
//! let client = Client::new(http, base, None, None).with_tokens(Arc::new(session));
//! for shelf in client.shelves(None).await? {
//!     println!("{} {}", shelf.id, shelf.title);
//! }
//! # Ok(())
//! # }
//! ```

pub mod auth;
pub mod books;
pub mod identify;
pub mod isbn;
pub mod secret;

pub(crate) mod browser;
pub(crate) mod cache;
pub(crate) mod commands;
pub(crate) mod config;
pub(crate) mod cover;
pub(crate) mod http;
pub(crate) mod messages;
pub(crate) mod output;
pub(crate) mod pager;
pub(crate) mod preconnect;
pub(crate) mod progress;
pub(crate) mod sanitize;
pub(crate) mod throttle;

// For the gbooks binary only: its command line and error reporting.
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod error;

/// Runs one command line to completion.
#[doc(hidden)]
pub async fn run(cli: cli::Cli) -> anyhow::Result<()> {
    commands::run(cli).await
}

/// Prints `--help`, paged on a terminal when longer than the screen.
#[doc(hidden)]
pub fn print_help(help: &clap::Error) -> std::io::Result<()> {
    commands::print_help(help)
}
