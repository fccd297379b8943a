//! Resolves flags, then environment, then `config.toml` into one plain
//! `Settings`. The rest of the program never reads clap types or the environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::auth::StoreKind;
use crate::cli::{self, GlobalArgs};
use crate::output::picture::CoverMode;
use crate::output::Format;
use crate::secret::Secret;

#[derive(Debug)]
pub struct Settings {
    pub format: Format,
    /// From --api-key or GBOOKS_API_KEY.
    pub api_key: Option<Secret>,
    /// From config.toml: used only when no key is stored.
    pub file_api_key: Option<Secret>,
    pub api_base: Url,
    /// Proxies from the environment (reqwest uses them); named when they refuse.
    pub proxies: Vec<crate::http::Proxy>,
    pub no_proxy: Vec<String>,
    pub country: Option<String>,
    pub timeout: Duration,
    pub verbose: u8,
    pub quiet: bool,
    /// `$BROWSER`, for `open` and `login`.
    pub browser: Option<String>,
    /// Colour for tables: `None` leaves it to whether stdout is a terminal.
    pub color: Option<bool>,
    pub config_dir: PathBuf,
    pub cache: CacheSettings,
    /// Requests in flight at once, 1 to 32.
    pub jobs: usize,
    pub token_store: StoreKind,
    /// GBOOKS_CLIENT_SECRET_FILE; else client_secret.json in the config dir.
    pub client_secret_file: Option<PathBuf>,
    /// Checked only by `logout`, the one command that uses it: a bad value
    /// must not break a search.
    pub revoke_url: Result<Url, String>,
    /// How long login waits for the browser: --timeout, else 300 s.
    pub login_timeout: Duration,
    /// The pager for long output on a terminal; `None` for none.
    pub pager: Option<String>,
    /// When covers are drawn in the terminal.
    pub cover: CoverMode,
    /// The variables that say which terminal this is, for drawing covers.
    pub terminal_env: Vec<(&'static str, String)>,
}

/// The local cache of public answers.
#[derive(Debug, Clone)]
pub struct CacheSettings {
    /// False with `--no-cache`: neither read nor written.
    pub enabled: bool,
    /// `None` when there is no home directory to put it in.
    pub dir: Option<PathBuf>,
    pub ttl: Duration,
    pub max_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid config file {path}, line {line}: {message}")]
    Malformed {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("cannot read config file {path}: {source}")]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Invalid(String),
    #[error("cannot find a home directory for the config; set GBOOKS_CONFIG_DIR")]
    NoConfigDir,
}

/// What `config.toml` may hold. Unknown keys are an error: a typo should not
/// be silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub api_key: Option<String>,
    pub format: Option<String>,
    pub country: Option<String>,
    /// How long cached answers stay fresh, e.g. "7d".
    pub cache_ttl: Option<String>,
    pub token_store: Option<String>,
    /// The pager command; "" for none.
    pub pager: Option<String>,
    /// When to draw covers: "auto", "always" or "never".
    pub cover: Option<String>,
}

/// The process environment, or a map in tests.
pub trait Env {
    /// A variable's value; unset and empty are the same.
    fn var(&self, name: &str) -> Option<String>;
    /// A variable's value, where empty means something (`GBOOKS_PAGER=`).
    fn raw(&self, name: &str) -> Option<String> {
        self.var(name)
    }
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn raw(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

pub fn config_dir(env: &dyn Env) -> Result<PathBuf, ConfigError> {
    if let Some(dir) = env.var("GBOOKS_CONFIG_DIR") {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "gbooks")
        .map(|d| d.config_dir().to_path_buf())
        .ok_or(ConfigError::NoConfigDir)
}

/// Where the cache lives: GBOOKS_CACHE_DIR, else the platform cache dir
/// (`~/.cache/gbooks`, honouring XDG_CACHE_HOME).
pub fn cache_dir(env: &dyn Env) -> Option<PathBuf> {
    if let Some(dir) = env.var("GBOOKS_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "gbooks").map(|d| d.cache_dir().to_path_buf())
}

pub fn load_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
        Err(source) => {
            return Err(ConfigError::Unreadable {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(1, |span| {
            text[..span.start.min(text.len())].matches('\n').count() + 1
        });
        ConfigError::Malformed {
            path: path.to_path_buf(),
            line,
            message: e.message().trim().to_string(),
        }
    })
}

pub fn resolve(global: &GlobalArgs, env: &dyn Env) -> Result<Settings, ConfigError> {
    let config_dir = config_dir(env)?;
    let file = load_file(&config_dir.join("config.toml"))?;

    let format = if global.json {
        Format::Json
    } else if let Some(f) = global.format {
        f.into()
    } else if let Some(name) = &file.format {
        <cli::Format as clap::ValueEnum>::from_str(name, true)
            .map_err(|_| {
                ConfigError::Invalid(format!(
                    "format = {name:?} in config.toml: expected table, json, jsonl, csv, bibtex, biblatex, ris or csl-json"
                ))
            })?
            .into()
    } else {
        Format::Table
    };

    // The stored key ranks between these two; it is read only when needed.
    let api_key = global
        .api_key
        .clone()
        .filter(|k| !k.is_empty())
        .or_else(|| env.var("GBOOKS_API_KEY"))
        .map(Secret::new);
    let file_api_key = file.api_key.filter(|k| !k.is_empty()).map(Secret::new);

    let base = env
        .var("GBOOKS_API_BASE")
        .unwrap_or_else(|| crate::books::DEFAULT_BASE.to_string());
    let api_base = http_url("GBOOKS_API_BASE", &base).map_err(ConfigError::Invalid)?;

    let proxies = proxies(env)?;
    let no_proxy = env
        .var("NO_PROXY")
        .or_else(|| env.var("no_proxy"))
        .map(|v| {
            v.split(',')
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .collect()
        })
        .unwrap_or_default();

    let country = match global.country.clone().or(file.country) {
        Some(cc) => Some(parse_country(&cc)?),
        None => None,
    };

    let cache_ttl = match (global.cache_ttl, &file.cache_ttl) {
        (Some(ttl), _) => ttl,
        (None, Some(text)) => cli::parse_ttl(text)
            .map_err(|e| ConfigError::Invalid(format!("cache_ttl = {text:?} in config.toml: {e}")))?,
        (None, None) => crate::cache::DEFAULT_TTL,
    };

    let token_store = match global.token_store {
        Some(cli::TokenStore::Auto) => StoreKind::Auto,
        Some(cli::TokenStore::Keyring) => StoreKind::Keyring,
        Some(cli::TokenStore::File) => StoreKind::File,
        None => match env
            .var("GBOOKS_TOKEN_STORE")
            .map(|v| (v, "GBOOKS_TOKEN_STORE"))
            .or(file.token_store.map(|v| (v, "token_store in config.toml")))
        {
            Some((name, from)) => StoreKind::parse(&name).ok_or_else(|| {
                ConfigError::Invalid(format!("{from} = {name:?}: expected auto, keyring or file"))
            })?,
            None => StoreKind::Auto,
        },
    };

    let revoke = env
        .var("GBOOKS_REVOKE_URL")
        .unwrap_or_else(|| crate::auth::DEFAULT_REVOKE_URL.to_string());
    let revoke_url = http_url("GBOOKS_REVOKE_URL", &revoke);

    let pager = crate::pager::choose(
        global.no_pager,
        env.raw("GBOOKS_PAGER").as_deref(),
        file.pager.as_deref(),
        env.raw("PAGER").as_deref(),
    );

    let cover = match (global.cover, &file.cover) {
        (Some(choice), _) => choice.into(),
        (None, Some(name)) => <cli::CoverChoice as clap::ValueEnum>::from_str(name, true)
            .map_err(|_| {
                ConfigError::Invalid(format!(
                    "cover = {name:?} in config.toml: expected auto, always or never"
                ))
            })?
            .into(),
        (None, None) => CoverMode::Auto,
    };
    let terminal_env = crate::output::picture::TERMINAL_VARIABLES
        .iter()
        .filter_map(|name| env.var(name).map(|value| (*name, value)))
        .collect();

    Ok(Settings {
        cover,
        terminal_env,
        pager,
        format,
        api_key,
        file_api_key,
        api_base,
        proxies,
        no_proxy,
        country,
        timeout: Duration::from_secs_f64(global.timeout.unwrap_or(30.0)),
        verbose: global.verbose,
        quiet: global.quiet,
        browser: env.var("BROWSER"),
        color: color_choice(global, env),
        config_dir,
        cache: CacheSettings {
            enabled: !global.no_cache,
            dir: cache_dir(env),
            ttl: cache_ttl,
            max_bytes: crate::cache::DEFAULT_MAX_BYTES,
        },
        token_store,
        client_secret_file: env.var("GBOOKS_CLIENT_SECRET_FILE").map(PathBuf::from),
        revoke_url,
        login_timeout: Duration::from_secs_f64(global.timeout.unwrap_or(300.0)),
        jobs: usize::from(global.jobs.clamp(1, 32)),
    })
}

/// The proxy variables reqwest reads. One it cannot parse it would ignore
/// without a word, and the requests would go direct: that is an error here.
fn proxies(env: &dyn Env) -> Result<Vec<crate::http::Proxy>, ConfigError> {
    let mut found = Vec::new();
    for (upper, scheme) in [
        ("HTTPS_PROXY", Some("https")),
        ("HTTP_PROXY", Some("http")),
        ("ALL_PROXY", None),
    ] {
        let lower = upper.to_ascii_lowercase();
        let Some((variable, value)) = env
            .var(&lower)
            .map(|v| (lower.clone(), v))
            .or_else(|| env.var(upper).map(|v| (upper.to_string(), v)))
        else {
            continue;
        };
        let text = if value.contains("://") {
            value.clone()
        } else {
            format!("http://{value}")
        };
        let parsed = Url::parse(&text).ok();
        if let Some(password) = parsed.as_ref().and_then(|u| u.password()) {
            crate::secret::register(password);
        }
        let address = parsed
            .as_ref()
            .filter(|u| matches!(u.scheme(), "http" | "https" | "socks5" | "socks5h"))
            .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)));
        let Some(address) = address else {
            return Err(ConfigError::Invalid(format!(
                "{variable} is not a proxy URL: {}",
                without_userinfo(&value)
            )));
        };
        found.push(crate::http::Proxy {
            variable,
            scheme: scheme.map(String::from),
            address,
            shown: parsed.as_ref().map(crate::http::redact_url).unwrap_or_default(),
        });
    }
    Ok(found)
}

/// A URL setting. A password in it is a secret from here on, and the error
/// for a wrong one never quotes it.
/// The keys `config.toml` may hold, and what each means.
pub const KEYS: &[(&str, &str)] = &[
    ("api_key", "API key for public data (better: gbooks auth key set)"),
    (
        "format",
        "table, json, jsonl, csv, bibtex, biblatex, ris or csl-json",
    ),
    ("country", "two-letter country for availability and prices"),
    ("cache_ttl", "how long cached answers stay fresh, e.g. 24h or 7d"),
    ("token_store", "auto, keyring or file"),
    ("pager", "pager command for long output; \"\" for none"),
];

/// Refuses a key `config.toml` does not know, naming the ones it does.
pub fn check_key(key: &str) -> Result<(), ConfigError> {
    if KEYS.iter().any(|(k, _)| *k == key) {
        return Ok(());
    }
    let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
    Err(ConfigError::Invalid(format!(
        "unknown config key {key:?}: the keys are {}",
        known.join(", ")
    )))
}

/// Checks a value as `resolve` would read it from the file.
pub fn check_value(key: &str, value: &str) -> Result<(), ConfigError> {
    check_key(key)?;
    let bad = |why: String| ConfigError::Invalid(format!("{key} = {value:?}: {why}"));
    match key {
        "format" => <cli::Format as clap::ValueEnum>::from_str(value, true)
            .map(drop)
            .map_err(|_| bad("expected table, json, jsonl, csv, bibtex, biblatex, ris or csl-json".into())),
        "country" => parse_country(value).map(drop),
        "cache_ttl" => cli::parse_ttl(value).map(drop).map_err(bad),
        "token_store" => StoreKind::parse(value)
            .map(drop)
            .ok_or_else(|| bad("expected auto, keyring or file".into())),
        _ => Ok(()),
    }
}

/// Where a setting's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Environment,
    /// The key stored with `gbooks auth key set`.
    Stored,
    File,
    Default,
}

impl Origin {
    pub fn name(self) -> &'static str {
        match self {
            Origin::Flag => "flag",
            Origin::Environment => "environment",
            Origin::Stored => "stored",
            Origin::File => "file",
            Origin::Default => "default",
        }
    }
}

/// One line of `gbooks config list`: the value in effect (`None` for the
/// API key, which is never shown, or for no value), and its origin.
#[derive(Debug)]
pub struct Effective {
    pub key: &'static str,
    pub value: Option<String>,
    pub origin: Origin,
}

/// Each key's value in effect and where it comes from, following the same
/// order as `resolve`. `key_stored`: whether `gbooks auth key set` stored one.
pub fn effective(global: &GlobalArgs, env: &dyn Env, file: &FileConfig, key_stored: bool) -> Vec<Effective> {
    let pick = |candidates: Vec<(Option<String>, Origin)>, default: Option<&str>| {
        candidates
            .into_iter()
            .find_map(|(v, o)| v.map(|v| (Some(v), o)))
            .unwrap_or((default.map(str::to_string), Origin::Default))
    };
    let flag_format = if global.json {
        Some("json".to_string())
    } else {
        global
            .format
            .and_then(|f| clap::ValueEnum::to_possible_value(&f))
            .map(|v| v.get_name().to_string())
    };
    let api_key = if global.api_key.as_deref().is_some_and(|k| !k.is_empty()) {
        Origin::Flag
    } else if env.var("GBOOKS_API_KEY").is_some() {
        Origin::Environment
    } else if key_stored {
        Origin::Stored
    } else if file.api_key.is_some() {
        Origin::File
    } else {
        Origin::Default
    };
    let token_flag = global
        .token_store
        .and_then(|t| clap::ValueEnum::to_possible_value(&t))
        .map(|v| v.get_name().to_string());
    let pager = if global.no_pager {
        (Some(String::new()), Origin::Flag)
    } else {
        pick(
            vec![
                (env.raw("GBOOKS_PAGER"), Origin::Environment),
                (file.pager.clone(), Origin::File),
                (env.raw("PAGER"), Origin::Environment),
            ],
            Some(crate::pager::DEFAULT),
        )
    };
    let entry = |key, (value, origin): (Option<String>, Origin)| Effective { key, value, origin };
    vec![
        entry("api_key", (None, api_key)),
        entry(
            "format",
            pick(
                vec![(flag_format, Origin::Flag), (file.format.clone(), Origin::File)],
                Some("table"),
            ),
        ),
        entry(
            "country",
            pick(
                vec![
                    (global.country.clone(), Origin::Flag),
                    (file.country.clone(), Origin::File),
                ],
                None,
            ),
        ),
        entry(
            "cache_ttl",
            pick(
                vec![
                    (
                        global
                            .cache_ttl
                            .map(|d| humantime::format_duration(d).to_string()),
                        Origin::Flag,
                    ),
                    (file.cache_ttl.clone(), Origin::File),
                ],
                Some("24h"),
            ),
        ),
        entry(
            "token_store",
            pick(
                vec![
                    (token_flag, Origin::Flag),
                    (env.var("GBOOKS_TOKEN_STORE"), Origin::Environment),
                    (file.token_store.clone(), Origin::File),
                ],
                Some("auto"),
            ),
        ),
        entry("pager", pager),
    ]
}

/// Colour forced on or off, or `None` to leave it to whether stdout is a terminal.
pub fn color_choice(global: &GlobalArgs, env: &dyn Env) -> Option<bool> {
    match global.color {
        cli::ColorChoice::Always => Some(true),
        cli::ColorChoice::Never => Some(false),
        cli::ColorChoice::Auto => auto_color(env),
    }
}

/// `--color auto`: forced on or off by the environment, or `None` to leave
/// it to whether stdout is a terminal. The order is anstream's: NO_COLOR
/// (no-color.org), then CLICOLOR_FORCE, then CLICOLOR=0 and TERM=dumb.
pub fn auto_color(env: &dyn Env) -> Option<bool> {
    if env.var("NO_COLOR").is_some() {
        Some(false)
    } else if env.var("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        Some(true)
    } else if env.var("CLICOLOR").is_some_and(|v| v == "0") || env.var("TERM").is_some_and(|t| t == "dumb") {
        Some(false)
    } else {
        None
    }
}

fn http_url(name: &str, text: &str) -> Result<Url, String> {
    let parsed = Url::parse(text).ok();
    if let Some(password) = parsed.as_ref().and_then(|u| u.password()) {
        crate::secret::register(password);
        if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8() {
            crate::secret::register(&decoded);
        }
    }
    parsed
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| format!("{name} is not an http(s) URL: {}", without_userinfo(text)))
}

/// `scheme://user:pass@host/…` as `scheme://…@host/…`, also for text that
/// does not parse as a URL.
fn without_userinfo(text: &str) -> String {
    let start = text.find("://").map_or(0, |i| i + 3);
    let end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    match text[start..end].rfind('@') {
        Some(at) => format!("{}…{}", &text[..start], &text[start + at..]),
        None => text.to_string(),
    }
}

fn parse_country(cc: &str) -> Result<String, ConfigError> {
    let cc = cc.trim();
    if cc.len() == 2 && cc.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(cc.to_ascii_uppercase())
    } else {
        Err(ConfigError::Invalid(format!(
            "country must be a two-letter code such as US, not {cc:?}"
        )))
    }
}

impl From<cli::CoverChoice> for CoverMode {
    fn from(c: cli::CoverChoice) -> CoverMode {
        match c {
            cli::CoverChoice::Auto => CoverMode::Auto,
            cli::CoverChoice::Always => CoverMode::Always,
            cli::CoverChoice::Never => CoverMode::Never,
        }
    }
}

impl From<cli::Format> for Format {
    fn from(f: cli::Format) -> Format {
        match f {
            cli::Format::Table => Format::Table,
            cli::Format::Json => Format::Json,
            cli::Format::Jsonl => Format::Jsonl,
            cli::Format::Csv => Format::Csv,
            cli::Format::Bibtex => Format::Bibtex,
            cli::Format::Biblatex => Format::Biblatex,
            cli::Format::Ris => Format::Ris,
            cli::Format::CslJson => Format::CslJson,
            cli::Format::Text => Format::Text,
            cli::Format::Html => Format::Html,
            cli::Format::Markdown => Format::Markdown,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use clap::Parser;

    use super::*;

    struct MapEnv(HashMap<&'static str, String>);

    impl Env for MapEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
    }

    fn settings(args: &[&str], env: &[(&'static str, &str)], file: &str) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), file).unwrap();
        let mut vars: HashMap<_, _> = env.iter().map(|(k, v)| (*k, v.to_string())).collect();
        vars.insert("GBOOKS_CONFIG_DIR", dir.path().display().to_string());
        let cli = cli::Cli::try_parse_from([&["gbooks"], args, &["search", "x"]].concat()).unwrap();
        resolve(&cli.global, &MapEnv(vars))
    }

    #[test]
    fn flags_beat_environment_beat_file() {
        let file = "api_key = \"file\"\nformat = \"csv\"\ncountry = \"de\"\n";
        let s = settings(&[], &[], file).unwrap();
        assert!(s.api_key.is_none());
        assert_eq!(s.file_api_key.unwrap().expose(), "file");
        assert_eq!(s.format, Format::Csv);
        assert_eq!(s.country.as_deref(), Some("DE"));
        let s = settings(&[], &[("GBOOKS_API_KEY", "env")], file).unwrap();
        assert_eq!(s.api_key.unwrap().expose(), "env");
        let s = settings(
            &["--api-key", "flag", "--json", "--country", "us"],
            &[("GBOOKS_API_KEY", "env")],
            file,
        )
        .unwrap();
        assert_eq!(s.api_key.unwrap().expose(), "flag");
        assert_eq!(s.format, Format::Json);
        assert_eq!(s.country.as_deref(), Some("US"));
    }

    #[test]
    fn no_color_turns_auto_colour_off() {
        assert_eq!(settings(&[], &[], "").unwrap().color, None);
        assert_eq!(
            settings(&[], &[("NO_COLOR", "1")], "").unwrap().color,
            Some(false)
        );
        assert_eq!(
            settings(&["--color", "always"], &[("NO_COLOR", "1")], "")
                .unwrap()
                .color,
            Some(true)
        );
        assert_eq!(
            settings(&["--color", "never"], &[], "").unwrap().color,
            Some(false)
        );
    }

    #[test]
    fn colour_conventions_of_the_environment() {
        let color = |args: &[&str], env: &[(&'static str, &str)]| settings(args, env, "").unwrap().color;
        assert_eq!(color(&[], &[("TERM", "dumb")]), Some(false));
        assert_eq!(color(&[], &[("TERM", "xterm-256color")]), None);
        assert_eq!(color(&[], &[("CLICOLOR", "0")]), Some(false));
        assert_eq!(color(&[], &[("CLICOLOR", "1")]), None);
        assert_eq!(color(&[], &[("CLICOLOR_FORCE", "1")]), Some(true));
        assert_eq!(color(&[], &[("CLICOLOR_FORCE", "0")]), None);
        // Forcing beats a dumb terminal and CLICOLOR=0, not NO_COLOR.
        let forced = [("CLICOLOR_FORCE", "1"), ("TERM", "dumb"), ("CLICOLOR", "0")];
        assert_eq!(color(&[], &forced), Some(true));
        assert_eq!(
            color(&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]),
            Some(false)
        );
        // The flag beats the environment both ways.
        assert_eq!(
            color(&["--color", "never"], &[("CLICOLOR_FORCE", "1")]),
            Some(false)
        );
        assert_eq!(color(&["--color", "always"], &[("TERM", "dumb")]), Some(true));
    }

    #[test]
    fn malformed_file_names_the_line() {
        let err = settings(&[], &[], "format = \"csv\"\napi_key = = 3\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("config.toml, line 2:"), "{text}");
        let err = settings(&[], &[], "\n\nformt = \"csv\"\n").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        assert!(settings(&[], &[], "country = \"USA\"").is_err());
    }

    #[test]
    fn cache_ttl_from_flag_beats_file() {
        let s = settings(&[], &[], "").unwrap();
        assert_eq!(s.cache.ttl, Duration::from_secs(86_400));
        assert!(s.cache.enabled);
        let s = settings(&[], &[], "cache_ttl = \"7d\"").unwrap();
        assert_eq!(s.cache.ttl, Duration::from_secs(7 * 86_400));
        let s = settings(&["--cache-ttl", "30m", "--no-cache"], &[], "cache_ttl = \"7d\"").unwrap();
        assert_eq!(s.cache.ttl, Duration::from_secs(1800));
        assert!(!s.cache.enabled);
        let err = settings(&[], &[], "cache_ttl = \"often\"").unwrap_err();
        assert!(err.to_string().contains("cache_ttl"), "{err}");
        let s = settings(&[], &[("GBOOKS_CACHE_DIR", "/tmp/somewhere")], "").unwrap();
        assert_eq!(s.cache.dir, Some(PathBuf::from("/tmp/somewhere")));
    }

    #[test]
    fn token_store_from_flag_environment_or_file() {
        let file = "token_store = \"file\"\n";
        assert_eq!(settings(&[], &[], "").unwrap().token_store, StoreKind::Auto);
        assert_eq!(settings(&[], &[], file).unwrap().token_store, StoreKind::File);
        let env = [("GBOOKS_TOKEN_STORE", "keyring")];
        assert_eq!(settings(&[], &env, file).unwrap().token_store, StoreKind::Keyring);
        let s = settings(&["--token-store", "auto"], &env, file).unwrap();
        assert_eq!(s.token_store, StoreKind::Auto);
        let err = settings(&[], &[("GBOOKS_TOKEN_STORE", "vault")], "").unwrap_err();
        assert!(err.to_string().contains("GBOOKS_TOKEN_STORE"), "{err}");
        assert!(settings(&[], &[], "token_store = \"disk\"").is_err());
    }

    #[test]
    fn cover_from_flag_or_file() {
        assert_eq!(settings(&[], &[], "").unwrap().cover, CoverMode::Auto);
        assert_eq!(
            settings(&[], &[], "cover = \"never\"").unwrap().cover,
            CoverMode::Never
        );
        let s = settings(&["--cover", "always"], &[], "cover = \"never\"").unwrap();
        assert_eq!(s.cover, CoverMode::Always);
        let err = settings(&[], &[], "cover = \"sometimes\"").unwrap_err();
        assert!(err.to_string().contains("cover = \"sometimes\""), "{err}");
        let s = settings(&[], &[("TERM", "xterm-kitty"), ("HOME", "/h")], "").unwrap();
        assert_eq!(s.terminal_env, [("TERM", "xterm-kitty".to_string())]);
    }
}
