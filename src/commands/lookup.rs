//! Finding one volume from what the user typed: an id, or an ISBN matched
//! against the volume's own identifiers.

use super::isbn;
use crate::books::{self, Client, Volume};
use crate::isbn::Isbn;

/// The volume an argument names: an ISBN (if it parses as one) through the
/// verified lookup, anything else as a volume id. `Ok(None)`: nothing
/// carries that ISBN.
pub async fn volume(client: &Client, arg: &str) -> Result<Option<Volume>, books::Error> {
    match Isbn::parse(arg) {
        Ok(isbn) => by_isbn(client, &isbn, None).await,
        Err(_) => client.volume(arg.trim(), None).await.map(Some),
    }
}

/// The first volume whose identifiers carry `isbn` (the verified lookup of
/// `gbooks isbn`), asking only for `fields` when given.
pub async fn by_isbn(
    client: &Client,
    isbn: &Isbn,
    fields: Option<&str>,
) -> Result<Option<Volume>, books::Error> {
    Ok(isbn::find(client, isbn, fields, None).await?.hit)
}
