//! One module per verb: resolved settings and arguments become a typed
//! request, the result goes to `Output`. Data is never printed here, and
//! no command looks at the output format.

pub mod auth;
pub mod cache;
pub mod cite;
pub mod config;
pub mod cover;
pub mod identify;
pub mod isbn;
mod lookup;
pub mod open;
pub mod search;
pub mod shell;
pub mod shelves;
pub mod show;

use std::future::Future;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use anyhow::Context as _;
use futures_util::StreamExt as _;

use crate::auth::Session;
use crate::books::paging::{self, Paging, PAGE_SIZE};
use crate::books::{self, Client, Volume, VolumesPage};
use crate::cli::{Cli, Command, NotesArgs, ShelvesCommand};
use crate::config::Settings;
use crate::cover::Fetcher;
use crate::error::UsageError;
use crate::http::{self, Http};
use crate::output::picture::{self, CoverMode, Protocol};
use crate::output::template::Template;
use crate::output::Output;
use crate::output::{Format, NoteFiles, Notes};
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
        Command::Search(_) | Command::Show(_) | Command::Isbn(_) | Command::Identify(_) => true,
        Command::Shelves(args) => matches!(args.action, Some(ShelvesCommand::Show { .. })),
        _ => false,
    };
    let cites = matches!(&cli.command, Command::Cite(_));
    if settings.format.is_citation() && !volumes && !cites {
        return Err(UsageError::new(
            "citation formats (bibtex, biblatex, ris, csl-json) print volumes: use them with search, show, isbn, identify, shelves show or cite",
        )
        .into());
    }
    if settings.format.is_reference() && !cites {
        return Err(UsageError::new(
            "--format text, html and markdown are for gbooks cite; other commands take table, json, jsonl, csv, bibtex, biblatex, ris or csl-json",
        )
        .into());
    }
    let notes = notes(notes_args(&cli.command))?;
    // Long lists and details are paged; prompts and secrets never are.
    let pages = match &cli.command {
        Command::Search(_) | Command::Show(_) | Command::Isbn(_) | Command::Identify(_) => true,
        Command::Shelves(args) => matches!(
            args.action,
            None | Some(ShelvesCommand::List { .. } | ShelvesCommand::Show { .. })
        ),
        Command::Cache(_) => settings.format == Format::Json,
        _ => false,
    };
    // A cover beside the details: only on a terminal, and decided (the
    // terminal perhaps asked) before anything is written.
    let picture = match &cli.command {
        Command::Show(_) if settings.format == Format::Table && std::io::stdout().is_terminal() => {
            let env = |name: &str| {
                settings
                    .terminal_env
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.clone())
            };
            picture::for_details(settings.cover, &env)
        }
        _ => None,
    };
    // A pager would mangle graphics escapes; half blocks are only colour.
    let pages = pages && picture.is_none_or(|p| p == Protocol::HalfBlocks);
    let pager = settings.pager.clone().filter(|_| pages);
    let mut out = Output::stdout(settings.format, settings.color, pager).with_notes(notes);
    if let Some(protocol) = picture {
        out.enable_pictures(protocol);
    }
    let lists_volumes = matches!(&cli.command, Command::Search(_))
        || matches!(&cli.command, Command::Shelves(a) if matches!(a.action, Some(ShelvesCommand::Show { .. })));
    if lists_volumes && settings.cover == CoverMode::Always {
        out.enable_thumbnails();
    }
    let covers_dir = covers_dir(&cli.command);
    if covers_dir.is_some() {
        out.keep_volumes();
    }
    let ctx = Context::new(settings);
    // Commands that read public answers; shelf changes and login never do.
    let reads_public = match &cli.command {
        Command::Search(_) | Command::Show(_) | Command::Isbn(_) | Command::Identify(_) => true,
        Command::Cite(_) | Command::Cover(_) => true,
        Command::Shelves(args) => matches!(
            args.action,
            None | Some(ShelvesCommand::List { .. } | ShelvesCommand::Show { .. })
        ),
        _ => false,
    };
    if reads_public {
        ctx.open_cache_early();
        if ctx.settings.api_key.is_none() {
            // The stored key is read while the client is built and the cache opened.
            drop(ctx.api_key());
        }
    }
    let result = dispatch(&cli, &ctx, &mut out).await;
    let kept = out.take_kept();
    let closed = out.close();
    // The answers are written once the output is out.
    ctx.finish();
    let result = result.and(closed.map_err(Into::into));
    // After the list is out (and a pager closed): the volume output is the same with or without.
    if let Some(dir) = covers_dir {
        if !kept.is_empty() {
            let saved = cover::save_listed(&ctx, &dir, kept).await;
            return result.and(saved);
        }
    }
    result
}

/// `--covers DIR` of the commands that list volumes.
fn covers_dir(command: &Command) -> Option<PathBuf> {
    match command {
        Command::Search(args) => args.covers.clone(),
        Command::Isbn(args) => args.covers.clone(),
        Command::Identify(args) => args.covers.clone(),
        Command::Shelves(args) => match &args.action {
            Some(ShelvesCommand::Show { covers, .. }) => covers.clone(),
            _ => None,
        },
        _ => None,
    }
}

/// The template flags of a command that prints volumes.
fn notes_args(command: &Command) -> Option<&NotesArgs> {
    match command {
        Command::Search(a) => Some(&a.notes),
        Command::Show(a) => Some(&a.notes),
        Command::Isbn(a) => Some(&a.notes),
        Command::Identify(a) => Some(&a.notes),
        Command::Shelves(a) => match &a.action {
            Some(ShelvesCommand::Show { notes, .. }) => Some(notes),
            _ => None,
        },
        _ => None,
    }
}

/// `--template FILE` (or `-`), and where each rendered volume goes. A
/// template that does not parse is a usage error naming its line.
fn notes(args: Option<&NotesArgs>) -> anyhow::Result<Option<Notes>> {
    let Some(args) = args else { return Ok(None) };
    let Some(path) = &args.template else {
        return Ok(None);
    };
    let (name, source) = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("reading the template from stdin")?;
        ("stdin".to_string(), text)
    } else {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the template {}", path.display()))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        (name, text)
    };
    let usage = |e: crate::output::template::TemplateError| UsageError::new(e.to_string());
    let template = Template::new(&name, &source).map_err(usage)?;
    let files = match (&args.output_dir, &args.filename) {
        (Some(dir), Some(filename)) => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            Some(NoteFiles {
                dir: dir.clone(),
                name: Template::new("--filename", filename).map_err(usage)?,
                force: args.force,
            })
        }
        _ => None,
    };
    Ok(Some(Notes { template, files }))
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
        Command::Cite(args) => cite::run(ctx, args, out).await,
        Command::Identify(args) => identify::run(ctx, args, out).await,
        Command::Cover(args) => cover::run(ctx, args, out).await,
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
        .with_writer(crate::messages::LogLine::new)
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
    api_key: OnceLock<books::PendingKey>,
}

impl Context {
    pub fn new(settings: Settings) -> Context {
        Context {
            settings,
            cache: OnceLock::new(),
            opening: Mutex::new(None),
            http: OnceLock::new(),
            session: OnceLock::new(),
            api_key: OnceLock::new(),
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

    /// For a batch that has sent its requests and waits: the cache writes
    /// what it holds back, if that is worth a transaction.
    pub fn write_cache_early(&self) {
        if let Some(Some(cache)) = self.cache.get() {
            cache.write_early();
        }
    }

    /// One HTTP client for the run (building one loads the root certificates).
    pub fn http(&self) -> Result<Http, http::Error> {
        if let Some(http) = self.http.get() {
            return Ok(http.clone());
        }
        let http = self.http_with_timeout(self.settings.timeout)?;
        Ok(self.http.get_or_init(|| http).clone())
    }

    /// A client of its own with another timeout (the login's token exchange),
    /// with the same proxies.
    pub fn http_with_timeout(&self, timeout: std::time::Duration) -> Result<Http, http::Error> {
        let s = &self.settings;
        Ok(Http::new(timeout)?.with_proxies(s.proxies.clone(), s.no_proxy.clone()))
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
            s.api_key.clone(),
            s.country.clone(),
        );
        let client = match s.api_key {
            Some(_) => client,
            None => client.with_pending_key(self.api_key()),
        };
        let client = client.with_tokens(self.session()?).on_anonymous(Arc::new(|| {
            // Once per run, however many clients the command makes.
            static WARNED: std::sync::Once = std::sync::Once::new();
            WARNED.call_once(|| {
                crate::messages::warn("your login has expired; going on without it — run gbooks login")
            });
        }));
        Ok(match self.cache_meanwhile(client.http(), &s.api_base).await {
            Some(cache) => client.with_cache(cache),
            None => client,
        })
    }

    /// The cache, for a client about to ask `base`. A first run creates
    /// the file (several milliseconds, and every answer is a miss): while
    /// its thread is still at it, the connection to `base` opens meanwhile.
    async fn cache_meanwhile(&self, http: &Http, base: &url::Url) -> Option<Arc<crate::cache::Cache>> {
        let dir = self.settings.cache.dir.as_ref();
        let creating = dir.is_some_and(|d| !d.join(crate::cache::FILE_NAME).exists());
        // Started and not done: waited for off the runtime, which connects meanwhile.
        let busy = creating
            .then(|| {
                let mut opening = self.opening.lock().unwrap_or_else(|e| e.into_inner());
                opening.take_if(|o| o.claimed.load(Ordering::Acquire) && !o.handle.is_finished())
            })
            .flatten();
        let Some(o) = busy else {
            return self.response_cache();
        };
        http.preconnect(base);
        let opened = tokio::task::spawn_blocking(move || o.handle.join().unwrap_or(None))
            .await
            .unwrap_or(None);
        self.cache.get_or_init(|| opened).clone()
    }

    /// Downloads covers, through the cache of this run.
    pub fn covers(&self) -> Result<Fetcher, http::Error> {
        Ok(Fetcher::new(self.http()?, self.response_cache()))
    }

    /// The API key when neither --api-key nor GBOOKS_API_KEY gives one: the
    /// stored key, else config.toml's. The store is read at most once a run,
    /// on a task of its own: requests connect while it answers.
    pub fn api_key(&self) -> books::PendingKey {
        self.api_key
            .get_or_init(|| {
                let s = &self.settings;
                let (kind, dir, file_key) = (s.token_store, s.config_dir.clone(), s.file_api_key.clone());
                // Spawned, so the keyring is asked now rather than when a
                // request first waits for the answer.
                let lookup = {
                    let dir = dir.clone();
                    async move { crate::auth::api_key::load(kind, &dir).await }
                };
                let stored = match tokio::runtime::Handle::try_current() {
                    Ok(runtime) => {
                        let task = runtime.spawn(lookup);
                        Box::pin(async move { task.await.unwrap_or(Ok(None)) })
                            as books::BoxFuture<'static, _>
                    }
                    Err(_) => Box::pin(lookup),
                };
                // Said when the first request waits for the key, in order
                // with the run's other messages, not whenever the lookup ends.
                let key: books::BoxFuture<'static, Option<Secret>> = Box::pin(async move {
                    match stored.await {
                        Ok(Some((key, _))) => return Some(key),
                        Ok(None) => {}
                        Err(e) => crate::messages::warn(&format!(
                            "cannot read the stored API key ({e}); going on without it"
                        )),
                    }
                    let key = file_key?;
                    warn_once_about_file_key(&dir);
                    Some(key)
                });
                futures_util::FutureExt::shared(key)
            })
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
pub async fn print_pages<F, Fut>(
    ctx: &Context,
    out: &mut Output,
    paging: Paging,
    fetch: F,
) -> anyhow::Result<()>
where
    F: Fn(usize, usize) -> Fut,
    Fut: Future<Output = Result<VolumesPage, books::Error>>,
{
    let progress = match paging.limit {
        Some(n) if n <= PAGE_SIZE => Progress::hidden(),
        Some(n) => out.progress(Some(n as u64), "volumes"),
        None => out.progress(None, "volumes"),
    };
    let thumbnails = out.wants_thumbnails();
    let mut list = out.list::<Volume>().context("writing output")?;
    if thumbnails {
        // A table waits for its last row anyway: the pictures come first.
        let mut volumes = Vec::new();
        paging::each_page(paging, fetch, |page| {
            progress.inc(page.len() as u64);
            volumes.extend_from_slice(page);
            Ok(())
        })
        .await?;
        let fetcher = ctx.covers()?;
        let images: Vec<Option<Vec<u8>>> = futures_util::stream::iter(&volumes)
            .map(|v| {
                let fetcher = &fetcher;
                async move { fetcher.thumbnail(v).await.ok().map(|c| c.bytes) }
            })
            .buffered(ctx.jobs())
            .collect()
            .await;
        for (volume, image) in volumes.iter().zip(&images) {
            list.push_with_thumbnail(volume, image.as_deref())?;
        }
    } else {
        paging::each_page(paging, fetch, |page| {
            progress.inc(page.len() as u64);
            list.push_all(page).map_err(Into::into)
        })
        .await?;
    }
    // The bar goes before the data, so no last frame stays above it.
    drop(progress);
    list.finish()?;
    Ok(())
}
