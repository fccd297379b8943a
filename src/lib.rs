//! gbooks: a command-line client for the Google Books API.

pub mod auth;
pub mod books;
pub mod browser;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod config;
pub mod cover;
pub mod error;
pub mod isbn;
pub mod output;
pub mod progress;
pub mod sanitize;
pub mod secret;

use cli::{Cli, Command};
use commands::Context;
use output::Output;

/// Runs one command line to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = config::resolve(&cli.global, &config::ProcessEnv)?;
    init_logging(settings.verbose);
    output::set_quiet(settings.quiet);
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
