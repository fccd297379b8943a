//! The local cache of public answers: one SQLite file that every `gbooks`
//! process may use at once (WAL lets readers and one writer share it).
//!
//! The cache must never make a command fail: any trouble prints one warning
//! and the run goes on without it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::config::DbConfig;
use rusqlite::{
    params, Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};

use crate::books::ResponseCache;

pub const FILE_NAME: &str = "cache.db";
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
pub const DEFAULT_MAX_BYTES: u64 = 200 * 1024 * 1024;
/// Covers have a cap of their own, so that pictures never push out answers.
pub const COVER_MAX_BYTES: u64 = 100 * 1024 * 1024;

/// Bumped when the table changes; an older file is simply started afresh.
const SCHEMA_VERSION: i64 = 1;
/// How long to wait for another process's write before giving up on the cache.
const BUSY_TIMEOUT: Duration = Duration::from_millis(1500);
/// A hit refreshes its "last used" time only if older than this: LRU needs
/// no finer precision, and a re-run within the hour writes nothing.
const TOUCH_AFTER_MS: i64 = 3_600_000;
/// How far in the future a stored time may be and still count: clocks
/// between processes differ a little.
const FUTURE_SLACK_MS: i64 = 60_000;
/// Eviction checks the total size after this share of the cap was written.
const CHECK_EVERY_FRACTION: u64 = 20;
/// Eviction goes below the cap by this much, so that it is not redone on every run.
const EVICT_TO_PERCENT: u64 = 90;
/// Answers are written in one transaction after the output, or sooner once
/// this many bytes wait (a long listing must not hold them all).
const PENDING_BYTES: u64 = 1024 * 1024;
/// What `write_early` waits for: enough answers to be worth a transaction,
/// few enough to write well within a round trip.
const EARLY_BYTES: u64 = 32 * 1024;
/// The write-ahead log is kept between runs (no checkpoint, fsync or delete
/// on close); the write that takes it past this size checkpoints it and cuts
/// it to nothing. Kept small: every new process reads the whole log to index
/// it, and that index does not remember what was checkpointed, so SQLite's
/// own automatic checkpoint would redo it (with its fsyncs) on every run.
const CHECKPOINT_BYTES: u64 = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot create the cache directory {path}: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("cache {path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    #[error("cannot remove the corrupted cache {path}: {source}")]
    Remove { path: PathBuf, source: std::io::Error },
    #[error("the cache {path} failed earlier in this run")]
    Unusable { path: PathBuf },
}

/// What `cache stats` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    pub entries: u64,
    /// Bytes of stored answers and their keys (what the cap counts).
    pub bytes: u64,
    /// Bytes on disk: the database with its write-ahead log.
    pub file_bytes: u64,
    pub oldest: Option<SystemTime>,
    /// Entries older than the time to live of this run.
    pub expired: u64,
}

pub struct Cache {
    path: PathBuf,
    ttl_ms: i64,
    max_bytes: u64,
    state: Mutex<State>,
    /// Where the one warning of a run goes.
    warn: fn(&str),
}

struct State {
    /// `None` once the cache has failed: the rest of the run goes without it.
    conn: Option<Connection>,
    warned: bool,
    /// Hits whose "last used" time is written in one go at the end.
    touched: Vec<(String, i64)>,
    /// Answers not yet written: (key, body, stored at).
    pending: Vec<(String, Vec<u8>, i64)>,
    pending_bytes: u64,
    /// Bytes written since the size was last checked.
    written: u64,
    wrote_any: bool,
}

impl Cache {
    /// Opens (or creates) the cache in `dir`. A corrupted file is replaced
    /// by an empty one at once, with a warning.
    pub fn open(dir: &Path, ttl: Duration, max_bytes: u64) -> Result<Cache, Error> {
        Cache::open_with(dir, ttl, max_bytes, crate::messages::warn)
    }

    /// The same, with warnings sent to `warn`.
    pub fn open_with(dir: &Path, ttl: Duration, max_bytes: u64, warn: fn(&str)) -> Result<Cache, Error> {
        // Only the directories made here are made private: an existing
        // GBOOKS_CACHE_DIR keeps the mode its owner gave it.
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|source| Error::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(FILE_NAME);
        create_private_file(&path);
        let mut warned = false;
        let conn = match connect(&path) {
            Err(e) if is_corrupt(&e) => {
                let conn = rebuild(&path)?;
                warned = true;
                warn(&format!(
                    "the cache {} was corrupted; starting a new one",
                    path.display()
                ));
                conn
            }
            other => other.map_err(|source| Error::Sqlite {
                path: path.clone(),
                source,
            })?,
        };
        Ok(Cache {
            path,
            ttl_ms: i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX),
            max_bytes,
            state: Mutex::new(State {
                conn: Some(conn),
                warned,
                touched: Vec::new(),
                pending: Vec::new(),
                pending_bytes: 0,
                written: 0,
                wrote_any: false,
            }),
            warn,
        })
    }

    /// A fresh answer for `key` at time `now` (ms since the epoch).
    pub fn get_at(&self, key: &str, now: i64) -> Option<Vec<u8>> {
        let mut st = self.lock();
        if let Some((_, body, stored_at)) = st.pending.iter().rev().find(|(k, _, _)| k == key) {
            return (now.saturating_sub(*stored_at) < self.ttl_ms).then(|| body.clone());
        }
        let conn = st.conn.as_ref()?;
        let row = read_entry(
            conn,
            "SELECT body, stored_at, used_at FROM responses WHERE key = ?1",
            key,
        );
        match row {
            Ok(Some((body, stored_at, used_at))) if self.fresh(stored_at, now) => {
                if now.saturating_sub(used_at) >= TOUCH_AFTER_MS {
                    st.touched.push((key.to_string(), now));
                }
                Some(body)
            }
            Ok(_) => None,
            Err(e) => {
                self.fail(&mut st, e);
                None
            }
        }
    }

    /// Whether an entry stored at `stored_at` is still good at `now`. One
    /// from the future (a clock that was wrong, year 10000) is stale, not
    /// fresh forever.
    fn fresh(&self, stored_at: i64, now: i64) -> bool {
        stored_at <= now.saturating_add(FUTURE_SLACK_MS) && now.saturating_sub(stored_at) < self.ttl_ms
    }

    /// Stores an answer for `key` at time `now` (ms since the epoch): kept
    /// in memory and written by `flush`, so that no write comes before the
    /// output.
    pub fn put_at(&self, key: &str, body: &[u8], now: i64) {
        let size = (key.len() + body.len()) as u64;
        if size > self.max_bytes {
            return;
        }
        let mut st = self.lock();
        if st.conn.is_none() {
            return;
        }
        st.pending.push((key.to_string(), body.to_vec(), now));
        st.pending_bytes += size;
        if st.pending_bytes >= PENDING_BYTES {
            self.write_pending(&mut st);
        }
    }

    /// Writes the answers kept so far once they make `EARLY_BYTES`: for a
    /// batch that has just sent its requests and waits on the network, so
    /// that the end of the run has little left to write.
    pub fn write_early(&self) {
        let mut st = self.lock();
        if st.pending_bytes >= EARLY_BYTES {
            self.write_pending(&mut st);
        }
    }

    /// Writes the answers kept so far, in one transaction.
    pub fn flush(&self) {
        let mut st = self.lock();
        self.write_pending(&mut st);
    }

    fn write_pending(&self, st: &mut State) {
        let pending = std::mem::take(&mut st.pending);
        st.pending_bytes = 0;
        let Some(conn) = st.conn.as_ref() else { return };
        if pending.is_empty() {
            return;
        }
        let result = conn.unchecked_transaction().and_then(|tx| {
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT OR REPLACE INTO responses (key, size, stored_at, used_at, body) \
                     VALUES (?1, ?2, ?3, ?3, ?4)",
                )?;
                for (key, body, now) in &pending {
                    let size = (key.len() + body.len()) as i64;
                    stmt.execute(params![key, size, now, body])?;
                }
            }
            tx.commit()
        });
        if let Err(e) = result {
            self.fail(st, e);
            return;
        }
        st.written += pending
            .iter()
            .map(|(k, b, _)| (k.len() + b.len()) as u64)
            .sum::<u64>();
        st.wrote_any = true;
        let wal = std::fs::metadata(sibling(&self.path, "-wal")).map_or(0, |m| m.len());
        if wal > CHECKPOINT_BYTES {
            // Best effort: a reader in another process only puts it off to a later run.
            let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
        if st.written >= self.max_bytes / CHECK_EVERY_FRACTION {
            st.written = 0;
            if let Err(e) = self.evict(st) {
                self.fail(st, e);
            }
        }
    }

    /// Removes the least recently used entries until the cache is under its cap.
    /// Returns how many went.
    fn evict(&self, st: &State) -> rusqlite::Result<u64> {
        let Some(conn) = st.conn.as_ref() else {
            return Ok(0);
        };
        let total: i64 = conn.query_row("SELECT COALESCE(SUM(size), 0) FROM responses", [], |r| r.get(0))?;
        let total = total.max(0) as u64;
        if total <= self.max_bytes {
            return Ok(0);
        }
        let target = self.max_bytes / 100 * EVICT_TO_PERCENT;
        let mut excess = total - target;
        let mut doomed = Vec::new();
        {
            let mut stmt = conn.prepare("SELECT rowid, size FROM responses ORDER BY used_at")?;
            let mut rows = stmt.query([])?;
            while excess > 0 {
                let Some(row) = rows.next()? else { break };
                let size: i64 = row.get(1)?;
                excess = excess.saturating_sub(size.max(0) as u64);
                doomed.push(row.get::<_, i64>(0)?);
            }
        }
        let tx = conn.unchecked_transaction()?;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM responses WHERE rowid = ?1")?;
            for rowid in &doomed {
                stmt.execute([rowid])?;
            }
        }
        tx.commit()?;
        // Give the freed pages back to the file system.
        conn.execute_batch("PRAGMA incremental_vacuum")?;
        Ok(doomed.len() as u64)
    }

    /// Counts for `cache stats`, at time `now` (ms since the epoch).
    pub fn stats_at(&self, now: i64) -> Result<Stats, Error> {
        let mut st = self.lock();
        self.write_pending(&mut st);
        let conn = st.conn.as_ref().ok_or_else(|| self.unusable())?;
        let (entries, bytes, oldest, expired) = conn
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(size), 0), MIN(stored_at), \
                        COALESCE(SUM(stored_at <= ?1 OR stored_at > ?2), 0) FROM responses",
                [
                    now.saturating_sub(self.ttl_ms),
                    now.saturating_add(FUTURE_SLACK_MS),
                ],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<i64>>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .map_err(|source| self.sqlite(source))?;
        let file_bytes = ["", "-wal"]
            .iter()
            .filter_map(|suffix| std::fs::metadata(sibling(&self.path, suffix)).ok())
            .map(|m| m.len())
            .sum();
        Ok(Stats {
            entries: entries.max(0) as u64,
            bytes: bytes.max(0) as u64,
            file_bytes,
            oldest: oldest.map(|ms| UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)),
            expired: expired.max(0) as u64,
        })
    }

    /// Removes every entry; returns how many there were and their size.
    pub fn clear(&self) -> Result<(u64, u64), Error> {
        let mut st = self.lock();
        st.touched.clear();
        st.pending.clear();
        st.pending_bytes = 0;
        let conn = st.conn.as_ref().ok_or_else(|| self.unusable())?;
        let (entries, bytes) = conn
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM responses",
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
            .map_err(|source| self.sqlite(source))?;
        let (cover_entries, cover_bytes) = clear_covers(conn).map_err(|source| self.sqlite(source))?;
        conn.execute_batch(
            "DELETE FROM responses; PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE);",
        )
        .map_err(|source| self.sqlite(source))?;
        Ok((
            entries.max(0) as u64 + cover_entries,
            bytes.max(0) as u64 + cover_bytes,
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sqlite(&self, source: rusqlite::Error) -> Error {
        Error::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn unusable(&self) -> Error {
        Error::Unusable {
            path: self.path.clone(),
        }
    }

    /// One warning per run; a corrupted file is replaced so that the next
    /// run (or the rest of this one) has a cache again.
    fn fail(&self, st: &mut State, err: rusqlite::Error) {
        st.conn = None;
        st.touched.clear();
        st.pending.clear();
        st.pending_bytes = 0;
        let message = if is_corrupt(&err) {
            match rebuild(&self.path) {
                Ok(conn) => {
                    st.conn = Some(conn);
                    format!(
                        "the cache {} was corrupted; starting a new one",
                        self.path.display()
                    )
                }
                Err(e) => format!("{e}; going on without the cache"),
            }
        } else {
            format!("{}; going on without the cache", self.sqlite(err))
        };
        if !st.warned {
            st.warned = true;
            (self.warn)(&message);
        }
    }
}

impl Drop for Cache {
    /// Writes this run's answers and the "last used" times of its hits, and
    /// keeps the size in check. Best effort: nothing here is worth a warning
    /// at exit.
    fn drop(&mut self) {
        let mut st = self.lock();
        self.write_pending(&mut st);
        let Some(conn) = st.conn.as_ref() else { return };
        if !st.touched.is_empty() {
            let _ = conn.unchecked_transaction().and_then(|tx| {
                {
                    let mut stmt = tx.prepare_cached("UPDATE responses SET used_at = ?1 WHERE key = ?2")?;
                    for (key, when) in &st.touched {
                        stmt.execute(params![when, key])?;
                    }
                }
                tx.commit()
            });
        }
        // The size sum reads the whole index (3 ms at 20,000 entries): a run
        // does it with a chance in proportion to what it wrote, so that runs
        // check once per twentieth of the cap written, on average.
        let every = (self.max_bytes / CHECK_EVERY_FRACTION).max(1);
        if st.wrote_any && fastrand::u64(0..every) < st.written {
            let _ = self.evict(&st);
        }
    }
}

impl ResponseCache for Cache {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.get_at(key, now_ms())
    }

    fn put(&self, key: &str, body: &[u8]) {
        self.put_at(key, body, now_ms())
    }
}

// Covers: downloaded images, kept in a table of their own beside the API
// answers, made when the first cover is stored, with its own cap.

const COVERS_TABLE: &str = "CREATE TABLE IF NOT EXISTS covers (
         url TEXT PRIMARY KEY NOT NULL,
         size INTEGER NOT NULL,
         stored_at INTEGER NOT NULL,
         used_at INTEGER NOT NULL,
         body BLOB NOT NULL
     );
     CREATE INDEX IF NOT EXISTS covers_lru ON covers (used_at, size);";

impl Cache {
    /// A fresh image downloaded from `url`, at time `now` (ms since the epoch).
    pub fn cover_get_at(&self, url: &str, now: i64) -> Option<Vec<u8>> {
        let mut st = self.lock();
        let conn = st.conn.as_ref()?;
        let row = read_entry(
            conn,
            "SELECT body, stored_at, used_at FROM covers WHERE url = ?1",
            url,
        );
        match row {
            Ok(Some((body, stored_at, used_at))) if self.fresh(stored_at, now) => {
                if now.saturating_sub(used_at) >= TOUCH_AFTER_MS {
                    let _ = conn.execute("UPDATE covers SET used_at = ?1 WHERE url = ?2", params![now, url]);
                }
                Some(body)
            }
            Ok(_) => None,
            Err(e) if no_covers_yet(&e) => None,
            Err(e) => {
                self.fail(&mut st, e);
                None
            }
        }
    }

    /// Stores an image downloaded from `url`; past `max_bytes` of covers the
    /// least recently used go.
    pub fn cover_put_at(&self, url: &str, body: &[u8], now: i64, max_bytes: u64) {
        let size = (url.len() + body.len()) as u64;
        if size > max_bytes {
            return;
        }
        let mut st = self.lock();
        let Some(conn) = st.conn.as_ref() else { return };
        let result = conn.execute_batch(COVERS_TABLE).and_then(|()| {
            conn.execute(
                "INSERT OR REPLACE INTO covers (url, size, stored_at, used_at, body) \
                 VALUES (?1, ?2, ?3, ?3, ?4)",
                params![url, size as i64, now, body],
            )?;
            evict_covers(conn, max_bytes)
        });
        if let Err(e) = result {
            self.fail(&mut st, e);
        }
    }

    pub fn cover_get(&self, url: &str) -> Option<Vec<u8>> {
        self.cover_get_at(url, now_ms())
    }

    pub fn cover_put(&self, url: &str, body: &[u8]) {
        self.cover_put_at(url, body, now_ms(), COVER_MAX_BYTES)
    }
}

/// The body, stored_at and used_at of one entry, by the `sql` given.
fn read_entry(conn: &Connection, sql: &str, key: &str) -> rusqlite::Result<Option<(Vec<u8>, i64, i64)>> {
    conn.prepare_cached(sql)?
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
}

fn no_covers_yet(err: &rusqlite::Error) -> bool {
    err.to_string().contains("no such table")
}

/// Down to 90% of the cap when over it, least recently used first.
fn evict_covers(conn: &Connection, max_bytes: u64) -> rusqlite::Result<()> {
    let total: i64 = conn.query_row("SELECT COALESCE(SUM(size), 0) FROM covers", [], |r| r.get(0))?;
    let total = total.max(0) as u64;
    if total <= max_bytes {
        return Ok(());
    }
    let mut excess = total - max_bytes / 100 * EVICT_TO_PERCENT;
    let mut doomed = Vec::new();
    {
        let mut stmt = conn.prepare("SELECT rowid, size FROM covers ORDER BY used_at")?;
        let mut rows = stmt.query([])?;
        while excess > 0 {
            let Some(row) = rows.next()? else { break };
            excess = excess.saturating_sub(row.get::<_, i64>(1)?.max(0) as u64);
            doomed.push(row.get::<_, i64>(0)?);
        }
    }
    let mut stmt = conn.prepare_cached("DELETE FROM covers WHERE rowid = ?1")?;
    for rowid in doomed {
        stmt.execute([rowid])?;
    }
    Ok(())
}

/// Empties the covers table, if there is one: (entries, bytes) removed.
fn clear_covers(conn: &Connection) -> rusqlite::Result<(u64, u64)> {
    match conn.query_row("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM covers", [], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    }) {
        Ok((entries, bytes)) => {
            conn.execute_batch("DELETE FROM covers")?;
            Ok((entries.max(0) as u64, bytes.max(0) as u64))
        }
        Err(e) if no_covers_yet(&e) => Ok((0, 0)),
        Err(e) => Err(e),
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn is_corrupt(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
    )
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Opens the file and makes sure the table is there. Cheap when it already is:
/// it runs on every public command. Processes that create the file together
/// can see SQLITE_BUSY where no busy handler runs (switching to WAL), so
/// that is tried again for a moment.
fn connect(path: &Path) -> rusqlite::Result<Connection> {
    // Bounded by the same wait as any other lock: a cache held by another
    // program must not hold up the command for longer.
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match connect_once(path) {
            Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20 + fastrand::u64(0..30)));
            }
            other => return other,
        }
    }
}

fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

fn connect_once(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Durability is not worth an fsync per answer: a lost entry is refetched.
    // The log stays when the last connection closes: checkpointing and
    // deleting it there cost 4 fsyncs and 2 unlinks on every run.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    conn.execute_batch(&format!(
        "PRAGMA synchronous = NORMAL; \
         PRAGMA wal_autocheckpoint = 0; \
         PRAGMA journal_size_limit = {CHECKPOINT_BYTES};"
    ))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == SCHEMA_VERSION {
        return Ok(conn);
    }
    // A new file (or one from another version): set it up once, under a write
    // lock, without the fsyncs (a file cut short here is found corrupt and
    // replaced, like any other).
    conn.execute_batch("PRAGMA synchronous = OFF")?;
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
    }
    // IMMEDIATE: two processes creating the file at once must not deadlock.
    let tx = Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version != SCHEMA_VERSION {
        tx.execute_batch(&format!(
            "DROP TABLE IF EXISTS responses;
             CREATE TABLE responses (
                 key TEXT PRIMARY KEY NOT NULL,
                 size INTEGER NOT NULL,
                 stored_at INTEGER NOT NULL,
                 used_at INTEGER NOT NULL,
                 body BLOB NOT NULL
             );
             -- Covers the size sum, eviction and stats: they never read the bodies.
             CREATE INDEX responses_lru ON responses (used_at, size, stored_at);
             PRAGMA user_version = {SCHEMA_VERSION};"
        ))?;
    }
    tx.commit()?;
    conn.execute_batch("PRAGMA synchronous = NORMAL")?;
    Ok(conn)
}

/// Deletes a corrupted file (with its log) and starts an empty one.
/// Creates the database file 0600 if it is missing: SQLite would make it
/// 0644, and what the user looked up is their business.
fn create_private_file(path: &Path) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let _ = options.open(path);
}

fn rebuild(path: &Path) -> Result<Connection, Error> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let file = sibling(path, suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::Remove { path: file, source }),
        }
    }
    create_private_file(path);
    connect(path).map_err(|source| Error::Sqlite {
        path: path.to_path_buf(),
        source,
    })
}

/// Formats a byte count for people: `1.8 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    /// A cache whose warnings go nowhere: a passing test prints nothing.
    fn open(dir: &Path, max_bytes: u64) -> Cache {
        open_ttl(dir, DEFAULT_TTL, max_bytes)
    }

    fn open_ttl(dir: &Path, ttl: Duration, max_bytes: u64) -> Cache {
        Cache::open_with(dir, ttl, max_bytes, |_| {}).unwrap()
    }

    #[test]
    fn hit_until_the_ttl_runs_out() {
        let dir = tempfile::tempdir().unwrap();
        let cache = open_ttl(dir.path(), Duration::from_secs(3600), DEFAULT_MAX_BYTES);
        let t0 = 1_000 * HOUR;
        assert_eq!(cache.get_at("k", t0), None);
        cache.put_at("k", b"body", t0);
        assert_eq!(cache.get_at("k", t0 + HOUR - 1).as_deref(), Some(&b"body"[..]));
        assert_eq!(cache.get_at("k", t0 + HOUR), None);
        assert_eq!(cache.get_at("other", t0), None);
    }

    #[test]
    fn zero_ttl_never_hits_but_still_stores() {
        let dir = tempfile::tempdir().unwrap();
        let cache = open_ttl(dir.path(), Duration::ZERO, DEFAULT_MAX_BYTES);
        cache.put_at("k", b"body", 5);
        assert_eq!(cache.get_at("k", 5), None);
        assert_eq!(cache.stats_at(5).unwrap().entries, 1);
    }

    #[test]
    fn entries_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let now = now_ms();
        open(dir.path(), DEFAULT_MAX_BYTES).put_at("k", b"body", now);
        let cache = open(dir.path(), DEFAULT_MAX_BYTES);
        assert_eq!(cache.get_at("k", now).as_deref(), Some(&b"body"[..]));
    }

    #[test]
    fn past_the_cap_the_least_recently_used_go_first() {
        let dir = tempfile::tempdir().unwrap();
        // Each entry is 1 + 99 = 100 bytes; the cap holds ten.
        let cache = open(dir.path(), 1000);
        let body = [b'x'; 99];
        let t0 = 1_000 * HOUR;
        for (i, key) in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
            .iter()
            .enumerate()
        {
            cache.put_at(key, &body, t0 + i as i64 * HOUR);
        }
        assert_eq!(cache.stats_at(t0).unwrap().entries, 10);
        // "a" and "b" are the oldest stored, but reading them makes them recent.
        assert!(cache.get_at("a", t0 + 20 * HOUR).is_some());
        assert!(cache.get_at("b", t0 + 20 * HOUR).is_some());
        drop(cache); // writes the "last used" times
        let cache = open(dir.path(), 1000);
        cache.put_at("k", &body, t0 + 21 * HOUR); // over the cap: evicts down to 90% of it
        drop(cache);
        let cache = open(dir.path(), 1000);
        let now = t0 + 22 * HOUR;
        let kept: Vec<&str> = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"]
            .into_iter()
            .filter(|k| cache.get_at(k, now).is_some())
            .collect();
        assert_eq!(kept, ["a", "b", "e", "f", "g", "h", "i", "j", "k"]);
        let stats = cache.stats_at(now).unwrap();
        assert_eq!((stats.entries, stats.bytes), (9, 900));
    }

    #[test]
    fn an_answer_bigger_than_the_cap_is_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = open(dir.path(), 100);
        cache.put_at("k", &[0; 200], 5);
        assert_eq!(cache.stats_at(5).unwrap().entries, 0);
    }

    #[test]
    fn stats_and_clear() {
        let dir = tempfile::tempdir().unwrap();
        let cache = open_ttl(dir.path(), Duration::from_secs(3600), DEFAULT_MAX_BYTES);
        let t0 = 1_000 * HOUR;
        cache.put_at("ab", b"123", t0);
        cache.put_at("cd", b"4567", t0 + 2 * HOUR);
        let stats = cache.stats_at(t0 + 2 * HOUR).unwrap();
        assert_eq!(stats.entries, 2);
        assert_eq!(stats.bytes, 11);
        assert_eq!(stats.expired, 1);
        assert_eq!(stats.oldest, Some(UNIX_EPOCH + Duration::from_millis(t0 as u64)));
        assert!(stats.file_bytes > 0);
        assert_eq!(cache.clear().unwrap(), (2, 11));
        let stats = cache.stats_at(t0).unwrap();
        assert_eq!((stats.entries, stats.bytes, stats.oldest), (0, 0, None));
    }

    #[test]
    fn two_connections_write_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let now = now_ms();
        std::thread::scope(|s| {
            for writer in 0..2 {
                let dir = dir.path();
                s.spawn(move || {
                    let cache = open(dir, DEFAULT_MAX_BYTES);
                    for i in 0..300 {
                        cache.put_at(&format!("{writer}/{i}"), &[b'x'; 2000], now);
                    }
                });
            }
        });
        let cache = open(dir.path(), DEFAULT_MAX_BYTES);
        assert_eq!(cache.stats_at(now).unwrap().entries, 600);
        assert!(cache.get_at("0/299", now).is_some() && cache.get_at("1/0", now).is_some());
    }

    /// Answers wait in memory until `flush` (after the output); another
    /// process sees them only then, and this one meanwhile.
    #[test]
    fn answers_are_written_on_flush() {
        let dir = tempfile::tempdir().unwrap();
        let now = now_ms();
        let writer = open(dir.path(), DEFAULT_MAX_BYTES);
        let reader = open(dir.path(), DEFAULT_MAX_BYTES);
        writer.put_at("k", b"body", now);
        assert_eq!(writer.get_at("k", now).as_deref(), Some(&b"body"[..]));
        assert_eq!(reader.get_at("k", now), None);
        writer.flush();
        assert_eq!(reader.get_at("k", now).as_deref(), Some(&b"body"[..]));
    }

    /// `write_early` leaves a few answers for the end of the run, and
    /// writes them once they make `EARLY_BYTES`.
    #[test]
    fn a_batch_writes_early_only_what_is_worth_a_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let now = now_ms();
        let writer = open(dir.path(), DEFAULT_MAX_BYTES);
        let reader = open(dir.path(), DEFAULT_MAX_BYTES);
        let body = vec![b'x'; 1000];
        writer.put_at("first", &body, now);
        writer.write_early();
        assert_eq!(reader.get_at("first", now), None);
        for i in 0..EARLY_BYTES / 1000 {
            writer.put_at(&format!("k{i}"), &body, now);
        }
        writer.write_early();
        assert_eq!(reader.get_at("first", now).as_deref(), Some(&body[..]));
        assert_eq!(reader.stats_at(now).unwrap().entries, 1 + EARLY_BYTES / 1000);
    }

    /// Closing neither checkpoints nor deletes the log: that cost every run
    /// 4 fsyncs and 2 unlinks. The entries are still there on reopening.
    #[test]
    fn the_log_outlives_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let now = now_ms();
        open(dir.path(), DEFAULT_MAX_BYTES).put_at("k", b"body", now);
        let wal = std::fs::metadata(sibling(&dir.path().join(FILE_NAME), "-wal")).unwrap();
        assert!(wal.len() > 0);
        let cache = open(dir.path(), DEFAULT_MAX_BYTES);
        assert_eq!(cache.get_at("k", now).as_deref(), Some(&b"body"[..]));
    }

    /// Past its size, the log is checkpointed and cut to nothing, so that
    /// the next process has little to read when it opens the file.
    #[test]
    fn a_long_log_is_cut_short() {
        let dir = tempfile::tempdir().unwrap();
        let now = now_ms();
        let cache = open(dir.path(), DEFAULT_MAX_BYTES);
        let wal = || std::fs::metadata(sibling(&dir.path().join(FILE_NAME), "-wal")).map_or(0, |m| m.len());
        for i in 0..40 {
            cache.put_at(&format!("k{i}"), &[b'x'; 10_000], now);
            cache.flush();
            assert!(wal() <= CHECKPOINT_BYTES + 64 * 1024, "{}", wal());
        }
        drop(cache);
        let cache = open(dir.path(), DEFAULT_MAX_BYTES);
        assert_eq!(cache.stats_at(now).unwrap().entries, 40);
    }

    #[test]
    fn a_corrupted_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), vec![b'#'; 8192]).unwrap();
        let cache = open(dir.path(), DEFAULT_MAX_BYTES);
        cache.put_at("k", b"body", 5);
        assert_eq!(cache.get_at("k", 5).as_deref(), Some(&b"body"[..]));
    }

    /// A logged-in user: every request carries a bearer token.
    struct LoggedIn;

    impl crate::books::TokenSource for LoggedIn {
        fn token(
            &self,
        ) -> crate::books::BoxFuture<'_, Result<Option<crate::secret::Secret>, crate::books::TokenError>>
        {
            Box::pin(async { Ok(Some(crate::secret::Secret::new("token"))) })
        }
        fn refresh<'a>(
            &'a self,
            _: &'a crate::secret::Secret,
        ) -> crate::books::BoxFuture<'a, Result<Option<crate::secret::Secret>, crate::books::TokenError>>
        {
            Box::pin(async { Ok(None) })
        }
    }

    async fn client(
        server: &wiremock::MockServer,
        cache: &std::sync::Arc<Cache>,
        key: Option<&str>,
    ) -> crate::books::Client {
        let http = crate::books::Http::new(Duration::from_secs(5)).unwrap();
        let base = url::Url::parse(&format!("{}/books/v1", server.uri())).unwrap();
        crate::books::Client::new(http, base, key.map(crate::secret::Secret::new), None)
            .with_cache(cache.clone())
    }

    #[tokio::test]
    async fn only_public_answers_that_parse_are_kept() {
        use wiremock::matchers::{header_exists, method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};

        let server = MockServer::start().await;
        let volume =
            serde_json::json!({ "kind": "books#volume", "id": "v1", "volumeInfo": { "title": "T" } });
        // With a token: asked twice, stored never.
        Mock::given(method("GET"))
            .and(path("/books/v1/volumes/v1"))
            .and(header_exists("authorization"))
            .respond_with(ResponseTemplate::new(200).set_body_json(&volume))
            .expect(2)
            .mount(&server)
            .await;
        // An error and a 200 that is not JSON: asked every time.
        Mock::given(method("GET"))
            .and(path("/books/v1/volumes/gone"))
            .respond_with(ResponseTemplate::new(404))
            .expect(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/books/v1/volumes/portal"))
            .respond_with(ResponseTemplate::new(200).set_body_string("<html>sign in to the wifi</html>"))
            .expect(2)
            .mount(&server)
            .await;
        // Public, with a key: asked once.
        Mock::given(method("GET"))
            .and(path("/books/v1/volumes/v2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(&volume))
            .expect(1)
            .mount(&server)
            .await;

        let dir = tempfile::tempdir().unwrap();
        let cache = std::sync::Arc::new(open(dir.path(), DEFAULT_MAX_BYTES));
        let private = client(&server, &cache, None)
            .await
            .with_tokens(std::sync::Arc::new(LoggedIn));
        let public = client(&server, &cache, Some("k1")).await;
        for _ in 0..2 {
            private.volume("v1", None).await.unwrap();
            assert!(public.volume("gone", None).await.is_err());
            assert!(public.volume("portal", None).await.is_err());
            public.volume("v2", None).await.unwrap();
        }
        let stats = cache.stats_at(now_ms()).unwrap();
        assert_eq!(stats.entries, 1);
        let key = format!("{}/books/v1/volumes/v2", server.uri());
        assert!(
            cache.get_at(&key, now_ms()).is_some(),
            "stored under the URL without the key"
        );
    }

    #[test]
    fn covers_have_their_own_table_cap_and_ttl() {
        let dir = tempfile::tempdir().unwrap();
        let cache = open_ttl(dir.path(), Duration::from_secs(3600), 1000);
        let t0 = 1_000 * HOUR;
        assert_eq!(cache.cover_get_at("u", t0), None, "no table yet is a miss");
        cache.put_at("answer", b"json", t0);
        // Each cover is 2 + 98 = 100 bytes; their cap holds five.
        for i in 0..5 {
            cache.cover_put_at(&format!("u{i}"), &[b'x'; 98], t0 + i * HOUR / 10, 500);
        }
        assert!(cache.cover_get_at("u0", t0 + HOUR / 2).is_some());
        assert_eq!(cache.cover_get_at("u0", t0 + HOUR), None, "stale after the ttl");
        cache.cover_put_at("u5", &[b'x'; 98], t0 + HOUR / 2, 500);
        let kept: Vec<usize> = (0..6)
            .filter(|i| cache.cover_get_at(&format!("u{i}"), t0 + HOUR / 2).is_some())
            .collect();
        assert_eq!(kept, [2, 3, 4, 5], "the oldest went, down to 90% of the cap");
        // The answers are neither counted nor evicted with the covers.
        assert_eq!(cache.get_at("answer", t0).as_deref(), Some(&b"json"[..]));
        assert_eq!(cache.stats_at(t0).unwrap().entries, 1);
        assert_eq!(cache.clear().unwrap(), (5, 10 + 400));
        assert_eq!(cache.cover_get_at("u5", t0 + HOUR / 2), None);
    }

    #[test]
    fn an_entry_from_the_future_is_stale_answers_and_covers_alike() {
        let dir = tempfile::tempdir().unwrap();
        let cache = open_ttl(dir.path(), Duration::from_secs(3600), 1 << 20);
        let now = 1_000 * HOUR;
        // Written by a clock a day ahead.
        cache.put_at("answer", b"json", now + 24 * HOUR);
        cache.flush();
        cache.cover_put_at("u", b"jpeg", now + 24 * HOUR, 1 << 20);
        assert_eq!(cache.get_at("answer", now), None);
        assert_eq!(cache.cover_get_at("u", now), None);
        // A minute's drift is still fresh.
        cache.put_at("answer", b"json", now + 30_000);
        cache.flush();
        cache.cover_put_at("u", b"jpeg", now + 30_000, 1 << 20);
        assert!(cache.get_at("answer", now).is_some());
        assert!(cache.cover_get_at("u", now).is_some());
    }

    #[test]
    fn sizes_for_people() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(200 * 1024 * 1024), "200.0 MiB");
    }
}
