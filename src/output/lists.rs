//! One streaming list for every kind of item: JSON Lines and CSV go out as
//! items arrive, a table and a JSON array wait for the end.

use std::io::{self, Write as _};
use std::rc::Rc;

use serde::Serialize;

use super::{Format, Output};
use crate::books::{Shelf, Volume};
use crate::sanitize;

/// An item of a list, and each of its views.
pub trait Listed: Serialize {
    const HEADERS: &'static [&'static str];
    /// The columns that give up width on a narrow terminal.
    const SHRINK: &'static [usize];
    const CSV: &'static [&'static str];
    /// Said (on stderr) instead of an empty table.
    const EMPTY: &'static str;
    /// The API fields that the table and CSV rows read, for a `fields`
    /// selector: declared here so the two cannot drift apart.
    const FIELDS: Option<&'static str> = None;
    /// [`Listed::FIELDS`] with the image links, for covers and thumbnails.
    const IMAGE_FIELDS: Option<&'static str> = None;

    /// Table cells, before terminal sanitising.
    fn table_row(&self) -> Vec<String>;
    fn csv_row(&self) -> Vec<String>;

    /// The volume an item stands for, for citation formats.
    fn volume(&self) -> Option<&Volume> {
        None
    }

    /// The name a saved cover gets instead of the volume id (an ISBN).
    fn cover_name(&self) -> Option<&str> {
        None
    }
}

/// A volume listed, kept for its cover.
#[derive(Debug, Clone)]
pub struct Kept {
    pub volume: Volume,
    /// The ISBN it was looked up by, which names its cover file.
    pub isbn: Option<String>,
}

/// What table and CSV rows of volumes read.
const VOLUME_FIELDS: &str =
    "totalItems,items(id,volumeInfo(title,authors,publisher,publishedDate,industryIdentifiers,pageCount,language))";
pub(super) const VOLUME_IMAGE_FIELDS: &str =
    "totalItems,items(id,volumeInfo(title,authors,publisher,publishedDate,industryIdentifiers,pageCount,language,imageLinks))";

impl Listed for Volume {
    const HEADERS: &'static [&'static str] = &["ID", "TITLE", "AUTHORS", "YEAR"];
    const SHRINK: &'static [usize] = &[1, 2];
    const CSV: &'static [&'static str] = &[
        "id",
        "title",
        "authors",
        "publisher",
        "published_date",
        "isbn_13",
        "isbn_10",
        "page_count",
        "language",
    ];
    const EMPTY: &'static str = "No books found.";
    const FIELDS: Option<&'static str> = Some(VOLUME_FIELDS);
    const IMAGE_FIELDS: Option<&'static str> = Some(VOLUME_IMAGE_FIELDS);

    fn table_row(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.title().to_string(),
            self.authors(),
            self.year().to_string(),
        ]
    }

    fn volume(&self) -> Option<&Volume> {
        Some(self)
    }

    fn csv_row(&self) -> Vec<String> {
        let i = &self.info;
        vec![
            self.id.clone(),
            self.title().to_string(),
            self.authors(),
            i.publisher.clone().unwrap_or_default(),
            i.published_date.clone().unwrap_or_default(),
            self.isbn("ISBN_13").unwrap_or_default().to_string(),
            self.isbn("ISBN_10").unwrap_or_default().to_string(),
            i.page_count.map(|p| p.to_string()).unwrap_or_default(),
            i.language.clone().unwrap_or_default(),
        ]
    }
}

impl Listed for Shelf {
    const HEADERS: &'static [&'static str] = &["ID", "TITLE", "ACCESS", "VOLUMES", "UPDATED"];
    const SHRINK: &'static [usize] = &[1];
    const CSV: &'static [&'static str] = &["id", "title", "access", "volumes", "updated"];
    const EMPTY: &'static str = "No shelves found.";

    fn table_row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.title.clone(),
            self.access.clone().unwrap_or_default(),
            self.volume_count.map(|n| n.to_string()).unwrap_or_default(),
            self.updated
                .as_deref()
                .map(|u| u.chars().take(10).collect())
                .unwrap_or_default(),
        ]
    }

    fn csv_row(&self) -> Vec<String> {
        self.table_row()
    }
}

/// Items rendered as they arrive.
pub struct List<'a, T: Listed> {
    out: &'a mut Output,
    /// Table rows; a row equal to the one before is shared, not copied
    /// (a batch repeating one ISBN 200,000 times).
    rows: Vec<Rc<[String]>>,
    /// A thumbnail cell for each row, when tables have them.
    thumbnails: Vec<String>,
    json: Vec<serde_json::Value>,
    /// Whether JSON array items are written as they come.
    stream_json: bool,
    count: usize,
    item: std::marker::PhantomData<fn(&T)>,
}

impl<'a, T: Listed> List<'a, T> {
    pub(super) fn new(out: &'a mut Output, stream_json: bool) -> io::Result<List<'a, T>> {
        if out.format == Format::Csv {
            out.csv_row(T::CSV)?;
        }
        Ok(List {
            out,
            rows: Vec::new(),
            thumbnails: Vec::new(),
            json: Vec::new(),
            stream_json,
            count: 0,
            item: std::marker::PhantomData,
        })
    }

    pub fn push(&mut self, item: &T) -> io::Result<()> {
        self.push_with_thumbnail(item, None)
    }

    /// An item with its image, drawn in the table when thumbnails are on.
    pub fn push_with_thumbnail(&mut self, item: &T, image: Option<&[u8]>) -> io::Result<()> {
        if let (Some(kept), Some(volume)) = (self.out.kept.as_mut(), item.volume()) {
            kept.push(Kept {
                volume: volume.clone(),
                isbn: item.cover_name().map(str::to_string),
            });
        }
        if self.out.thumbnails && self.out.format == Format::Table {
            let cell = image.and_then(|bytes| super::picture::thumbnail(bytes, super::THUMBNAIL_COLS).ok());
            self.thumbnails
                .push(cell.unwrap_or_else(|| " ".repeat(usize::from(super::THUMBNAIL_COLS))));
        }
        self.count += 1;
        if self.out.notes.is_some() {
            return match item.volume() {
                Some(v) => self.out.note(v),
                None => Ok(()),
            };
        }
        match self.out.format {
            Format::Json if self.stream_json => {
                // The same bytes as the whole array pretty-printed: each
                // item's lines indented by two (JSON strings hold no newline).
                let text = serde_json::to_string_pretty(item)?;
                let mut chunk = String::from(if self.count == 1 { "[\n" } else { ",\n" });
                for (i, line) in text.lines().enumerate() {
                    if i > 0 {
                        chunk.push('\n');
                    }
                    chunk.push_str("  ");
                    chunk.push_str(line);
                }
                self.out.out.write_all(chunk.as_bytes())?;
            }
            Format::Json => self.json.push(serde_json::to_value(item)?),
            Format::Jsonl => {
                self.out.jsonl(item)?;
                self.out.out.flush()?;
            }
            Format::Csv => {
                let row = self.out.clean_all(item.csv_row());
                self.out.csv_row(&row)?;
                self.out.out.flush()?;
            }
            Format::Table => {
                let row: Vec<String> = item
                    .table_row()
                    .iter()
                    .map(|c| sanitize::terminal_line(c))
                    .collect();
                let row = match self.rows.last() {
                    Some(last) if **last == *row => last.clone(),
                    _ => Rc::from(row),
                };
                self.rows.push(row);
            }
            Format::Bibtex | Format::Biblatex | Format::Ris | Format::CslJson => {
                if let Some(v) = item.volume() {
                    self.out.cite(v)?;
                }
            }
            Format::Text | Format::Html | Format::Markdown => {}
        }
        Ok(())
    }

    pub fn push_all(&mut self, items: &[T]) -> io::Result<()> {
        items.iter().try_for_each(|item| self.push(item))
    }

    /// Writes what was held back; returns how many items there were.
    pub fn finish(self) -> io::Result<usize> {
        if self.out.notes.is_some() {
            if self.count == 0 {
                crate::messages::status(T::EMPTY);
            }
            self.out.out.flush()?;
            return Ok(self.count);
        }
        match self.out.format {
            Format::Json if self.stream_json => {
                let end: &[u8] = if self.count == 0 { b"[]\n" } else { b"\n]\n" };
                self.out.out.write_all(end)?;
            }
            Format::Json => self.out.json(&self.json)?,
            Format::Table if self.rows.is_empty() => crate::messages::status(T::EMPTY),
            Format::Table => {
                let thumbnails = self.out.thumbnails.then_some(self.thumbnails.as_slice());
                self.out.table(T::HEADERS, &self.rows, T::SHRINK, thumbnails)?
            }
            Format::Bibtex | Format::Biblatex | Format::Ris | Format::CslJson => {
                self.out.finish_citations()?
            }
            Format::Jsonl | Format::Csv | Format::Text | Format::Html | Format::Markdown => {}
        }
        self.out.out.flush()?;
        Ok(self.count)
    }
}
