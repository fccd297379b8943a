//! `gbooks identify`: the book meant by a title, an author or an ISBN,
//! from a few queries and a documented ranking (see `identify::rank`).

use anyhow::Context as _;

use super::Context;
use crate::books::{Client, SearchParams, Volume};
use crate::cli::IdentifyArgs;
use crate::error::{NotFound, UsageError};
use crate::identify::{self, Candidate, Wanted, GOOD_ENOUGH};
use crate::isbn::Isbn;
use crate::output::{Output, Ranked};

/// Volumes asked for per title query: a popular title has many editions,
/// translations and study guides before the one wanted.
const PER_QUERY: usize = 20;

pub async fn run(ctx: &Context, args: &IdentifyArgs, out: &mut Output) -> anyhow::Result<()> {
    let given = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let title = given(&args.title);
    let isbn = match given(&args.isbn) {
        Some(text) => Some(Isbn::parse(&text).map_err(|e| UsageError::new(format!("--isbn {text}: {e}")))?),
        None => None,
    };
    if title.is_none() && isbn.is_none() {
        return Err(UsageError::new("identify needs --title or --isbn (or both)").into());
    }
    let wanted = Wanted {
        title,
        author: given(&args.author),
        isbn,
        publisher: given(&args.publisher),
        lang: given(&args.lang),
        year: args.year,
    };
    let client = ctx.client().await?;
    let ranked = identify::rank(&wanted, candidates(&client, &wanted).await?);

    if args.best {
        return match ranked.into_iter().next() {
            Some(best) if best.score >= GOOD_ENOUGH => out.volume(&best.volume).map_err(Into::into),
            Some(best) => Err(NotFound(why_not(&best)).into()),
            None => Err(NotFound("no candidates found".into()).into()),
        };
    }
    let mut list = out.list::<Ranked>().context("writing output")?;
    for (i, candidate) in ranked.into_iter().enumerate() {
        list.push(&Ranked {
            rank: i + 1,
            candidate,
        })?;
    }
    list.finish()?;
    Ok(())
}

/// The volumes worth ranking: the verified ISBN lookup, then `intitle:` and
/// `inauthor:`, then the loose words when nothing came back.
async fn candidates(client: &Client, wanted: &Wanted) -> anyhow::Result<Vec<Volume>> {
    let mut volumes = Vec::new();
    if let Some(isbn) = &wanted.isbn {
        let found = super::isbn::find(client, isbn, None, None).await?;
        volumes.extend(found.hit);
        volumes.extend(found.others);
    }
    let (title, author) = (wanted.title.as_deref(), wanted.author.as_deref());
    if let Some(q) = identify::title_author_query(title, author) {
        volumes.extend(search(client, q).await?);
    }
    if volumes.is_empty() {
        if let Some(q) = identify::loose_query(title, author) {
            volumes.extend(search(client, q).await?);
        }
    }
    Ok(volumes)
}

async fn search(client: &Client, q: String) -> anyhow::Result<Vec<Volume>> {
    let params = SearchParams {
        q,
        ..SearchParams::default()
    };
    Ok(client.search(&params, 0, PER_QUERY).await?.items)
}

/// Why the best candidate is not taken: its score and its reasons.
fn why_not(best: &Candidate) -> String {
    format!(
        "no candidate scores {GOOD_ENOUGH} or more: the best, {} ({}), scores {}: {}",
        best.volume.id,
        best.volume.title(),
        best.score,
        best.reasons.join(", ")
    )
}
