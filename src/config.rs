//! Resolves flags, then environment, then `config.toml` into one plain
//! `Settings`. The rest of the program never reads clap types or the environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::cli::{self, GlobalArgs};
use crate::error::exit;
use crate::output::Format;
use crate::secret::Secret;

#[derive(Debug)]
pub struct Settings {
    pub format: Format,
    pub api_key: Option<Secret>,
    pub api_base: Url,
    pub country: Option<String>,
    pub timeout: Duration,
    pub verbose: u8,
    pub config_dir: PathBuf,
    /// Requests in flight at once, 1 to 32.
    pub jobs: usize,
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

impl ConfigError {
    pub fn exit_code(&self) -> i32 {
        match self {
            ConfigError::NoConfigDir => exit::FAILURE,
            _ => exit::USAGE,
        }
    }
}

/// What `config.toml` may hold. Unknown keys are an error: a typo should not
/// be silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub api_key: Option<String>,
    pub format: Option<String>,
    pub country: Option<String>,
}

/// The process environment, or a map in tests.
pub trait Env {
    /// A variable's value; unset and empty are the same.
    fn var(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
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
                    "format = {name:?} in config.toml: expected table, json, jsonl or csv"
                ))
            })?
            .into()
    } else {
        Format::Table
    };

    let api_key = global
        .api_key
        .clone()
        .filter(|k| !k.is_empty())
        .or_else(|| env.var("GBOOKS_API_KEY"))
        .or(file.api_key)
        .map(Secret::new);

    let base = env
        .var("GBOOKS_API_BASE")
        .unwrap_or_else(|| crate::books::DEFAULT_BASE.to_string());
    let api_base = Url::parse(&base)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| ConfigError::Invalid(format!("GBOOKS_API_BASE is not an http(s) URL: {base}")))?;

    let country = match global.country.clone().or(file.country) {
        Some(cc) => Some(parse_country(&cc)?),
        None => None,
    };

    Ok(Settings {
        format,
        api_key,
        api_base,
        country,
        timeout: Duration::from_secs_f64(global.timeout.unwrap_or(30.0)),
        verbose: global.verbose,
        config_dir,
        jobs: usize::from(global.jobs.clamp(1, 32)),
    })
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

impl From<cli::Format> for Format {
    fn from(f: cli::Format) -> Format {
        match f {
            cli::Format::Table => Format::Table,
            cli::Format::Json => Format::Json,
            cli::Format::Jsonl => Format::Jsonl,
            cli::Format::Csv => Format::Csv,
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
        assert_eq!(s.api_key.unwrap().expose(), "file");
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
    fn malformed_file_names_the_line() {
        let err = settings(&[], &[], "format = \"csv\"\napi_key = = 3\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("config.toml, line 2:"), "{text}");
        let err = settings(&[], &[], "\n\nformt = \"csv\"\n").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        assert!(settings(&[], &[], "country = \"USA\"").is_err());
    }
}
