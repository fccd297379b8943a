//! `gbooks isbn`: many ISBNs looked up at once, each answer verified against
//! the ISBN asked for, printed in input order (or written to a results file
//! that a later run resumes).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::{BufRead as _, IsTerminal, Read, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::stream::{self, StreamExt};
use futures_util::FutureExt as _;

use super::Context;
use crate::books::{self, Client, SearchParams, Volume};
use crate::cli::IsbnArgs;
use crate::error::{PartialFailure, Unfinished, UsageError};
use crate::identify;
use crate::isbn::{self, Isbn};
use crate::output::{IsbnEntry, List, Output};
use crate::progress::Progress;
use crate::throttle::{Concurrency, Rate};

/// Editions that share an ISBN come back together; a few are enough to find
/// the one that carries it.
const CANDIDATES: usize = 5;

/// The error of every lookup not sent once the day's quota is gone.
pub const QUOTA_USED_UP: &str = "daily quota used up";

/// The longest pause between two tries of a throttled lookup.
const THROTTLE_CAP: Duration = Duration::from_secs(60);

/// What the ISBN queries found: the first volume that carries the ISBN,
/// and the other volumes Google returned, without repeats, in its order.
pub struct Found {
    pub hit: Option<Volume>,
    pub others: Vec<Volume>,
}

/// The verified lookup: `isbn:` with the ISBN as given, `isbn:` with its
/// other form, then the bare ISBN-13, stopping at the first volume whose
/// identifiers carry the ISBN. Never with `langRestrict`: it hides exact
/// matches.
pub async fn find(
    client: &Client,
    isbn: &Isbn,
    fields: Option<&str>,
    rate: Option<&Rate>,
) -> Result<Found, books::Error> {
    let mut others: Vec<Volume> = Vec::new();
    for q in identify::isbn_queries(isbn) {
        if let Some(rate) = rate {
            rate.acquire().await;
        }
        let params = SearchParams {
            q,
            fields: fields.map(str::to_string),
            lang: None,
            ..SearchParams::default()
        };
        let page = client.search(&params, 0, CANDIDATES).await?;
        let mut hit = None;
        for v in page.items {
            if hit.is_none() && identify::carries_isbn(&v, isbn) {
                hit = Some(v);
            } else if !others.iter().any(|o| o.id == v.id) {
                others.push(v);
            }
        }
        if hit.is_some() {
            return Ok(Found { hit, others });
        }
    }
    Ok(Found { hit: None, others })
}

/// The answer for one ISBN, shared by every line that lists it.
#[derive(Debug, Clone)]
struct Outcome {
    volume: Option<Arc<Volume>>,
    error: Option<String>,
    verified: bool,
    /// Final: a later run carries it over instead of asking again.
    settled: bool,
}

impl Outcome {
    fn found(volume: Volume, verified: bool) -> Outcome {
        Outcome {
            volume: Some(Arc::new(volume)),
            error: None,
            verified,
            settled: true,
        }
    }

    fn failed(error: String, settled: bool) -> Outcome {
        Outcome {
            volume: None,
            error: Some(error),
            verified: false,
            settled,
        }
    }
}

/// What `--loose` and `--full` ask of each lookup.
struct Options<'a> {
    client: &'a Client,
    fields: Option<&'a str>,
    loose: bool,
    full: bool,
    rate: Option<&'a Rate>,
}

/// One ISBN, verified, then (with `--full`) its full record.
async fn resolve(o: &Options<'_>, isbn: &Isbn) -> Result<Outcome, books::Error> {
    let found = find(o.client, isbn, o.fields, o.rate).await?;
    let (volume, verified) = match (found.hit, found.others) {
        (Some(hit), _) => (hit, true),
        (None, others) if others.is_empty() => return Ok(Outcome::failed("not found".into(), true)),
        (None, mut others) if o.loose => (others.swap_remove(0), false),
        (None, others) => {
            // The wording is the contract, "1 other volumes" included.
            return Ok(Outcome::failed(
                format!(
                    "no volume carries ISBN {isbn} (Google returned {} other volumes)",
                    others.len()
                ),
                true,
            ));
        }
    };
    let volume = if o.full {
        if let Some(rate) = o.rate {
            rate.acquire().await;
        }
        o.client.volume(&volume.id, None).await?
    } else {
        volume
    };
    Ok(Outcome::found(volume, verified))
}

/// Why the run stopped sending.
#[derive(Debug, Clone)]
enum Stop {
    Quota,
    /// An error every other lookup would meet too (a bad key, no server).
    Error(String),
}

/// The shared state of the lookups in flight.
struct Lookups<'a> {
    options: Options<'a>,
    concurrency: Concurrency,
    stopped: RefCell<Option<Stop>>,
    throttled: Cell<u64>,
}

impl Lookups<'_> {
    /// One ISBN, tried again after each throttle answer for as long as it
    /// takes: a batch is never abandoned for throttling.
    async fn look_up(&self, isbn: &Isbn) -> Outcome {
        let mut tries: u32 = 0;
        loop {
            if let Some(outcome) = self.skipped() {
                return outcome;
            }
            let permit = self.concurrency.acquire().await;
            if let Some(outcome) = self.skipped() {
                return outcome;
            }
            let (result, throttles) = crate::http::counting_throttles(resolve(&self.options, isbn)).await;
            self.throttled.set(self.throttled.get() + u64::from(throttles));
            let throttled_out = matches!(&result, Err(books::Error::Api(api)) if api.is_throttled());
            if throttles > 0 || throttled_out {
                permit.throttled();
            } else {
                permit.succeeded();
            }
            match result {
                Ok(outcome) => return outcome,
                Err(_) if throttled_out => {
                    tries += 1;
                    let wait = Duration::from_millis(500)
                        .saturating_mul(1 << tries.min(8))
                        .min(THROTTLE_CAP);
                    tracing::info!("still throttled; trying {isbn} again in {} ms", wait.as_millis());
                    tokio::time::sleep(wait.mul_f64(0.5 + fastrand::f64() / 2.0)).await;
                }
                Err(books::Error::Api(api)) if api.is_daily_quota() => {
                    self.stopped.borrow_mut().get_or_insert(Stop::Quota);
                    return Outcome::failed(QUOTA_USED_UP.into(), false);
                }
                Err(e) => {
                    // The row says what failed; the hint comes once, after the list.
                    let stops = stops_the_run(&e);
                    let err = anyhow::Error::new(e);
                    let text = crate::error::message_without_hint(&err);
                    if stops {
                        self.stopped
                            .borrow_mut()
                            .get_or_insert_with(|| Stop::Error(crate::error::message(&err)));
                    }
                    return Outcome::failed(text, false);
                }
            }
        }
    }

    fn skipped(&self) -> Option<Outcome> {
        self.stopped.borrow().as_ref().map(|stop| match stop {
            Stop::Quota => Outcome::failed(QUOTA_USED_UP.into(), false),
            Stop::Error(_) => Outcome::failed("not looked up after an earlier error".into(), false),
        })
    }
}

/// Errors that are about the run, not the ISBN: not found is an empty 200,
/// so a 4xx (other than a throttle) means a bad key, location or address.
fn stops_the_run(err: &books::Error) -> bool {
    match err {
        books::Error::Api(api) => api.is_client_error() && !api.is_throttled(),
        books::Error::Http(crate::http::Error::Transport { .. })
        | books::Error::NotLoggedIn
        | books::Error::Token(_) => true,
        _ => false,
    }
}

/// One input line, small because a batch can have hundreds of thousands:
/// its text (an index into the distinct texts) and its ISBN's slot, if it
/// is one.
#[derive(Clone, Copy)]
struct Row {
    input: u32,
    slot: Option<u32>,
}

/// Where entries go: the renderer, or the results file.
enum Sink<'a> {
    Out(List<'a, IsbnEntry>),
    File(ResultsFile),
}

/// The entries of a run, written in input order as they become ready. When
/// it is dropped before `finish` (Ctrl-C drops the command's future, or an
/// error returns early), the results file still lands, with the lines not
/// yet answered marked so that the next run asks for them.
struct Batch<'a> {
    inputs: Vec<String>,
    rows: Vec<Row>,
    isbns: Vec<Isbn>,
    outcomes: Vec<Option<Outcome>>,
    next: usize,
    sink: Option<Sink<'a>>,
    /// Lines answered in this run (not carried over), and lines whose entry
    /// is not final.
    answered: usize,
    failed: usize,
    quota_left: usize,
}

impl Batch<'_> {
    fn push(&mut self, entry: &IsbnEntry) -> anyhow::Result<()> {
        if entry.volume.is_none() {
            self.failed += 1;
        }
        match self.sink.as_mut() {
            Some(Sink::Out(list)) => list.push(entry).context("writing output"),
            Some(Sink::File(file)) => file.push(entry),
            None => Ok(()),
        }
    }

    fn entry(&self, i: usize) -> Option<(IsbnEntry, bool)> {
        let row = self.rows[i];
        let input = &self.inputs[row.input as usize];
        match row.slot.map(|s| s as usize) {
            None => Some((
                IsbnEntry {
                    input: input.clone(),
                    isbn: None,
                    volume: None,
                    error: Isbn::parse(input).err().map(|e| e.to_string()),
                    verified: false,
                },
                true,
            )),
            Some(s) => self.outcomes[s].as_ref().map(|o| {
                let entry = IsbnEntry {
                    input: input.clone(),
                    isbn: Some(self.isbns[s].to_string()),
                    volume: o.volume.clone(),
                    error: o.error.clone(),
                    verified: o.verified,
                };
                (entry, o.settled)
            }),
        }
    }

    /// Writes every entry whose turn has come.
    fn emit(&mut self) -> anyhow::Result<()> {
        while self.next < self.rows.len() {
            let Some((entry, _)) = self.entry(self.next) else {
                break;
            };
            if entry.error.as_deref() == Some(QUOTA_USED_UP) {
                self.quota_left += 1;
            }
            self.push(&entry)?;
            self.next += 1;
        }
        Ok(())
    }

    fn set(&mut self, slot: usize, outcome: Outcome, lines: usize) {
        if outcome.error.as_deref() != Some(QUOTA_USED_UP)
            && !outcome
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("not looked up"))
        {
            self.answered += lines;
        }
        self.outcomes[slot] = Some(outcome);
    }

    /// Ends the output: the list's held rows, or the file renamed into place.
    fn finish(&mut self) -> anyhow::Result<usize> {
        match self.sink.take() {
            Some(Sink::Out(list)) => list.finish().context("writing output"),
            Some(Sink::File(file)) => file.persist().map(|_| self.rows.len()),
            None => Ok(0),
        }
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        if !matches!(self.sink, Some(Sink::File(_))) {
            return;
        }
        // Interrupted: the rest in order, unanswered lines marked for the next run.
        let mut left = 0;
        while self.next < self.rows.len() {
            let entry = match self.entry(self.next) {
                Some((entry, settled)) => {
                    left += usize::from(!settled);
                    entry
                }
                None => {
                    left += 1;
                    let row = self.rows[self.next];
                    IsbnEntry {
                        input: self.inputs[row.input as usize].clone(),
                        isbn: row.slot.map(|s| self.isbns[s as usize].to_string()),
                        volume: None,
                        error: Some("interrupted before it was looked up".into()),
                        verified: false,
                    }
                }
            };
            if self.push(&entry).is_err() {
                break;
            }
            self.next += 1;
        }
        if let Some(Sink::File(file)) = self.sink.take() {
            let path = file.path.clone();
            match file.persist() {
                Ok(()) => crate::messages::tell(&format!(
                    "{} looked up, {left} left: {} is saved; run the same command again to go on",
                    self.answered,
                    path.display()
                )),
                Err(e) => crate::messages::tell(&format!("gbooks: error: {e:#}")),
            }
        }
    }
}

pub async fn run(ctx: &Context, args: &IsbnArgs, out: &mut Output) -> anyhow::Result<()> {
    let input = read_input(args)?;
    let rate = args
        .rate
        .map(Rate::per_second)
        .transpose()
        .map_err(|e| UsageError::new(e.to_string()))?;
    let carried = match &args.output {
        Some(path) => read_results(path, args.loose)?,
        None => HashMap::new(),
    };
    let client = ctx.client().await?;
    // The results file holds whole volumes, whatever the format.
    let fields = match args.output {
        Some(_) => None,
        None => out.fields::<IsbnEntry>(),
    };

    // Each distinct ISBN is asked for once, however often it is listed, and
    // each distinct text is kept once.
    let mut wanted: Vec<(Isbn, usize)> = Vec::new();
    let mut lines_of: Vec<usize> = Vec::new();
    let mut isbns: Vec<Isbn> = Vec::new();
    let mut outcomes: Vec<Option<Outcome>> = Vec::new();
    let mut slot_of: HashMap<Isbn, u32> = HashMap::new();
    let mut inputs: Vec<String> = Vec::new();
    let mut input_of: HashMap<String, u32> = HashMap::new();
    let mut rows = Vec::new();
    let mut carried_lines = 0;
    let texts: Box<dyn Iterator<Item = &str>> = match &input {
        Input::Args(args) => Box::new(args.iter().map(String::as_str)),
        Input::Text(text) => Box::new(text.lines()),
    };
    for line in isbn::each_line(texts) {
        let index = match input_of.get(&line.input) {
            Some(&i) => i,
            None => {
                let i = u32::try_from(inputs.len()).context("too many lines")?;
                input_of.insert(line.input.clone(), i);
                inputs.push(line.input);
                i
            }
        };
        let slot = match line.isbn {
            Ok(isbn) => Some(match slot_of.get(&isbn) {
                Some(&slot) => slot,
                None => {
                    let slot = u32::try_from(outcomes.len()).context("too many lines")?;
                    let known = carried.get(&isbn).cloned();
                    if known.is_none() {
                        wanted.push((isbn.clone(), slot as usize));
                    }
                    outcomes.push(known);
                    lines_of.push(0);
                    isbns.push(isbn.clone());
                    slot_of.insert(isbn, slot);
                    slot
                }
            }),
            Err(_) => None,
        };
        if let Some(slot) = slot {
            lines_of[slot as usize] += 1;
            carried_lines += usize::from(outcomes[slot as usize].is_some());
        }
        rows.push(Row { input: index, slot });
    }
    drop(input);
    drop((slot_of, input_of, carried));
    if let Some(path) = args.output.as_ref().filter(|p| p.exists()) {
        let left = rows
            .iter()
            .filter(|r| r.slot.is_some_and(|s| outcomes[s as usize].is_none()))
            .count();
        crate::messages::status(&format!(
            "Resuming {}: {carried_lines} carried over, {left} left to look up",
            path.display()
        ));
    }

    let progress = match wanted.len() {
        0 | 1 => Progress::hidden(),
        n => out.progress(Some(n as u64), "ISBNs"),
    };
    let sink = match &args.output {
        Some(path) => Sink::File(ResultsFile::create(path)?),
        None => Sink::Out(out.long_list::<IsbnEntry>().context("writing output")?),
    };
    let mut batch = Batch {
        inputs,
        rows,
        isbns,
        outcomes,
        next: 0,
        sink: Some(sink),
        answered: 0,
        failed: 0,
        quota_left: 0,
    };
    let lookups = Lookups {
        options: Options {
            client: &client,
            fields,
            loose: args.loose,
            full: args.full,
            rate: rate.as_ref(),
        },
        concurrency: Concurrency::new(ctx.settings.jobs),
        stopped: RefCell::new(None),
        throttled: Cell::new(0),
    };
    let started = Instant::now();
    let mut done = 0u64;
    let answers = stream::iter(wanted)
        .map(|(isbn, slot)| {
            let lookups = &lookups;
            async move { (slot, lookups.look_up(&isbn).await) }
        })
        .buffer_unordered(ctx.settings.jobs);
    futures_util::pin_mut!(answers);

    // Replies finish in any order; entries leave in input order, each as soon
    // as every entry before it is ready.
    batch.emit()?;
    while let Some(first) = answers.next().await {
        // Answers arrive together: record every one already in, and let the
        // lookups that follow them send their requests (on the yield)
        // before any of them is printed. Recorded first, so that a Ctrl-C
        // during the yield still saves them.
        let mut next = Some(first);
        while let Some((slot, outcome)) = next {
            batch.set(slot, outcome, lines_of[slot]);
            done += 1;
            progress.inc(1);
            next = answers.next().now_or_never().flatten();
        }
        tokio::task::yield_now().await;
        let secs = started.elapsed().as_secs_f64().max(0.001);
        progress.set_message(format!(
            "ISBNs, {} in flight, {:.1}/s",
            lookups.concurrency.in_flight(),
            done as f64 / secs
        ));
        batch.emit()?;
        // The network has the next requests: a good moment for the cache.
        ctx.write_cache_early();
    }
    drop(progress);
    let total = batch.finish()?;
    if lookups.throttled.get() > 0 {
        tracing::info!(
            "{} throttle answers; {} requests in flight at the end",
            lookups.throttled.get(),
            lookups.concurrency.limit()
        );
    }

    let stopped = lookups.stopped.borrow().clone();
    if let Some(Stop::Quota) = stopped {
        return Err(Unfinished(format!(
            "{} looked up, {} left: the daily quota is used up (it resets at midnight Pacific time); run the same command again to go on",
            batch.answered, batch.quota_left
        ))
        .into());
    }
    if batch.failed > 0 {
        let mut text = format!("{} of {total} ISBNs were not found or failed", batch.failed);
        if let Some(Stop::Error(cause)) = stopped {
            text.push_str(&format!("; stopped after: {cause}"));
        }
        return Err(PartialFailure(text).into());
    }
    Ok(())
}

/// The results file being written: a temp file beside it, renamed over it
/// at the end, so that a reader never sees half a file.
struct ResultsFile {
    path: PathBuf,
    temp: std::io::BufWriter<tempfile::NamedTempFile>,
}

impl ResultsFile {
    fn create(path: &Path) -> anyhow::Result<ResultsFile> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{}.", name.as_deref().unwrap_or("results")))
            .suffix(".tmp")
            .tempfile_in(dir)
            .with_context(|| format!("cannot write beside {}", path.display()))?;
        Ok(ResultsFile {
            path: path.to_path_buf(),
            temp: std::io::BufWriter::new(temp),
        })
    }

    fn push(&mut self, entry: &IsbnEntry) -> anyhow::Result<()> {
        serde_json::to_writer(&mut self.temp, entry)
            .map_err(std::io::Error::from)
            .and_then(|()| self.temp.write_all(b"\n"))
            .with_context(|| format!("writing {}", self.path.display()))
    }

    fn persist(self) -> anyhow::Result<()> {
        let path = self.path;
        let temp = self
            .temp
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("writing {}", path.display()))?;
        temp.as_file()
            .sync_all()
            .with_context(|| format!("writing {}", path.display()))?;
        temp.persist(&path)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot replace {}", path.display()))?;
        Ok(())
    }
}

/// The final entries of an earlier run, by ISBN: a verified volume (or an
/// unverified one when `--loose` is given again), `not found`, or `no
/// volume carries`. Passing failures are left out, so they are asked again.
fn read_results(path: &Path, loose: bool) -> anyhow::Result<HashMap<Isbn, Outcome>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    #[derive(serde::Deserialize)]
    struct Saved {
        isbn: Option<String>,
        volume: Option<serde_json::Value>,
        error: Option<String>,
        #[serde(default)]
        verified: bool,
    }
    let mut known = HashMap::new();
    let mut unreadable = 0;
    for line in std::io::BufReader::new(file).lines() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let Ok(saved) = serde_json::from_str::<Saved>(&line) else {
            unreadable += 1;
            continue;
        };
        let Some(isbn) = saved.isbn.as_deref().and_then(|i| Isbn::parse(i).ok()) else {
            continue;
        };
        let outcome = match (saved.volume, saved.error) {
            (Some(v), _) if saved.verified || loose => match Volume::from_value(v) {
                Ok(volume) => Outcome::found(volume, saved.verified),
                Err(_) => continue,
            },
            (None, Some(error)) if error == "not found" || error.starts_with("no volume carries ISBN") => {
                Outcome::failed(error, true)
            }
            _ => continue,
        };
        known.insert(isbn, outcome);
    }
    if unreadable > 0 {
        crate::messages::warn(&format!(
            "{unreadable} lines of {} are not entries; their ISBNs are looked up again",
            path.display()
        ));
    }
    Ok(known)
}

/// Where the ISBNs come from.
enum Input {
    Args(Vec<String>),
    Text(String),
}

/// The arguments, or stdin when there are none or just `-`.
fn read_input(args: &IsbnArgs) -> anyhow::Result<Input> {
    let from_stdin = match args.isbns.as_slice() {
        [] => true,
        [only] if only == "-" => true,
        many if many.iter().any(|a| a == "-") => {
            return Err(UsageError::new("`-` (read stdin) must be the only argument").into())
        }
        _ => false,
    };
    if !from_stdin {
        return Ok(Input::Args(args.isbns.clone()));
    }
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        crate::messages::status("Reading ISBNs from stdin, one a line; end with Ctrl-D.");
    }
    let mut bytes = Vec::new();
    stdin
        .read_to_end(&mut bytes)
        .context("reading ISBNs from stdin")?;
    Ok(Input::Text(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }))
}
