//! `gbooks cover`, and the covers `--covers DIR` saves beside a list.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use futures_util::stream::{self, StreamExt};

use super::Context;
use crate::books::{Client, Volume};
use crate::cli::{CoverArgs, CoverSize};
use crate::cover::{self, Cover, Fetcher, ImageKind, Size};
use crate::error::{exit, NotFound, PartialFailure, UsageError};
use crate::isbn::Isbn;
use crate::messages;
use crate::output::{Kept, Output};

/// What an argument names.
enum Target {
    Id(String),
    Isbn(Isbn),
}

impl Target {
    fn parse(text: &str) -> Result<Target, UsageError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(UsageError::new("empty volume id or ISBN"));
        }
        Ok(match Isbn::parse(text) {
            Ok(isbn) => Target::Isbn(isbn),
            Err(_) => Target::Id(text.to_string()),
        })
    }

    /// The file name in `--dir`: `<ID>.<ext>` or `<ISBN>.<ext>`.
    fn file_name(&self, kind: ImageKind) -> Result<String, UsageError> {
        match self {
            Target::Isbn(isbn) => Ok(cover::file_name_for_isbn(isbn, kind)),
            Target::Id(id) => cover::file_name_for_id(id, kind).ok_or_else(|| {
                UsageError::new(format!("cannot name a file after the id {id:?}; use -o FILE"))
            }),
        }
    }
}

pub async fn run(ctx: &Context, args: &CoverArgs, out: &mut Output) -> anyhow::Result<()> {
    if args.output.is_some() && args.targets.len() > 1 {
        return Err(UsageError::new("-o takes one volume; use --dir DIR for more").into());
    }
    let to_stdout = args.output.as_deref() == Some(Path::new("-"));
    if to_stdout && out.is_terminal() {
        return Err(UsageError::new(
            "refusing to write an image to the terminal; redirect stdout or give -o FILE",
        )
        .into());
    }
    let targets = args
        .targets
        .iter()
        .map(|t| Target::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    if args.output.is_none() {
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let client = ctx.client().await?;
    let fetcher = ctx.covers()?;
    let size = size_of(args.size);

    // Downloads run --jobs at a time; files are written in argument order.
    let downloads = stream::iter(targets.iter())
        .map(|target| {
            let (client, fetcher) = (&client, &fetcher);
            async move { download(client, fetcher, target, size).await }
        })
        .buffered(ctx.jobs());
    futures_util::pin_mut!(downloads);

    let mut failures: Vec<(usize, anyhow::Error)> = Vec::new();
    let mut index = 0;
    while let Some(result) = downloads.next().await {
        let target = &targets[index];
        let written = match result {
            Ok(cover) if to_stdout => out.raw(&cover.bytes).context("writing the cover").map(drop),
            Ok(cover) => write(target, &cover, args, &dir),
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            if crate::error::is_broken_pipe(&e) {
                return Err(e);
            }
            failures.push((index, e));
        }
        index += 1;
    }

    let total = targets.len();
    if total == 1 {
        if let Some((i, e)) = failures.pop() {
            return Err(e.context(args.targets[i].trim().to_string()));
        }
        return Ok(());
    }
    if failures.is_empty() {
        return Ok(());
    }
    let all_missing = failures
        .iter()
        .all(|(_, e)| crate::error::exit_code(e) == exit::NOT_FOUND);
    for (i, e) in &failures {
        messages::tell(&format!(
            "gbooks: {}: {}",
            crate::sanitize::terminal_line(args.targets[*i].trim()),
            crate::error::message(e)
        ));
    }
    if all_missing && failures.len() == total {
        return Err(NotFound(format!("none of the {total} volumes has a usable cover")).into());
    }
    Err(PartialFailure(format!("{} of {total} covers were not saved", failures.len())).into())
}

fn size_of(size: CoverSize) -> Size {
    match size {
        CoverSize::Small => Size::Small,
        CoverSize::Medium => Size::Medium,
        CoverSize::Large => Size::Large,
        CoverSize::Best => Size::Best,
    }
}

/// The volume an argument names, then its cover.
async fn download(client: &Client, fetcher: &Fetcher, target: &Target, size: Size) -> anyhow::Result<Cover> {
    let id = match target {
        Target::Id(id) => id.clone(),
        Target::Isbn(isbn) => find_isbn(client, isbn).await?,
    };
    // volumes.get: search results carry only thumbnails.
    let volume = client.volume(&id, None).await?;
    Ok(fetcher.best(&volume, size).await?)
}

/// The id of a volume that carries the ISBN, checked: a search by ISBN can
/// answer with another book.
async fn find_isbn(client: &Client, isbn: &Isbn) -> anyhow::Result<String> {
    let fields = Some("items(id,volumeInfo/industryIdentifiers)");
    match super::lookup::by_isbn(client, isbn, fields).await? {
        Some(v) => Ok(v.id),
        None => Err(NotFound(format!("no volume found with ISBN {isbn}")).into()),
    }
}

fn write(target: &Target, cover: &Cover, args: &CoverArgs, dir: &Path) -> anyhow::Result<()> {
    let path = match &args.output {
        Some(path) => path.clone(),
        None => dir.join(target.file_name(cover.kind)?),
    };
    cover::save(&path, &cover.bytes, args.force)?;
    let from = if cover.enlarged {
        "thumbnail at 800 pixels"
    } else {
        cover.link.key()
    };
    messages::status(&format!("Saved {} ({from})", path.display()));
    Ok(())
}

/// `--covers DIR`: the cover of each volume listed, `--jobs` at a time, as
/// `<ID>.<ext>` (`<ISBN>.<ext>` for `isbn`). A cover already in DIR is kept;
/// a volume without one is noted, and does not fail the run.
pub async fn save_listed(ctx: &Context, dir: &Path, kept: Vec<Kept>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let fetcher = ctx.covers()?;
    let mut seen = HashSet::new();
    let wanted: Vec<(String, Volume)> = kept
        .into_iter()
        .filter_map(|k| {
            let stem = match k.isbn {
                Some(isbn) => isbn,
                None => cover::file_name_for_id(&k.volume.id, ImageKind::Jpeg)?
                    .trim_end_matches(".jpg")
                    .to_string(),
            };
            seen.insert(stem.clone()).then_some((stem, k.volume))
        })
        .filter(|(stem, _)| !saved_already(dir, stem))
        .collect();
    let results: Vec<(String, anyhow::Result<PathBuf>)> = stream::iter(wanted)
        .map(|(stem, volume)| {
            let fetcher = &fetcher;
            async move {
                let saved = async {
                    let cover = fetcher.best(&volume, Size::Best).await?;
                    let path = dir.join(format!("{stem}.{}", cover.kind.extension()));
                    cover::save(&path, &cover.bytes, false)?;
                    anyhow::Ok(path)
                };
                (volume.id.clone(), saved.await)
            }
        })
        .buffer_unordered(ctx.jobs())
        .collect()
        .await;
    let mut saved = 0;
    for (id, result) in results {
        match result {
            Ok(_) => saved += 1,
            Err(e) => messages::warn(&format!("no cover saved for {id}: {}", crate::error::message(&e))),
        }
    }
    if saved > 0 {
        let s = if saved == 1 { "" } else { "s" };
        messages::status(&format!("Saved {saved} cover{s} in {}.", dir.display()));
    }
    Ok(())
}

/// Whether `<stem>.<ext>` is in `dir` for any image format.
fn saved_already(dir: &Path, stem: &str) -> bool {
    [ImageKind::Jpeg, ImageKind::Png, ImageKind::Gif, ImageKind::Webp]
        .iter()
        .any(|kind| dir.join(format!("{stem}.{}", kind.extension())).exists())
}
