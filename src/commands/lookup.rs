//! Finding one volume from what the user typed: an id, or an ISBN matched
//! against the volume's own identifiers.

use crate::books::{self, Client, SearchParams, Volume};
use crate::identify;
use crate::isbn::Isbn;

/// Editions that share an ISBN come back together; a few are enough.
const CANDIDATES: usize = 5;

/// The volume an argument names: an ISBN (if it parses as one) through the
/// verified lookup, anything else as a volume id. `Ok(None)`: nothing
/// carries that ISBN.
pub async fn volume(client: &Client, arg: &str) -> Result<Option<Volume>, books::Error> {
    match Isbn::parse(arg) {
        Ok(isbn) => by_isbn(client, &isbn).await,
        Err(_) => client.volume(arg.trim(), None).await.map(Some),
    }
}

/// The first volume whose identifiers carry `isbn`, trying the ISBN as
/// given, its other form, then the bare number.
pub async fn by_isbn(client: &Client, isbn: &Isbn) -> Result<Option<Volume>, books::Error> {
    for q in identify::isbn_queries(isbn) {
        let params = SearchParams {
            q,
            ..SearchParams::default()
        };
        let page = client.search(&params, 0, CANDIDATES).await?;
        if let Some(v) = page.items.into_iter().find(|v| identify::carries_isbn(v, isbn)) {
            return Ok(Some(v));
        }
    }
    Ok(None)
}
