//! `gbooks cache path|stats|clear`.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Context as _;
use serde_json::json;

use super::Context;
use crate::cache::{self, Cache, Stats};
use crate::cli::CacheCommand;
use crate::output::{Format, Output};

pub fn run(ctx: &Context, cmd: &CacheCommand, out: &mut Output) -> anyhow::Result<()> {
    let c = &ctx.settings.cache;
    let dir = c
        .dir
        .clone()
        .context("no home directory for the cache; set GBOOKS_CACHE_DIR")?;
    let file = dir.join(cache::FILE_NAME);
    match cmd {
        CacheCommand::Path => match out.format() {
            Format::Json | Format::Jsonl => out.record(&json!({ "path": file }), &[])?,
            Format::Table | Format::Csv => out.line(&file.display().to_string())?,
        },
        CacheCommand::Stats => {
            // Looking must not create the file.
            let stats = if file.exists() {
                open(&dir, ctx)?.stats_at(cache::now_ms())?
            } else {
                Stats {
                    entries: 0,
                    bytes: 0,
                    file_bytes: 0,
                    oldest: None,
                    expired: 0,
                }
            };
            print_stats(out, &file, &stats, c.ttl, c.max_bytes)?;
        }
        CacheCommand::Clear => {
            let (entries, bytes) = if file.exists() {
                open(&dir, ctx)?.clear()?
            } else {
                (0, 0)
            };
            match out.format() {
                Format::Table => crate::output::status(&format!(
                    "Removed {entries} cached {} ({}).",
                    if entries == 1 { "answer" } else { "answers" },
                    cache::human_bytes(bytes)
                )),
                _ => out.record(
                    &json!({ "removed_entries": entries, "removed_bytes": bytes }),
                    &[],
                )?,
            }
        }
    }
    Ok(())
}

fn open(dir: &std::path::Path, ctx: &Context) -> anyhow::Result<Cache> {
    let c = &ctx.settings.cache;
    Ok(Cache::open(dir, c.ttl, c.max_bytes)?)
}

fn print_stats(
    out: &mut Output,
    file: &PathBuf,
    s: &Stats,
    ttl: std::time::Duration,
    max_bytes: u64,
) -> std::io::Result<()> {
    let oldest = s.oldest.map(|t| humantime::format_rfc3339_seconds(t).to_string());
    let value = json!({
        "path": file,
        "entries": s.entries,
        "expired": s.expired,
        "size_bytes": s.bytes,
        "file_bytes": s.file_bytes,
        "max_bytes": max_bytes,
        "oldest": oldest,
        "ttl_seconds": ttl.as_secs(),
    });
    let age = |t: SystemTime| {
        let secs = SystemTime::now().duration_since(t).unwrap_or_default().as_secs();
        // Minutes are precise enough for people.
        let rounded = if secs < 60 { secs } else { secs / 60 * 60 };
        humantime::format_duration(std::time::Duration::from_secs(rounded)).to_string()
    };
    let lines = [
        ("Path", file.display().to_string()),
        ("Entries", format!("{} ({} expired)", s.entries, s.expired)),
        (
            "Size",
            format!(
                "{} of {} (file {})",
                cache::human_bytes(s.bytes),
                cache::human_bytes(max_bytes),
                cache::human_bytes(s.file_bytes)
            ),
        ),
        (
            "Oldest",
            match (s.oldest, &oldest) {
                (Some(t), Some(text)) => format!("{text} ({} ago)", age(t)),
                _ => "-".to_string(),
            },
        ),
        ("TTL", humantime::format_duration(ttl).to_string()),
    ];
    out.record(&value, &lines)
}
