//! `gbooks isbn`: many ISBNs looked up at once, printed in input order.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{IsTerminal, Read};

use anyhow::Context as _;
use futures_util::stream::{self, StreamExt};

use super::Context;
use crate::books::{self, Client, SearchParams, Volume};
use crate::cli::IsbnArgs;
use crate::error::{PartialFailure, UsageError};
use crate::isbn::{self, Isbn, Line};
use crate::output::{IsbnEntry, Output};
use crate::progress::Progress;

/// Editions that share an ISBN come back together; a few are enough to pick
/// the one that carries it.
const CANDIDATES: usize = 5;

pub async fn run(ctx: &Context, args: &IsbnArgs, out: &mut Output) -> anyhow::Result<()> {
    let lines = input_lines(args)?;
    let client = ctx.client().await?;
    let fields = out.fields::<IsbnEntry>().map(str::to_string);

    // Each distinct ISBN is asked for once, however often it is listed.
    let mut wanted: Vec<(Isbn, Vec<usize>)> = Vec::new();
    let mut slot_of: HashMap<Isbn, usize> = HashMap::new();
    let mut results: Vec<Option<IsbnEntry>> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match &line.isbn {
            Ok(isbn) => {
                let slot = *slot_of.entry(isbn.clone()).or_insert_with(|| {
                    wanted.push((isbn.clone(), Vec::new()));
                    wanted.len() - 1
                });
                wanted[slot].1.push(i);
                results.push(None);
            }
            Err(e) => results.push(Some(entry(line, Err(e.to_string())))),
        }
    }

    // After an error that every other lookup would meet too (a bad key, an
    // exhausted quota, no server), nothing more is sent.
    let progress = match wanted.len() {
        0 | 1 => Progress::hidden(),
        n => out.progress(Some(n as u64), "ISBNs"),
    };
    let mut list = out.list::<IsbnEntry>().context("writing output")?;
    let stopped: RefCell<Option<String>> = RefCell::new(None);
    let lookups = stream::iter(wanted)
        .map(|(isbn, indexes)| {
            let (client, fields, stopped) = (&client, &fields, &stopped);
            async move {
                let skipped = stopped.borrow().is_some();
                // The row says what failed; the hint comes once, after the list.
                let result = if skipped {
                    Err("not looked up after an earlier error".to_string())
                } else {
                    match lookup(client, &isbn, fields.clone()).await {
                        Ok(found) => found.ok_or_else(|| "not found".to_string()),
                        Err(e) => {
                            let stops = stops_the_run(&e);
                            let err = anyhow::Error::new(e);
                            let text = crate::error::message_without_hint(&err);
                            if stops {
                                stopped
                                    .borrow_mut()
                                    .get_or_insert_with(|| crate::error::message(&err));
                            }
                            Err(text)
                        }
                    }
                };
                (indexes, result)
            }
        })
        .buffer_unordered(ctx.settings.jobs);
    futures_util::pin_mut!(lookups);

    // Replies finish in any order; entries leave in input order, each as soon
    // as every entry before it is ready.
    let mut next = 0;
    let mut failed = 0;
    let mut emit = |results: &mut Vec<Option<IsbnEntry>>, next: &mut usize| -> anyhow::Result<()> {
        while let Some(done) = results.get_mut(*next).and_then(Option::take) {
            if done.volume.is_none() {
                failed += 1;
            }
            list.push(&done).context("writing output")?;
            *next += 1;
        }
        Ok(())
    };
    emit(&mut results, &mut next)?;
    while let Some((indexes, result)) = lookups.next().await {
        for i in indexes {
            results[i] = Some(entry(&lines[i], result.clone()));
        }
        progress.inc(1);
        emit(&mut results, &mut next)?;
    }
    drop(progress);
    let total = list.finish().context("writing output")?;

    if failed > 0 {
        let mut text = format!("{failed} of {total} ISBNs were not found or failed");
        if let Some(cause) = stopped.borrow().as_deref() {
            text.push_str(&format!("; stopped after: {cause}"));
        }
        return Err(PartialFailure(text).into());
    }
    Ok(())
}

/// The first volume that carries the ISBN, else the first that Google matched.
async fn lookup(
    client: &Client,
    isbn: &Isbn,
    fields: Option<String>,
) -> Result<Option<Volume>, books::Error> {
    let params = SearchParams {
        q: format!("isbn:{isbn}"),
        fields,
        ..SearchParams::default()
    };
    let page = client.search(&params, 0, CANDIDATES).await?;
    let mut items = page.items;
    let pick = items.iter().position(|v| isbn.matches(v)).unwrap_or(0);
    Ok((!items.is_empty()).then(|| items.swap_remove(pick)))
}

/// Errors that are about the run, not the ISBN: not found is an empty 200,
/// so a 4xx means a bad key, quota, location or address.
fn stops_the_run(err: &books::Error) -> bool {
    match err {
        books::Error::Api(api) => api.is_client_error(),
        books::Error::Http(crate::http::Error::Transport { .. })
        | books::Error::NotLoggedIn
        | books::Error::Token(_) => true,
        _ => false,
    }
}

fn entry(line: &Line, result: Result<Volume, String>) -> IsbnEntry {
    let isbn = line.isbn.as_ref().ok().map(|i| i.to_string());
    let (volume, error) = match result {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e)),
    };
    IsbnEntry {
        input: line.input.clone(),
        isbn,
        volume,
        error,
    }
}

/// The arguments, or stdin when there are none or just `-`.
fn input_lines(args: &IsbnArgs) -> anyhow::Result<Vec<Line>> {
    let from_stdin = match args.isbns.as_slice() {
        [] => true,
        [only] if only == "-" => true,
        many if many.iter().any(|a| a == "-") => {
            return Err(UsageError::new("`-` (read stdin) must be the only argument").into())
        }
        _ => false,
    };
    if !from_stdin {
        return Ok(isbn::lines(args.isbns.iter().map(String::as_str)));
    }
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        crate::messages::status("Reading ISBNs from stdin, one a line; end with Ctrl-D.");
    }
    let mut bytes = Vec::new();
    stdin
        .read_to_end(&mut bytes)
        .context("reading ISBNs from stdin")?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(isbn::lines(text.lines()))
}
