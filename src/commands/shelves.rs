//! `gbooks shelves`: your shelves (with a login) or anyone's public ones.

use std::io::{BufRead, IsTerminal, Write};

use super::Context;
use crate::books::paging::Paging;
use crate::books::{Client, Shelf, Volume};
use crate::cli::{ShelvesArgs, ShelvesCommand};
use crate::error::UsageError;
use crate::messages;
use crate::output::Output;

pub async fn run(ctx: &Context, args: &ShelvesArgs, out: &mut Output) -> anyhow::Result<()> {
    let client = ctx.client().await?;
    match &args.action {
        None => list(&client, args.user.as_deref(), out).await,
        Some(ShelvesCommand::List { user }) => {
            list(&client, user.as_deref().or(args.user.as_deref()), out).await
        }
        Some(ShelvesCommand::Show {
            shelf,
            user,
            limit,
            offset,
            notes: _,
            covers: _,
        }) => {
            let user = user.as_deref().map(check_user).transpose()?;
            let shelf = resolve(&client, user, shelf).await?;
            let paging = Paging {
                limit: limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX)),
                offset: usize::try_from(*offset).unwrap_or(usize::MAX),
                jobs: ctx.jobs(),
            };
            let fields = out.fields::<Volume>();
            super::print_pages(ctx, out, paging, |start, max| {
                client.shelf_volumes(user, shelf.id, start, max, fields)
            })
            .await
        }
        Some(ShelvesCommand::Add { shelf, volume_id }) => {
            let (shelf, id) = (resolve(&client, None, shelf).await?, check_volume(volume_id)?);
            client
                .change_shelf(shelf.id, "addVolume", &[("volumeId", id)])
                .await?;
            messages::status(&format!("Added {id} to {}.", shelf_name(&shelf)));
            Ok(())
        }
        Some(ShelvesCommand::Remove { shelf, volume_id }) => {
            let (shelf, id) = (resolve(&client, None, shelf).await?, check_volume(volume_id)?);
            client
                .change_shelf(shelf.id, "removeVolume", &[("volumeId", id)])
                .await?;
            messages::status(&format!("Removed {id} from {}.", shelf_name(&shelf)));
            Ok(())
        }
        Some(ShelvesCommand::Move {
            shelf,
            volume_id,
            position,
        }) => {
            let (shelf, id) = (resolve(&client, None, shelf).await?, check_volume(volume_id)?);
            let position = position.to_string();
            client
                .change_shelf(
                    shelf.id,
                    "moveVolume",
                    &[("volumeId", id), ("volumePosition", &position)],
                )
                .await?;
            messages::status(&format!(
                "Moved {id} to position {position} on {}.",
                shelf_name(&shelf)
            ));
            Ok(())
        }
        Some(ShelvesCommand::Clear { shelf, yes }) => {
            if !*yes && !std::io::stdin().is_terminal() {
                return Err(UsageError::new("clearing a shelf needs --yes when not on a terminal").into());
            }
            let shelf = resolve(&client, None, shelf).await?;
            if !*yes && !confirm(&format!("Remove every volume from {}?", shelf_name(&shelf))).await? {
                messages::status("Nothing cleared.");
                return Ok(());
            }
            client.change_shelf(shelf.id, "clearVolumes", &[]).await?;
            messages::status(&format!("Cleared {}.", shelf_name(&shelf)));
            Ok(())
        }
    }
}

async fn list(client: &Client, user: Option<&str>, out: &mut Output) -> anyhow::Result<()> {
    let user = user.map(check_user).transpose()?;
    let shelves = client.shelves(user).await?;
    out.shelves(&shelves)?;
    Ok(())
}

fn check_user(user: &str) -> Result<&str, UsageError> {
    let user = user.trim();
    if user.is_empty() {
        return Err(UsageError::new("empty --user: give a Google Books user id"));
    }
    Ok(user)
}

fn check_volume(id: &str) -> Result<&str, UsageError> {
    let id = id.trim();
    if id.is_empty() {
        return Err(UsageError::new("empty volume id"));
    }
    Ok(id)
}

fn shelf_name(shelf: &Shelf) -> String {
    if shelf.title.is_empty() {
        format!("shelf {}", shelf.id)
    } else {
        format!("\"{}\"", crate::sanitize::terminal_line(&shelf.title))
    }
}

/// The shelf a user named: a numeric id as it is, a name by the shelf list.
async fn resolve(client: &Client, user: Option<&str>, name: &str) -> anyhow::Result<Shelf> {
    let name = name.trim();
    if let Ok(id) = name.parse::<i64>() {
        if id < 0 {
            return Err(UsageError::new(format!("invalid shelf id {id}")).into());
        }
        return Ok(Shelf::with_id(id));
    }
    let shelves = client.shelves(user).await?;
    match find_shelf(&shelves, name) {
        Some(shelf) => Ok(shelf.clone()),
        None => {
            let mut names: Vec<String> = shelves.iter().map(|s| s.title.to_lowercase()).collect();
            names.sort();
            Err(UsageError::new(format!(
                "no shelf named \"{}\"; shelves: {}",
                crate::sanitize::terminal_line(name),
                crate::sanitize::terminal_line(&names.join(", "))
            ))
            .into())
        }
    }
}

/// Names compare without case, spaces, dashes or underscores. A title match
/// wins; then the documented names of the predefined shelves, whose titles
/// vary ("My Google eBooks" is "my ebooks").
pub fn find_shelf<'a>(shelves: &'a [Shelf], name: &str) -> Option<&'a Shelf> {
    let key = normalise(name);
    if key.is_empty() {
        return None;
    }
    if let Some(shelf) = shelves.iter().find(|s| normalise(&s.title) == key) {
        return Some(shelf);
    }
    const PREDEFINED: [(&str, i64); 9] = [
        ("favorites", 0),
        ("purchased", 1),
        ("toread", 2),
        ("readingnow", 3),
        ("haveread", 4),
        ("reviewed", 5),
        ("recentlyviewed", 6),
        ("myebooks", 7),
        ("booksforyou", 8),
    ];
    let id = PREDEFINED.iter().find(|(n, _)| *n == key).map(|(_, id)| *id)?;
    shelves.iter().find(|s| s.id == id)
}

fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Asks on stderr and reads the answer from the terminal, off the runtime's
/// thread so that Ctrl-C still ends the run while it waits.
async fn confirm(question: &str) -> anyhow::Result<bool> {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question} [y/N] ").and_then(|()| err.flush());
    drop(err);
    let answer = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer).map(|_| answer)
    })
    .await??;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shelves() -> Vec<Shelf> {
        [
            (0, "Favorites"),
            (2, "To read"),
            (3, "Reading now"),
            (7, "My Google eBooks"),
            (1001, "Sci-Fi Classics"),
        ]
        .into_iter()
        .map(|(id, title)| Shelf::from_value(serde_json::json!({ "id": id, "title": title })).unwrap())
        .collect()
    }

    #[test]
    fn names_match_loosely() {
        let list = shelves();
        for (name, id) in [
            ("to read", 2),
            ("to-read", 2),
            ("TO_READ", 2),
            ("favorites", 0),
            ("reading now", 3),
            ("my ebooks", 7),
            ("my google ebooks", 7),
            ("sci fi classics", 1001),
            ("SCIFI-classics", 1001),
        ] {
            assert_eq!(find_shelf(&list, name).map(|s| s.id), Some(id), "{name}");
        }
        assert!(find_shelf(&list, "have read").is_none(), "not in this list");
        assert!(find_shelf(&list, "nope").is_none());
        assert!(find_shelf(&list, " - ").is_none());
    }
}
