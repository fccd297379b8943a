//! `gbooks cache path|stats|clear`.

use anyhow::Context as _;

use super::Context;
use crate::cache::{self, Cache, Stats};
use crate::cli::CacheCommand;
use crate::output::records::{CacheCleared, CachePath, CacheStats};
use crate::output::Output;

pub fn run(ctx: &Context, cmd: &CacheCommand, out: &mut Output) -> anyhow::Result<()> {
    let c = &ctx.settings.cache;
    let dir = c
        .dir
        .clone()
        .context("no home directory for the cache; set GBOOKS_CACHE_DIR")?;
    let file = dir.join(cache::FILE_NAME);
    match cmd {
        CacheCommand::Path => out.record(&CachePath { path: file })?,
        CacheCommand::Stats => {
            // Looking must not create the file.
            let s = if file.exists() {
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
            out.record(&CacheStats {
                path: file,
                entries: s.entries,
                expired: s.expired,
                size_bytes: s.bytes,
                file_bytes: s.file_bytes,
                max_bytes: c.max_bytes,
                oldest: s.oldest.and_then(crate::output::records::rfc3339),
                ttl_seconds: c.ttl.as_secs(),
                oldest_time: s.oldest,
                ttl: c.ttl,
            })?;
        }
        CacheCommand::Clear => {
            let (removed_entries, removed_bytes) = if file.exists() {
                open(&dir, ctx)?.clear()?
            } else {
                (0, 0)
            };
            out.record(&CacheCleared {
                removed_entries,
                removed_bytes,
            })?;
        }
    }
    Ok(())
}

fn open(dir: &std::path::Path, ctx: &Context) -> anyhow::Result<Cache> {
    let c = &ctx.settings.cache;
    Ok(Cache::open(dir, c.ttl, c.max_bytes)?)
}
