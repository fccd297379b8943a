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
pub(crate) mod http;
pub(crate) mod messages;
pub(crate) mod output;
pub(crate) mod pager;
pub(crate) mod progress;
pub(crate) mod sanitize;
#[allow(dead_code)] // until the ISBN batch uses it (issue 12)
pub(crate) mod throttle;

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
    // Long lists and details are paged; prompts and secrets never are.
    let pages = match &cli.command {
        Command::Search(_) | Command::Show(_) | Command::Isbn(_) => true,
        Command::Shelves(args) => matches!(
            args.action,
            None | Some(cli::ShelvesCommand::List { .. } | cli::ShelvesCommand::Show { .. })
        ),
        Command::Cache(_) => settings.format == output::Format::Json,
        _ => false,
    };
    let pager = settings.pager.clone().filter(|_| pages);
    let mut out = Output::stdout(settings.format, settings.color, pager);
    let ctx = Context::new(settings);
    let result = dispatch(&cli, &ctx, &mut out).await;
    let closed = out.close();
    result.and(closed.map_err(Into::into))
}

async fn dispatch(cli: &Cli, ctx: &Context, out: &mut Output) -> anyhow::Result<()> {
    match &cli.command {
        Command::Search(args) => commands::search::run(ctx, args, out).await,
        Command::Show(args) => commands::show::run(ctx, args, out).await,
        Command::Shelves(args) => commands::shelves::run(ctx, args, out).await,
        Command::Open { volume_id } => commands::open::run(ctx, volume_id),
        Command::Completions { shell } => commands::shell::completions(*shell, out),
        Command::Man => commands::shell::man(out),
        Command::Cache(cmd) => commands::cache::run(ctx, cmd, out),
        Command::Login(args) => commands::auth::login(ctx, args).await,
        Command::Logout => commands::auth::logout(ctx).await,
        Command::Auth(args) => commands::auth::run(ctx, args, out).await,
        Command::Isbn(args) => commands::isbn::run(ctx, args, out).await,
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
