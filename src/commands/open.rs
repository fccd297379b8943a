use super::Context;
use crate::books::query;
use crate::error::UsageError;
use crate::messages;

/// Opens the volume's Google Books page. The URL is built from the id, so
/// this costs no API quota.
pub fn run(ctx: &Context, volume_id: &str) -> anyhow::Result<()> {
    let id = volume_id.trim();
    if id.is_empty() {
        return Err(UsageError::new("empty volume id").into());
    }
    let url = format!("https://books.google.com/books?id={}", query::encode(id));
    messages::status(&format!("Opening {url}"));
    if let Err(e) = crate::browser::open(&url, ctx.settings.browser.as_deref()) {
        // Even with --quiet: the URL is all the user has left.
        messages::tell(&format!(
            "gbooks: warning: could not start a browser ({e}); open this URL yourself: {url}"
        ));
    }
    Ok(())
}
