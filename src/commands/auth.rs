//! `gbooks login`, `gbooks logout`, `gbooks auth status` and `gbooks auth token`.

use std::path::Path;
use std::time::Duration;

use super::Context;
use crate::auth::client_secret::{self, ClientSecret};
use crate::auth::login::{self, LoginOptions};
use crate::auth::{self, api_key, endpoints, now, StoreKind, TokenStore};
use crate::books::{Client, SearchParams};
use crate::cli::{AuthArgs, AuthCommand, KeyCommand, LoginArgs};
use crate::error::UsageError;
use crate::messages;
use crate::output::records::{AuthStatus, Login};
use crate::output::Output;
use crate::secret::Secret;

/// The token endpoint answers quickly or not at all.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn run(ctx: &Context, args: &AuthArgs, out: &mut Output) -> anyhow::Result<()> {
    match &args.command {
        AuthCommand::Status => status(ctx, out).await,
        AuthCommand::Token => token(ctx, out).await,
        AuthCommand::Login(args) => login(ctx, args).await,
        AuthCommand::Logout => logout(ctx).await,
        AuthCommand::Key(KeyCommand::Set) => key_set(ctx).await,
        AuthCommand::Key(KeyCommand::Remove) => key_remove(ctx).await,
    }
}

pub async fn login(ctx: &Context, args: &LoginArgs) -> anyhow::Result<()> {
    let s = &ctx.settings;
    let cs = match &args.client_secret {
        Some(path) => {
            let (cs, copy) = ClientSecret::install(path, &s.config_dir)?;
            messages::status(&format!("Saved the OAuth client to {}.", copy.display()));
            cs
        }
        None => match ClientSecret::load(s.client_secret_file.as_deref(), &s.config_dir) {
            Err(e @ auth::Error::NoClientSecret { .. }) => {
                messages::tell(&setup_steps(&s.config_dir));
                return Err(e.into());
            }
            other => other?,
        },
    };

    let opened = TokenStore::open_for_login(s.token_store, &s.config_dir).await?;

    let options = LoginOptions {
        no_browser: args.no_browser,
        port: args.port.unwrap_or(0),
        timeout: s.login_timeout,
        open_browser: {
            let browser = s.browser.clone();
            Box::new(move |url| crate::browser::open(url, browser.as_deref()))
        },
    };
    let http = ctx.http_with_timeout(EXCHANGE_TIMEOUT)?;
    let pending = login::login(&cs, &http, &options).await?;
    let creds = pending.creds.clone();
    if creds.refresh_token.is_none() {
        messages::warn(
            "the server sent no refresh token; you will have to log in again when the access token expires",
        );
    }
    // Under the lock, so that a refresh of the old login in another
    // process cannot overwrite this one.
    let saved = match auth::session::LoginLock::acquire(&s.config_dir).await {
        Ok(_lock) => opened.store.save(&creds).await,
        Err(e) => Err(e),
    };
    if let Err(e) = saved {
        pending.not_stored(&e).await;
        // A refresh token that nothing holds must not stay valid.
        if let (Some(token), Ok(url)) = (&creds.refresh_token, &s.revoke_url) {
            if crate::http::check_secure(url).is_ok() {
                if let Err(why) = endpoints::revoke(&http, url, token).await {
                    messages::warn(&format!("could not revoke the new token ({why})"));
                }
            }
        }
        return Err(anyhow::Error::new(e).context("the login worked but could not be stored"));
    }
    pending.stored().await;
    match (&opened.store, &opened.fallback) {
        (TokenStore::File { path }, Some(why)) => messages::warn(&format!(
            "no keyring is available ({why}); the login is stored in {}, readable only by you",
            path.display()
        )),
        (TokenStore::Keyring { .. }, _) if s.token_store == StoreKind::Auto => {
            // An older login in the file would only confuse later runs.
            let _ = TokenStore::file(&s.config_dir).delete().await;
        }
        _ => {}
    }
    messages::status("Logged in.");
    Ok(())
}

pub async fn logout(ctx: &Context) -> anyhow::Result<()> {
    let s = &ctx.settings;
    // A refresh running in another process finishes (or waits) first, and
    // then finds nothing to write back to.
    let _lock = auth::session::LoginLock::acquire(&s.config_dir).await?;
    let (opened, creds) = TokenStore::open(s.token_store, &s.config_dir).await;
    // Unreadable credentials cannot be revoked, but they are still deleted.
    let creds = match creds {
        Ok(creds) => creds,
        Err(auth::Error::Unreadable) => None,
        Err(e) => return Err(e.into()),
    };
    if let (Some(_), Ok(url)) = (&creds, &s.revoke_url) {
        if crate::http::check_secure(url).is_err() {
            return Err(auth::Error::Insecure {
                host: url.host_str().unwrap_or_default().to_string(),
                setting: "GBOOKS_REVOKE_URL",
            }
            .into());
        }
    }
    if let Some(c) = &creds {
        let token = c.refresh_token.as_ref().unwrap_or(&c.access_token);
        let http = ctx.http()?;
        let revoked = match &s.revoke_url {
            Ok(url) => endpoints::revoke(&http, url, token)
                .await
                .map_err(|e| e.to_string()),
            Err(why) => Err(why.clone()),
        };
        if let Err(why) = revoked {
            messages::warn(&format!(
                "could not revoke the token ({why}); deleting the stored login anyway"
            ));
        }
    }
    let mut deleted = opened.store.delete().await?;
    if s.token_store == StoreKind::Auto && opened.store.path().is_none() {
        deleted |= TokenStore::file(&s.config_dir).delete().await?;
    }
    messages::status(if deleted { "Logged out." } else { "Not logged in." });
    Ok(())
}

async fn status(ctx: &Context, out: &mut Output) -> anyhow::Result<()> {
    let session = ctx.session()?;
    let (opened, creds) = session.stored().await?;
    let key = api_key::load(ctx.settings.token_store, &ctx.settings.config_dir)
        .await
        .ok()
        .flatten()
        .map(|(_, place)| place);
    let mut status = AuthStatus {
        logged_in: creds.is_some(),
        store: opened.store.name(),
        path: opened.store.path().map(|p| p.display().to_string()),
        api_key_stored: key.is_some(),
        api_key_store: key.as_ref().map(|k| k.name()),
        api_key_path: key
            .as_ref()
            .and_then(|k| k.path())
            .map(|p| p.display().to_string()),
        login: None,
    };
    let Some(c) = creds else {
        // Not being logged in is the answer (exit 4), even when nobody reads the rest.
        match out.record(&status) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
            _ => {}
        }
        return Err(auth::Error::NotLoggedIn.into());
    };
    status.login = Some(Login::new(
        c.client_id,
        c.scopes,
        c.expires_at,
        c.refresh_token.is_some(),
        now(),
    ));
    out.record(&status)?;
    Ok(())
}

async fn token(ctx: &Context, out: &mut Output) -> anyhow::Result<()> {
    let session = ctx.session()?;
    match session.access_token().await? {
        Some(token) => out.secret(&token)?,
        None => return Err(auth::Error::NotLoggedIn.into()),
    }
    Ok(())
}

/// `gbooks auth key set`: read, check with one request, store.
async fn key_set(ctx: &Context) -> anyhow::Result<()> {
    let s = &ctx.settings;
    let key = read_key()?;
    // The cheapest call there is: one volume id, no cache, no login.
    let client = Client::new(ctx.http()?, s.api_base.clone(), Some(key.clone()), None);
    let probe = SearchParams {
        q: "isbn:9780441013593".into(),
        fields: Some("totalItems".into()),
        ..SearchParams::default()
    };
    client
        .search(&probe, 0, 1)
        .await
        .map_err(|e| anyhow::Error::new(e).context("the key was not stored: checking it failed"))?;
    let (place, fallback) = api_key::save(s.token_store, &s.config_dir, &key).await?;
    match (&place, fallback) {
        (api_key::KeyPlace::File(path), Some(why)) => messages::warn(&format!(
            "no keyring is available ({why}); the key is stored in {}, readable only by you",
            path.display()
        )),
        (api_key::KeyPlace::File(path), None) => messages::status(&format!(
            "Stored the API key in {}, readable only by you.",
            path.display()
        )),
        (api_key::KeyPlace::Keyring, _) => messages::status("Stored the API key in the keyring."),
    }
    if s.file_api_key.is_some() {
        messages::tell(
            "config.toml still has api_key in plain text: remove it with `gbooks config unset api_key`.",
        );
    }
    Ok(())
}

async fn key_remove(ctx: &Context) -> anyhow::Result<()> {
    let s = &ctx.settings;
    let removed = api_key::remove(s.token_store, &s.config_dir).await?;
    messages::status(if removed {
        "Removed the stored API key."
    } else {
        "No API key was stored."
    });
    Ok(())
}

/// The key typed without echo on a terminal, else the first line of stdin.
fn read_key() -> anyhow::Result<Secret> {
    use std::io::IsTerminal as _;
    let text = if std::io::stdin().is_terminal() {
        read_hidden("API key (not shown): ")?
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line
    };
    let key = text.trim();
    if key.is_empty() {
        return Err(UsageError::new("no API key given (type it at the prompt, or pipe it on stdin)").into());
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UsageError::new("an API key is one word with no spaces").into());
    }
    Ok(Secret::new(key))
}

/// A line typed with echo off. Echo goes off before the prompt shows, so
/// nothing typed after the prompt can appear on the screen.
#[cfg(unix)]
fn read_hidden(prompt: &str) -> std::io::Result<String> {
    use std::io::{BufRead as _, Write as _};

    use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions};

    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin)?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    tcsetattr(&stdin, OptionalActions::Now, &quiet)?;
    let mut err = std::io::stderr();
    let _ = write!(err, "{prompt}").and_then(|()| err.flush());
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    let _ = tcsetattr(&stdin, OptionalActions::Now, &saved);
    read.map(|_| line)
}

#[cfg(not(unix))]
fn read_hidden(prompt: &str) -> std::io::Result<String> {
    rpassword::prompt_password(prompt)
}

/// Step by step, what to do when there is no client file.
pub fn setup_steps(config_dir: &Path) -> String {
    format!(
        "gbooks needs an OAuth client of your own to log in:\n\
         \x20 1. Open https://console.cloud.google.com/ and pick or create a project.\n\
         \x20 2. APIs & Services > Library: enable the \"Books API\".\n\
         \x20 3. APIs & Services > OAuth consent screen: set it up (External; add yourself as a test user).\n\
         \x20 4. APIs & Services > Credentials > Create credentials > OAuth client ID.\n\
         \x20 5. Application type: Desktop app; create it.\n\
         \x20 6. Download the JSON file it offers.\n\
         \x20 7. Run: gbooks login --client-secret PATH/TO/THE/FILE.json\n\
         The file is copied to {} so that later runs need no flag.",
        config_dir.join(client_secret::FILE_NAME).display()
    )
}
