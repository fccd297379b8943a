//! The JSON shapes gbooks promises, as `Serialize` structs, each with the
//! view a person gets of the same record: built once, shown either way.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use serde::Serialize;

use super::lists::Listed;
use crate::books::Volume;
use crate::cache::human_bytes;
use crate::identify::Candidate;

/// How a record looks to a person.
pub enum Human {
    /// "Label: value" lines on stdout.
    Lines(Vec<(&'static str, String)>),
    /// One line of plain text, such as a path for `$(gbooks cache path)`.
    Line(String),
    /// A note on stderr: there is no data to speak of.
    Note(String),
}

/// How a record looks in CSV.
pub enum Csv {
    /// Its keys as the header, its values as the row.
    Row,
    /// The same as in a table.
    AsTable,
    Nothing,
}

pub trait Record: Serialize {
    fn human(&self) -> Human;
    fn csv(&self) -> Csv {
        Csv::Row
    }
}

/// The result for one ISBN input line: `volume` or `error`, never both.
/// `verified`: the volume carries the ISBN (false only for `--loose`
/// fallbacks and for errors). Lines with the same ISBN share one volume.
#[derive(Debug, Clone, Serialize)]
pub struct IsbnEntry {
    pub input: String,
    pub isbn: Option<String>,
    pub volume: Option<Arc<Volume>>,
    pub error: Option<String>,
    pub verified: bool,
}

impl Listed for IsbnEntry {
    const HEADERS: &'static [&'static str] = &["INPUT", "TITLE", "AUTHORS", "YEAR"];
    const SHRINK: &'static [usize] = &[1, 2];
    const CSV: &'static [&'static str] = &[
        "input",
        "isbn",
        "id",
        "title",
        "authors",
        "publisher",
        "published_date",
        "page_count",
        "error",
        "verified",
    ];
    const EMPTY: &'static str = "No ISBNs given.";
    const FIELDS: Option<&'static str> = <Volume as Listed>::FIELDS;
    const IMAGE_FIELDS: Option<&'static str> = <Volume as Listed>::IMAGE_FIELDS;

    fn cover_name(&self) -> Option<&str> {
        self.isbn.as_deref()
    }

    fn table_row(&self) -> Vec<String> {
        match &self.volume {
            Some(v) => vec![
                self.input.clone(),
                v.title().to_string(),
                v.authors(),
                v.year().to_string(),
            ],
            None => vec![
                self.input.clone(),
                format!("error: {}", self.error.as_deref().unwrap_or("not found")),
                String::new(),
                String::new(),
            ],
        }
    }

    fn volume(&self) -> Option<&Volume> {
        self.volume.as_deref()
    }

    fn csv_row(&self) -> Vec<String> {
        let v = self.volume.as_deref();
        let info = v.map(|v| &v.info);
        vec![
            self.input.clone(),
            self.isbn.clone().unwrap_or_default(),
            v.map(|v| v.id.clone()).unwrap_or_default(),
            v.map(|v| v.title().to_string()).unwrap_or_default(),
            v.map(Volume::authors).unwrap_or_default(),
            info.and_then(|i| i.publisher.clone()).unwrap_or_default(),
            info.and_then(|i| i.published_date.clone()).unwrap_or_default(),
            info.and_then(|i| i.page_count)
                .map(|p| p.to_string())
                .unwrap_or_default(),
            self.error.clone().unwrap_or_default(),
            self.verified.to_string(),
        ]
    }
}

/// One candidate of `gbooks identify`, with its place in the ranking (1 is
/// the best). JSON: `{"score", "reasons", "volume"}`.
#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    #[serde(skip)]
    pub rank: usize,
    #[serde(flatten)]
    pub candidate: Candidate,
}

/// The reasons a table shows: the criteria, not the completeness notes.
const TOP_REASONS: usize = 3;

impl Listed for Ranked {
    const HEADERS: &'static [&'static str] = &[
        "RANK", "SCORE", "ID", "TITLE", "AUTHORS", "YEAR", "LANG", "REASONS",
    ];
    const SHRINK: &'static [usize] = &[3, 4, 7];
    const CSV: &'static [&'static str] = &[
        "rank", "score", "id", "title", "authors", "year", "language", "reasons",
    ];
    const EMPTY: &'static str = "No candidates found.";

    fn table_row(&self) -> Vec<String> {
        let mut row = self.csv_row();
        row[7] = self
            .candidate
            .reasons
            .iter()
            .take(TOP_REASONS)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        row
    }

    fn csv_row(&self) -> Vec<String> {
        let c = &self.candidate;
        let v = &c.volume;
        vec![
            self.rank.to_string(),
            c.score.to_string(),
            v.id.clone(),
            v.title().to_string(),
            v.authors(),
            v.year().to_string(),
            v.info.language.clone().unwrap_or_default(),
            c.reasons.join("; "),
        ]
    }

    fn volume(&self) -> Option<&Volume> {
        Some(&self.candidate.volume)
    }
}

/// `gbooks auth status`.
#[derive(Debug, Serialize)]
pub struct AuthStatus {
    pub logged_in: bool,
    /// "keyring" or "file".
    pub store: &'static str,
    pub path: Option<String>,
    /// Whether `gbooks auth key set` stored a key; never the key.
    pub api_key_stored: bool,
    /// "keyring" or "file", when stored.
    pub api_key_store: Option<&'static str>,
    pub api_key_path: Option<String>,
    #[serde(flatten)]
    pub login: Option<Login>,
}

impl AuthStatus {
    fn key_line(&self) -> (&'static str, String) {
        let place = match (&self.api_key_path, self.api_key_store) {
            (Some(p), _) => format!("stored in a file ({p})"),
            (None, Some(store)) => format!("stored in the {store}"),
            (None, None) => "not stored".to_string(),
        };
        ("API key", place)
    }
}

#[derive(Debug, Serialize)]
pub struct Login {
    pub client_id: String,
    pub scopes: Vec<String>,
    /// RFC 3339.
    pub expires_at: Option<String>,
    pub expired: bool,
    pub has_refresh_token: bool,
    #[serde(skip)]
    pub expires_at_secs: Option<u64>,
    #[serde(skip)]
    pub now_secs: u64,
}

impl Login {
    pub fn new(
        client_id: String,
        scopes: Vec<String>,
        expires_at_secs: Option<u64>,
        has_refresh_token: bool,
        now_secs: u64,
    ) -> Login {
        let expires_at =
            expires_at_secs.and_then(|at| rfc3339(UNIX_EPOCH.checked_add(Duration::from_secs(at))?));
        Login {
            client_id,
            scopes,
            expires_at,
            expired: expires_at_secs.is_some_and(|at| at <= now_secs),
            has_refresh_token,
            expires_at_secs,
            now_secs,
        }
    }
}

impl Record for AuthStatus {
    fn human(&self) -> Human {
        let Some(login) = &self.login else {
            return Human::Lines(vec![("Logged in", "no".to_string()), self.key_line()]);
        };
        let store = match &self.path {
            Some(p) => format!("file ({p})"),
            None => self.store.to_string(),
        };
        let expiry = match (login.expires_at_secs, &login.expires_at) {
            (Some(at), Some(text)) => format!(
                "{text} ({})",
                relative(at, login.now_secs, login.has_refresh_token)
            ),
            (Some(_), None) => "after the year 9999".to_string(),
            _ => "unknown".to_string(),
        };
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
        Human::Lines(vec![
            ("Logged in", "yes".to_string()),
            ("Store", store),
            ("Client ID", login.client_id.clone()),
            ("Scopes", login.scopes.join(" ")),
            ("Access token expires", expiry),
            ("Refresh token", yes_no(login.has_refresh_token)),
            self.key_line(),
        ])
    }

    fn csv(&self) -> Csv {
        if self.login.is_some() {
            Csv::Row
        } else {
            Csv::Nothing
        }
    }
}

fn relative(at: u64, now: u64, refreshable: bool) -> String {
    let minutes = |secs: u64| match secs {
        0..=59 => format!("{secs} s"),
        60..=5399 => format!("{} min", (secs + 30) / 60),
        _ => format!("{} h", secs.saturating_add(1800) / 3600),
    };
    if at > now {
        format!("in {}", minutes(at - now))
    } else if refreshable {
        format!("{} ago; refreshed on next use", minutes(now - at))
    } else {
        format!("{} ago", minutes(now - at))
    }
}

/// A time as RFC 3339, or `None` past the year 9999, which the format cannot
/// write (and which only a broken clock or a hostile server gives).
pub fn rfc3339(when: SystemTime) -> Option<String> {
    use std::fmt::Write;
    let mut text = String::new();
    write!(text, "{}", humantime::format_rfc3339_seconds(when)).ok()?;
    Some(text)
}

/// `gbooks cache path`.
#[derive(Debug, Serialize)]
pub struct CachePath {
    pub path: PathBuf,
}

impl Record for CachePath {
    fn human(&self) -> Human {
        Human::Line(self.path.display().to_string())
    }

    fn csv(&self) -> Csv {
        Csv::AsTable
    }
}

/// `gbooks cache stats`.
#[derive(Debug, Serialize)]
pub struct CacheStats {
    pub path: PathBuf,
    pub entries: u64,
    pub expired: u64,
    pub size_bytes: u64,
    pub file_bytes: u64,
    pub max_bytes: u64,
    /// RFC 3339.
    pub oldest: Option<String>,
    pub ttl_seconds: u64,
    #[serde(skip)]
    pub oldest_time: Option<SystemTime>,
    #[serde(skip)]
    pub ttl: Duration,
}

impl Record for CacheStats {
    fn human(&self) -> Human {
        let age = |t: SystemTime| {
            let secs = SystemTime::now().duration_since(t).unwrap_or_default().as_secs();
            // Minutes are precise enough for people.
            let rounded = if secs < 60 { secs } else { secs / 60 * 60 };
            humantime::format_duration(Duration::from_secs(rounded)).to_string()
        };
        Human::Lines(vec![
            ("Path", self.path.display().to_string()),
            ("Entries", format!("{} ({} expired)", self.entries, self.expired)),
            (
                "Size",
                format!(
                    "{} of {} (file {})",
                    human_bytes(self.size_bytes),
                    human_bytes(self.max_bytes),
                    human_bytes(self.file_bytes)
                ),
            ),
            (
                "Oldest",
                match (self.oldest_time, &self.oldest) {
                    (Some(t), Some(text)) => format!("{text} ({} ago)", age(t)),
                    _ => "-".to_string(),
                },
            ),
            ("TTL", short_duration(self.ttl)),
        ])
    }
}

/// `gbooks cache clear`.
#[derive(Debug, Serialize)]
pub struct CacheCleared {
    pub removed_entries: u64,
    pub removed_bytes: u64,
}

impl Record for CacheCleared {
    fn human(&self) -> Human {
        Human::Note(format!(
            "Removed {} cached {} ({}).",
            self.removed_entries,
            if self.removed_entries == 1 {
                "answer"
            } else {
                "answers"
            },
            human_bytes(self.removed_bytes)
        ))
    }
}

/// `gbooks config path`.
#[derive(Debug, Serialize)]
pub struct ConfigPath {
    pub path: PathBuf,
}

impl Record for ConfigPath {
    fn human(&self) -> Human {
        Human::Line(self.path.display().to_string())
    }
}

/// `gbooks config get KEY`.
#[derive(Debug, Serialize)]
pub struct ConfigValue {
    pub value: String,
}

impl Record for ConfigValue {
    fn human(&self) -> Human {
        Human::Line(self.value.clone())
    }
}

/// One line of `gbooks config list`.
#[derive(Debug, Serialize)]
pub struct Setting {
    pub key: &'static str,
    pub value: String,
    /// flag, environment, stored, file or default.
    pub source: &'static str,
}

impl Listed for Setting {
    const HEADERS: &'static [&'static str] = &["KEY", "VALUE", "SOURCE"];
    const SHRINK: &'static [usize] = &[1];
    const CSV: &'static [&'static str] = &["key", "value", "source"];
    const EMPTY: &'static str = "No settings.";

    fn table_row(&self) -> Vec<String> {
        vec![self.key.to_string(), self.value.clone(), self.source.to_string()]
    }

    fn csv_row(&self) -> Vec<String> {
        self.table_row()
    }
}

/// `24h`, `30m`, `7d`, `1h 30m`: as people write a TTL (and `--cache-ttl`
/// reads it back); days only from two on, so a day is `24h`, not `1day`.
pub fn short_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return "0s".into();
    }
    let (days, rest) = if secs >= 2 * 86_400 {
        (secs / 86_400, secs % 86_400)
    } else {
        (0, secs)
    };
    let parts = [
        (days, "d"),
        (rest / 3600, "h"),
        (rest % 3600 / 60, "m"),
        (rest % 60, "s"),
    ];
    parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_reads_naturally() {
        assert_eq!(relative(1_000 + 3_540, 1_000, true), "in 59 min");
        assert_eq!(relative(1_000 + 30, 1_000, true), "in 30 s");
        assert_eq!(relative(1_000 + 7_200, 1_000, true), "in 2 h");
        assert_eq!(
            relative(1_000, 1_000 + 180, true),
            "3 min ago; refreshed on next use"
        );
        assert_eq!(relative(1_000, 1_000 + 180, false), "3 min ago");
    }

    #[test]
    fn ttls_read_as_people_write_them() {
        for (secs, text) in [
            (86_400, "24h"),
            (1800, "30m"),
            (7 * 86_400, "7d"),
            (5400, "1h 30m"),
            (0, "0s"),
            (45, "45s"),
        ] {
            assert_eq!(short_duration(Duration::from_secs(secs)), text);
            assert_eq!(
                humantime::parse_duration(text).ok(),
                Some(Duration::from_secs(secs))
            );
        }
    }
}
