//! One module per noun. Each turns resolved settings into requests and hands
//! the results to `Output`; none of them prints on its own.

pub mod auth;
pub mod search;
pub mod show;

use std::sync::{Arc, OnceLock};

use crate::auth::Session;
use crate::books::{self, Client, Http};
use crate::config::Settings;

/// What every command may need, built once and only as far as it is used.
pub struct Context {
    pub settings: Settings,
    http: OnceLock<Http>,
    session: OnceLock<Arc<Session>>,
}

impl Context {
    pub fn new(settings: Settings) -> Context {
        Context {
            settings,
            http: OnceLock::new(),
            session: OnceLock::new(),
        }
    }

    /// One HTTP client for the run (building one loads the root certificates).
    fn http(&self) -> Result<Http, books::Error> {
        if let Some(http) = self.http.get() {
            return Ok(http.clone());
        }
        let http = Http::new(self.settings.timeout)?;
        Ok(self.http.get_or_init(|| http).clone())
    }

    /// The login, opened only when a request needs a token.
    pub fn session(&self) -> Result<Arc<Session>, books::Error> {
        if let Some(session) = self.session.get() {
            return Ok(session.clone());
        }
        let s = &self.settings;
        let session = Arc::new(Session::new(
            s.token_store,
            s.config_dir.clone(),
            s.client_secret_file.clone(),
            self.http()?,
        ));
        Ok(self.session.get_or_init(|| session).clone())
    }

    /// The Books client: the API key for public data, the login's bearer
    /// token for private data (and for public data when there is no key).
    pub fn client(&self) -> Result<Client, books::Error> {
        let s = &self.settings;
        Ok(Client::new(
            self.http()?,
            s.api_base.clone(),
            s.api_key.clone(),
            s.country.clone(),
        )
        .with_tokens(self.session()?))
    }

    pub fn shared_client(&self) -> Result<Arc<Client>, books::Error> {
        self.client().map(Arc::new)
    }
}
