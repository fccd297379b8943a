//! `gbooks login`, `gbooks logout`, `gbooks auth status` and `gbooks auth token`.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;

use super::Context;
use crate::auth::client_secret::{self, ClientSecret};
use crate::auth::login::{self, LoginOptions};
use crate::auth::{self, endpoints, now, StoreKind, TokenStore};
use crate::books::Http;
use crate::cli::{AuthArgs, AuthCommand, LoginArgs};
use crate::output::{self, Format, Output};

/// The token endpoint answers quickly or not at all.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn run(ctx: &Context, args: &AuthArgs, out: &mut Output) -> anyhow::Result<()> {
    match &args.command {
        AuthCommand::Status => status(ctx, out).await,
        AuthCommand::Token => token(ctx, out).await,
        AuthCommand::Login(args) => login(ctx, args).await,
        AuthCommand::Logout => logout(ctx).await,
    }
}

pub async fn login(ctx: &Context, args: &LoginArgs) -> anyhow::Result<()> {
    let s = &ctx.settings;
    let cs = match &args.client_secret {
        Some(path) => {
            let (cs, copy) = ClientSecret::install(path, &s.config_dir)?;
            output::status(&format!("Saved the OAuth client to {}.", copy.display()));
            cs
        }
        None => match ClientSecret::load(s.client_secret_file.as_deref(), &s.config_dir) {
            Err(e @ auth::Error::NoClientSecret { .. }) => {
                output::tell(&client_secret::setup_steps(&s.config_dir));
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
        browser: s.browser.clone(),
    };
    let http = Http::new(EXCHANGE_TIMEOUT)?;
    let creds = login::login(&cs, &http, &options).await?;
    if creds.refresh_token.is_none() {
        output::warn(
            "the server sent no refresh token; you will have to log in again when the access token expires",
        );
    }
    opened.store.save(&creds).await?;
    match (&opened.store, &opened.fallback) {
        (TokenStore::File { path }, Some(why)) => output::warn(&format!(
            "no keyring is available ({why}); the login is stored in {}, readable only by you",
            path.display()
        )),
        (TokenStore::Keyring { .. }, _) if s.token_store == StoreKind::Auto => {
            // An older login in the file would only confuse later runs.
            let _ = TokenStore::file(&s.config_dir).delete().await;
        }
        _ => {}
    }
    output::status("Logged in.");
    Ok(())
}

pub async fn logout(ctx: &Context) -> anyhow::Result<()> {
    let s = &ctx.settings;
    let (opened, creds) = TokenStore::open(s.token_store, &s.config_dir).await;
    // Unreadable credentials cannot be revoked, but they are still deleted.
    let creds = match creds {
        Ok(creds) => creds,
        Err(auth::Error::Unreadable) => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(c) = &creds {
        let token = c.refresh_token.as_ref().unwrap_or(&c.access_token);
        let http = Http::new(s.timeout)?;
        let revoked = match &s.revoke_url {
            Ok(url) => endpoints::revoke(&http, url, token)
                .await
                .map_err(|e| e.to_string()),
            Err(why) => Err(why.clone()),
        };
        if let Err(why) = revoked {
            output::warn(&format!(
                "could not revoke the token ({why}); deleting the stored login anyway"
            ));
        }
    }
    let mut deleted = opened.store.delete().await?;
    if s.token_store == StoreKind::Auto && opened.store.path().is_none() {
        deleted |= TokenStore::file(&s.config_dir).delete().await?;
    }
    output::status(if deleted { "Logged out." } else { "Not logged in." });
    Ok(())
}

async fn status(ctx: &Context, out: &mut Output) -> anyhow::Result<()> {
    let session = ctx.session()?;
    let (opened, creds) = session.stored().await?;
    let path = opened.store.path().map(|p| p.display().to_string());
    let Some(c) = creds else {
        if matches!(out.format(), Format::Json | Format::Jsonl) {
            let value = json!({ "logged_in": false, "store": opened.store.name(), "path": path });
            out.record(&value, &[])?;
        }
        return Err(auth::Error::NotLoggedIn.into());
    };
    let expires = c.expires_at.map(|at| {
        let when = UNIX_EPOCH + Duration::from_secs(at);
        humantime::format_rfc3339_seconds(when).to_string()
    });
    let store_text = match &path {
        Some(p) => format!("file ({p})"),
        None => opened.store.name().to_string(),
    };
    let expiry_text = match (c.expires_at, &expires) {
        (Some(at), Some(text)) => format!("{text} ({})", relative(at, now(), c.refresh_token.is_some())),
        _ => "unknown".to_string(),
    };
    let fields = [
        ("Logged in", "yes".to_string()),
        ("Store", store_text),
        ("Client ID", c.client_id.clone()),
        ("Scopes", c.scopes.join(" ")),
        ("Access token expires", expiry_text),
        (
            "Refresh token",
            if c.refresh_token.is_some() { "yes" } else { "no" }.to_string(),
        ),
    ];
    let value = json!({
        "logged_in": true,
        "store": opened.store.name(),
        "path": path,
        "client_id": c.client_id,
        "scopes": c.scopes,
        "expires_at": expires,
        "expired": c.expires_at.is_some_and(|at| at <= now()),
        "has_refresh_token": c.refresh_token.is_some(),
    });
    out.record(&value, &fields)?;
    Ok(())
}

fn relative(at: u64, now: u64, refreshable: bool) -> String {
    let minutes = |secs: u64| match secs {
        0..=59 => format!("{secs} s"),
        60..=5399 => format!("{} min", (secs + 30) / 60),
        _ => format!("{} h", (secs + 1800) / 3600),
    };
    if at > now {
        format!("in {}", minutes(at - now))
    } else if refreshable {
        format!("{} ago; refreshed on next use", minutes(now - at))
    } else {
        format!("{} ago", minutes(now - at))
    }
}

async fn token(ctx: &Context, out: &mut Output) -> anyhow::Result<()> {
    let session = ctx.session()?;
    match session.access_token().await? {
        Some(token) => out.secret(&token)?,
        None => return Err(auth::Error::NotLoggedIn.into()),
    }
    Ok(())
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
}
