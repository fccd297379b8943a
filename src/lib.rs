//! gbooks: a command-line client for the Google Books API.

pub mod auth;
pub mod books;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod isbn;
pub mod output;
pub mod sanitize;
pub mod secret;

use cli::{Cli, Command};
use commands::Context;
use output::Output;

/// Runs one command line to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = config::resolve(&cli.global, &config::ProcessEnv)?;
    init_logging(settings.verbose);
    let mut out = Output::stdout(settings.format);
    let ctx = Context::new(settings);
    match &cli.command {
        Command::Search(args) => commands::search::run(&ctx, args, &mut out).await,
        Command::Show(args) => commands::show::run(&ctx, args, &mut out).await,
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
        .try_init();
}
