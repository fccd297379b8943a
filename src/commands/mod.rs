//! One module per verb: resolved settings and arguments become a typed
//! request, the result goes to `Output`. Data is never printed here, and
//! no command looks at the output format.

pub mod auth;
pub mod cache;
pub mod config;
pub mod isbn;
pub mod open;
pub mod search;
pub mod shell;
pub mod shelves;
pub mod show;

use std::future::Future;
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;

use crate::auth::Session;
use crate::books::paging::{self, Paging, PAGE_SIZE};
use crate::books::{self, Client, Volume, VolumesPage};
use crate::cli::{Cli, Command, ShelvesCommand};
use crate::config::Settings;
use crate::error::UsageError;
use crate::http::{self, Http};
use crate::output::Format;
use crate::output::Output;
use crate::progress::Progress;
use crate::secret::Secret;

/// Runs one command line to completion: settings, the output, the command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Config(cmd) = &cli.command {
        // Before the settings: a broken config.toml must stay fixable.
        init_logging(cli.global.verbose);
        crate::messages::set_quiet(cli.global.quiet);
        let format = if cli.global.json {
            Format::Json
        } else {
            cli.global.format.map_or(Format::Table, Into::into)
        };
        let color = crate::config::color_choice(&cli.global, &crate::config::ProcessEnv);
        let mut out = Output::stdout(format, color, None);
        let result = config::run(&cli.global, cmd, &mut out).await;
        let closed = out.close();
        return result.and(closed.map_err(Into::into));
    }
    let settings = crate::config::resolve(&cli.global, &crate::config::ProcessEnv)?;
    init_logging(settings.verbose);
    crate::messages::set_quiet(settings.quiet);
    let volumes = match &cli.command {
        Command::Search(_) | Command::Show(_) | Command::Isbn(_) => true,
        Command::Shelves(args) => matches!(args.action, Some(ShelvesCommand::Show { .. })),
        _ => false,
    };
    if settings.format.is_citation() && !volumes {
        return Err(UsageError::new(
            "citation formats (bibtex, biblatex, ris, csl-json) print volumes: use them with search, show, isbn or shelves show",
        )
        .into());
    }
    // Long lists and details are paged; prompts and secrets never are.
    let pages = match &cli.command {
        Command::Search(_) | Command::Show(_) | Command::Isbn(_) => true,
        Command::Shelves(args) => matches!(
            args.action,
            None | Some(ShelvesCommand::List { .. } | ShelvesCommand::Show { .. })
        ),
        Command::Cache(_) => settings.format == Format::Json,
        _ => false,
    };
    let pager = settings.pager.clone().filter(|_| pages);
    let mut out = Output::stdout(settings.format, settings.color, pager);
    let ctx = Context::new(settings);
    let result = dispatch(&cli, &ctx, &mut out).await;
    let closed = out.close();
    result.and(closed.map_err(Into::into))
}

/// `--help` comes from clap before there are settings: the pager and the
/// colour are chosen from the environment, `--no-pager` and config.toml's
/// `pager` (a broken config.toml is ignored here).
pub fn print_help(help: &clap::Error) -> std::io::Result<()> {
    use crate::config::{Env, ProcessEnv};
    let env = ProcessEnv;
    let no_pager = std::env::args_os().any(|a| a == "--no-pager");
    let file_pager = crate::config::config_dir(&env)
        .ok()
        .and_then(|dir| crate::config::load_file(&dir.join("config.toml")).ok())
        .and_then(|f| f.pager);
    let pager = crate::pager::choose(
        no_pager,
        env.raw("GBOOKS_PAGER").as_deref(),
        file_pager.as_deref(),
        env.raw("PAGER").as_deref(),
    );
    let color = crate::config::auto_color(&env).unwrap_or_else(|| {
        use std::io::IsTerminal as _;
        std::io::stdout().is_terminal()
    });
    let text = help.render();
    let text = if color {
        text.ansi().to_string()
    } else {
        text.to_string()
    };
    let mut out = Output::stdout(Format::Table, Some(color), pager);
    out.raw(text.as_bytes())?;
    out.close()
}

async fn dispatch(cli: &Cli, ctx: &Context, out: &mut Output) -> anyhow::Result<()> {
    match &cli.command {
        Command::Search(args) => search::run(ctx, args, out).await,
        Command::Show(args) => show::run(ctx, args, out).await,
        Command::Shelves(args) => shelves::run(ctx, args, out).await,
        Command::Open { volume_id } => open::run(ctx, volume_id),
        Command::Completions { shell } => shell::completions(*shell, out),
        Command::Man(args) => shell::man(args, out),
        Command::Config(_) => Err(anyhow::anyhow!("config runs before the settings are read")),
        Command::Cache(cmd) => cache::run(ctx, cmd, out),
        Command::Login(args) => auth::login(ctx, args).await,
        Command::Logout => auth::logout(ctx).await,
        Command::Auth(args) => auth::run(ctx, args, out).await,
        Command::Isbn(args) => isbn::run(ctx, args, out).await,
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

/// What every command may need, built once and only as far as it is used.
pub struct Context {
    pub settings: Settings,
    cache: OnceLock<Option<Arc<crate::cache::Cache>>>,
    http: OnceLock<Http>,
    session: OnceLock<Arc<Session>>,
    api_key: tokio::sync::OnceCell<Option<Secret>>,
}

impl Context {
    pub fn new(settings: Settings) -> Context {
        Context {
            settings,
            cache: OnceLock::new(),
            http: OnceLock::new(),
            session: OnceLock::new(),
            api_key: tokio::sync::OnceCell::new(),
        }
    }

    /// The cache of public answers, opened once; `None` with --no-cache or
    /// when it cannot be opened (after one warning: a command never fails for it).
    pub fn response_cache(&self) -> Option<Arc<crate::cache::Cache>> {
        self.cache
            .get_or_init(|| {
                let c = &self.settings.cache;
                if !c.enabled {
                    return None;
                }
                let Some(dir) = &c.dir else {
                    crate::messages::warn("no home directory for the cache; set GBOOKS_CACHE_DIR");
                    return None;
                };
                match crate::cache::Cache::open(dir, c.ttl, c.max_bytes) {
                    Ok(cache) => Some(Arc::new(cache)),
                    Err(e) => {
                        crate::messages::warn(&format!("{e}; going on without the cache"));
                        None
                    }
                }
            })
            .clone()
    }

    /// One HTTP client for the run (building one loads the root certificates).
    fn http(&self) -> Result<Http, http::Error> {
        if let Some(http) = self.http.get() {
            return Ok(http.clone());
        }
        let http = Http::new(self.settings.timeout)?;
        Ok(self.http.get_or_init(|| http).clone())
    }

    /// The login, opened only when a request needs a token.
    pub fn session(&self) -> Result<Arc<Session>, http::Error> {
        if let Some(session) = self.session.get() {
            return Ok(session.clone());
        }
        let s = &self.settings;
        let session = Arc::new(Session::new(
            s.token_store,
            s.config_dir.clone(),
            s.client_secret_file.clone(),
            self.http()?,
        ));
        Ok(self.session.get_or_init(|| session).clone())
    }

    /// The Books client: the API key for public data, the login's bearer
    /// token for private data (and for public data when there is no key),
    /// and the cache of public answers.
    pub async fn client(&self) -> Result<Client, http::Error> {
        let s = &self.settings;
        let client = Client::new(
            self.http()?,
            s.api_base.clone(),
            self.api_key().await,
            s.country.clone(),
        )
        .with_tokens(self.session()?);
        Ok(match self.response_cache() {
            Some(cache) => client.with_cache(cache),
            None => client,
        })
    }

    /// The API key: --api-key, GBOOKS_API_KEY, the stored key, then
    /// config.toml's; the store is read at most once a run, and only when
    /// neither of the first two is set.
    pub async fn api_key(&self) -> Option<Secret> {
        self.api_key
            .get_or_init(|| async {
                let s = &self.settings;
                if s.api_key.is_some() {
                    return s.api_key.clone();
                }
                match crate::auth::api_key::load(s.token_store, &s.config_dir).await {
                    Ok(Some((key, _))) => return Some(key),
                    Ok(None) => {}
                    Err(e) => crate::messages::warn(&format!(
                        "cannot read the stored API key ({e}); going on without it"
                    )),
                }
                let key = s.file_api_key.clone()?;
                warn_once_about_file_key(&s.config_dir);
                Some(key)
            })
            .await
            .clone()
    }

    /// Pages in flight at once when paging.
    pub fn jobs(&self) -> usize {
        self.settings.jobs
    }
}

/// A plain-text key in config.toml is readable and ends up in dotfile
/// repositories: said once, then a marker file keeps quiet about it.
fn warn_once_about_file_key(config_dir: &std::path::Path) {
    let marker = config_dir.join(".api-key-warning-shown");
    if marker.exists() {
        return;
    }
    crate::messages::warn(
        "api_key in config.toml is stored in plain text; move it to the keyring with `gbooks auth key set`, then `gbooks config unset api_key`",
    );
    let _ = std::fs::write(marker, b"");
}

/// Volumes page by page, rendered as they arrive, with a progress bar when
/// the list spans pages.
pub async fn print_pages<F, Fut>(out: &mut Output, paging: Paging, fetch: F) -> anyhow::Result<()>
where
    F: Fn(usize, usize) -> Fut,
    Fut: Future<Output = Result<VolumesPage, books::Error>>,
{
    let progress = match paging.limit {
        Some(n) if n <= PAGE_SIZE => Progress::hidden(),
        Some(n) => out.progress(Some(n as u64), "volumes"),
        None => out.progress(None, "volumes"),
    };
    let mut list = out.list::<Volume>().context("writing output")?;
    paging::each_page(paging, fetch, |page| {
        progress.inc(page.len() as u64);
        list.push_all(page).map_err(Into::into)
    })
    .await?;
    // The bar goes before the data, so no last frame stays above it.
    drop(progress);
    list.finish()?;
    Ok(())
}
