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
pub mod isbn;
pub mod secret;

pub(crate) mod browser;
pub(crate) mod cache;
pub(crate) mod commands;
pub(crate) mod config;
pub(crate) mod http;
pub(crate) mod messages;
pub(crate) mod output;
pub(crate) mod progress;
pub(crate) mod sanitize;

// For the gbooks binary only: its command line and error reporting.
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod error;

use cli::{Cli, Command};
use commands::Context;
use output::Output;

/// Runs one command line to completion.
#[doc(hidden)]
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = config::resolve(&cli.global, &config::ProcessEnv)?;
    init_logging(settings.verbose);
    messages::set_quiet(settings.quiet);
    let mut out = Output::stdout(settings.format, settings.color);
    let ctx = Context::new(settings);
    match &cli.command {
        Command::Search(args) => commands::search::run(&ctx, args, &mut out).await,
        Command::Show(args) => commands::show::run(&ctx, args, &mut out).await,
        Command::Shelves(args) => commands::shelves::run(&ctx, args, &mut out).await,
        Command::Open { volume_id } => commands::open::run(&ctx, volume_id),
        Command::Completions { shell } => commands::shell::completions(*shell, &mut out),
        Command::Man => commands::shell::man(&mut out),
        Command::Cache(cmd) => commands::cache::run(&ctx, cmd, &mut out),
        Command::Login(args) => commands::auth::login(&ctx, args).await,
        Command::Logout => commands::auth::logout(&ctx).await,
        Command::Auth(args) => commands::auth::run(&ctx, args, &mut out).await,
        Command::Isbn(args) => commands::isbn::run(&ctx, args, &mut out).await,
    }
}

fn init_logging(verbose: u8) {
    if verbose == 0 {
        return;
    }
    let level = if verbose > 1 {
        tracing::Level::DEBUG
    } else {
        tracing::Level::INFO
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .without_time()
        .with_target(false)
        .with_level(false)
        // Its own complaint about a closed stderr would panic in eprintln.
        .log_internal_errors(false)
        .try_init();
}
