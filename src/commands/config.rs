//! `gbooks config get|set|unset|list|path`: config.toml edited in place,
//! its comments and order kept.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::cli::{ConfigCommand, GlobalArgs};
use crate::config::{self, ConfigError, Env, Origin, ProcessEnv};
use crate::error::UsageError;
use crate::messages;
use crate::output::records::{ConfigPath, ConfigValue, Setting};
use crate::output::Output;

/// Runs without resolved settings: a broken config.toml must stay fixable.
pub async fn run(global: &GlobalArgs, cmd: &ConfigCommand, out: &mut Output) -> anyhow::Result<()> {
    let env = ProcessEnv;
    let path = config::config_dir(&env)?.join("config.toml");
    match cmd {
        ConfigCommand::Path => out.record(&ConfigPath { path })?,
        ConfigCommand::Get { key } => {
            config::check_key(key)?;
            if key == "api_key" {
                return Err(UsageError::new(
                    "api_key is a secret and is not printed; gbooks config list says whether it is set",
                )
                .into());
            }
            let doc = read(&path)?;
            let value = doc.get(key).and_then(|item| item.as_value()).map(|v| {
                v.as_str()
                    .map_or_else(|| v.to_string().trim().to_string(), str::to_string)
            });
            match value {
                Some(value) => out.record(&ConfigValue { value })?,
                None => anyhow::bail!("{key} is not set in {}", path.display()),
            }
        }
        ConfigCommand::Set { key, value } => {
            config::check_value(key, value)?;
            if key == "api_key" {
                return Err(UsageError::new(
                    "a key on the command line ends up in shell history; use gbooks auth key set, which reads it without echo",
                )
                .into());
            }
            let mut doc = read(&path)?;
            doc[key.as_str()] = toml_edit::value(value.as_str());
            write(&path, &doc)?;
            messages::status(&format!("Set {key} in {}.", path.display()));
        }
        ConfigCommand::Unset { key } => {
            config::check_key(key)?;
            let mut doc = read(&path)?;
            if doc.remove(key).is_some() {
                write(&path, &doc)?;
                messages::status(&format!("Removed {key} from {}.", path.display()));
            } else {
                messages::status(&format!("{key} was not set in {}.", path.display()));
            }
        }
        ConfigCommand::List => {
            let file = config::load_file(&path)?;
            let key_stored = if global.api_key.is_none() && env.var("GBOOKS_API_KEY").is_none() {
                stored_key_exists(global, &env).await
            } else {
                false
            };
            let mut list = out.list::<Setting>()?;
            for e in config::effective(global, &env, &file, key_stored) {
                let value = match (e.key, e.origin) {
                    ("api_key", Origin::Default) => String::new(),
                    ("api_key", _) => "(hidden)".to_string(),
                    _ => e.value.unwrap_or_default(),
                };
                list.push(&Setting {
                    key: e.key,
                    value,
                    source: e.origin.name(),
                })?;
            }
            list.finish()?;
        }
    }
    Ok(())
}

/// Whether `gbooks auth key set` stored a key, in the store settings name.
async fn stored_key_exists(global: &GlobalArgs, env: &dyn Env) -> bool {
    let Ok(settings) = config::resolve(global, env) else {
        return false;
    };
    crate::auth::api_key::load(settings.token_store, &settings.config_dir)
        .await
        .is_ok_and(|k| k.is_some())
}

fn read(path: &Path) -> anyhow::Result<toml_edit::DocumentMut> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(ConfigError::Unreadable {
                path: path.to_path_buf(),
                source,
            }
            .into())
        }
    };
    text.parse::<toml_edit::DocumentMut>().map_err(|e| {
        ConfigError::Malformed {
            path: path.to_path_buf(),
            line: e
                .span()
                .map_or(1, |s| text[..s.start.min(text.len())].matches('\n').count() + 1),
            message: e.message().trim().to_string(),
        }
        .into()
    })
}

/// Replaces the file whole, so a crash never leaves half of it.
fn write(path: &Path, doc: &toml_edit::DocumentMut) -> anyhow::Result<()> {
    let dir: PathBuf = path.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, doc.to_string().as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
