//! One module per noun. Each turns resolved settings into requests and hands
//! the results to `Output`; none of them prints on its own.

pub mod isbn;
pub mod search;
pub mod show;

use std::sync::Arc;

use crate::books::{self, Client, Http};
use crate::config::Settings;

/// What every command may need, built once and only as far as it is used.
pub struct Context {
    pub settings: Settings,
}

impl Context {
    pub fn new(settings: Settings) -> Context {
        Context { settings }
    }

    /// The Books client for public data: the API key, if any, and nothing else.
    pub fn client(&self) -> Result<Client, books::Error> {
        let s = &self.settings;
        let http = Http::new(s.timeout)?;
        Ok(Client::new(
            http,
            s.api_base.clone(),
            s.api_key.clone(),
            s.country.clone(),
        ))
    }

    pub fn shared_client(&self) -> Result<Arc<Client>, books::Error> {
        self.client().map(Arc::new)
    }
}
