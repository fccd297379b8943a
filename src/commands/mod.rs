//! One module per verb: resolved settings and arguments become a typed
//! request, the result goes to `Output`. Data is never printed here, and
//! no command looks at the output format.

pub mod auth;
pub mod cache;
pub mod isbn;
pub mod open;
pub mod search;
pub mod shell;
pub mod shelves;
pub mod show;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

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

/// Runs one command line to completion: settings, the output, the command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
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
    if matches!(
        cli.command,
        Command::Search(_) | Command::Show(_) | Command::Isbn(_) | Command::Shelves(_)
    ) {
        ctx.open_cache_early();
    }
    let result = dispatch(&cli, &ctx, &mut out).await;
    let closed = out.close();
    // The answers are written once the output is out.
    ctx.finish();
    result.and(closed.map_err(Into::into))
}

async fn dispatch(cli: &Cli, ctx: &Context, out: &mut Output) -> anyhow::Result<()> {
    match &cli.command {
        Command::Search(args) => search::run(ctx, args, out).await,
        Command::Show(args) => show::run(ctx, args, out).await,
        Command::Shelves(args) => shelves::run(ctx, args, out).await,
        Command::Open { volume_id } => open::run(ctx, volume_id),
        Command::Completions { shell } => shell::completions(*shell, out),
        Command::Man => shell::man(out),
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

/// The cache being opened on its own thread; whichever of it and the
/// command gets to `claimed` first opens the file.
struct Opening {
    handle: JoinHandle<Option<Arc<crate::cache::Cache>>>,
    claimed: Arc<AtomicBool>,
}

/// What every command may need, built once and only as far as it is used.
pub struct Context {
    pub settings: Settings,
    cache: OnceLock<Option<Arc<crate::cache::Cache>>>,
    /// The cache being opened on its own thread, while the client is built.
    opening: Mutex<Option<Opening>>,
    http: OnceLock<Http>,
    session: OnceLock<Arc<Session>>,
}

impl Context {
    pub fn new(settings: Settings) -> Context {
        Context {
            settings,
            cache: OnceLock::new(),
            opening: Mutex::new(None),
            http: OnceLock::new(),
            session: OnceLock::new(),
        }
    }

    /// Starts opening the cache on a thread of its own: the file, its schema
    /// and its log are read while the HTTP client is being built.
    pub fn open_cache_early(&self) {
        let mut opening = self.opening.lock().unwrap_or_else(|e| e.into_inner());
        if self.cache.get().is_some() || opening.is_some() || !self.settings.cache.enabled {
            return;
        }
        let settings = self.settings.cache.clone();
        let claimed = Arc::new(AtomicBool::new(false));
        let mine = claimed.clone();
        match std::thread::Builder::new().name("cache".into()).spawn(move || {
            (!mine.swap(true, Ordering::AcqRel))
                .then(|| open_cache(&settings))
                .flatten()
        }) {
            Ok(handle) => *opening = Some(Opening { handle, claimed }),
            // No thread to spare: it is opened when first needed.
            Err(e) => tracing::debug!("opening the cache in the foreground: {e}"),
        }
    }

    /// The cache of public answers, opened once; `None` with --no-cache or
    /// when it cannot be opened (after one warning: a command never fails for it).
    pub fn response_cache(&self) -> Option<Arc<crate::cache::Cache>> {
        self.cache
            .get_or_init(|| {
                let opening = self.opening.lock().unwrap_or_else(|e| e.into_inner()).take();
                match opening {
                    // On a busy machine the thread may not have started yet:
                    // then opening it here is quicker than waiting for it.
                    Some(o) if o.claimed.swap(true, Ordering::AcqRel) => {
                        // The thread panicked (and said so): go on without the cache.
                        o.handle.join().unwrap_or(None)
                    }
                    _ => open_cache(&self.settings.cache),
                }
            })
            .clone()
    }

    /// Writes what the run left for the cache (the answers are kept until
    /// the output is out).
    pub fn finish(&self) {
        // A cache opened early but never used is still let finish opening.
        if let Some(o) = self.opening.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = o.handle.join();
        }
        if let Some(Some(cache)) = self.cache.get() {
            cache.flush();
        }
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
    pub fn client(&self) -> Result<Client, http::Error> {
        let s = &self.settings;
        let client = Client::new(
            self.http()?,
            s.api_base.clone(),
            s.api_key.clone(),
            s.country.clone(),
        )
        .with_tokens(self.session()?);
        Ok(match self.response_cache() {
            Some(cache) => client.with_cache(cache),
            None => client,
        })
    }

    /// Pages in flight at once when paging.
    pub fn jobs(&self) -> usize {
        self.settings.jobs
    }
}

fn open_cache(c: &crate::config::CacheSettings) -> Option<Arc<crate::cache::Cache>> {
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
