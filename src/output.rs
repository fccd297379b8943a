//! The only place that writes to stdout. Commands hand it data; it renders
//! a table for people, or JSON, JSON Lines or CSV for scripts.

pub mod cite;
pub mod template;

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use anstyle::Style;

use serde::Serialize;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::books::{Shelf, Volume};
use crate::isbn::Lookup;
use crate::sanitize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
}

pub struct Output {
    format: Format,
    out: Box<dyn Write>,
    /// Terminal width when stdout is a terminal; piped output is never cut.
    width: Option<usize>,
    tty: bool,
    color: bool,
}

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: only data and errors are printed.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Sparing colour: ids dim, titles bold.
const ID_STYLE: Style = Style::new().dimmed();
const TITLE_STYLE: Style = Style::new().bold();

const VOLUME_CSV: [&str; 9] = [
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

impl Output {
    /// `color`: forced on or off, or `None` for "when stdout is a terminal".
    pub fn stdout(format: Format, color: Option<bool>) -> Output {
        let tty = io::stdout().is_terminal();
        let width = tty.then(|| terminal_size::terminal_size().map_or(80, |(w, _)| w.0 as usize));
        let color = color.unwrap_or(tty);
        Output {
            format,
            out: Box::new(io::BufWriter::new(io::stdout())),
            width,
            tty,
            color,
        }
    }

    /// Bytes exactly as given (completion scripts, the man page).
    pub fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.out.flush()
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the output needs only the fields a table or CSV shows.
    pub fn is_summary(&self) -> bool {
        matches!(self.format, Format::Table | Format::Csv)
    }

    /// Text for a terminal loses control and bidi characters; text for a
    /// file or pipe stays exact.
    fn clean(&self, text: &str) -> String {
        if self.tty {
            sanitize::terminal_line(text)
        } else {
            text.to_string()
        }
    }

    /// A list that arrives page by page.
    pub fn volume_list(&mut self) -> io::Result<VolumeList<'_>> {
        let list = VolumeList {
            out: self,
            rows: Vec::new(),
            json: Vec::new(),
            count: 0,
        };
        if list.out.format == Format::Csv {
            list.out.csv_row(&VOLUME_CSV)?;
        }
        Ok(list)
    }

    /// ISBN lookups, handed over in input order.
    pub fn isbn_list(&mut self) -> io::Result<IsbnList<'_>> {
        if self.format == Format::Csv {
            self.csv_row(&ISBN_CSV)?;
        }
        Ok(IsbnList {
            out: self,
            rows: Vec::new(),
            json: Vec::new(),
            count: 0,
        })
    }

    /// One volume in detail.
    pub fn volume_detail(&mut self, v: &Volume) -> io::Result<()> {
        match self.format {
            Format::Json => self.json(v),
            Format::Jsonl => self.jsonl(v),
            Format::Csv => {
                self.csv_row(&VOLUME_CSV)?;
                let row = self.volume_csv(v);
                self.csv_row(&row)
            }
            Format::Table => {
                let text = detail_text(v);
                self.out.write_all(text.as_bytes())
            }
        }?;
        self.out.flush()
    }

    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }

    pub fn jsonl<T: Serialize + ?Sized>(&mut self, value: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }

    pub fn csv_row<S: AsRef<str>>(&mut self, fields: &[S]) -> io::Result<()> {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(fields.iter().map(|f| f.as_ref()))
            .map_err(io::Error::other)?;
        let bytes = w.into_inner().map_err(|e| io::Error::other(e.to_string()))?;
        self.out.write_all(&bytes)
    }

    fn volume_csv(&self, v: &Volume) -> Vec<String> {
        let i = &v.info;
        [
            v.id.clone(),
            v.title().to_string(),
            v.authors(),
            i.publisher.clone().unwrap_or_default(),
            i.published_date.clone().unwrap_or_default(),
            v.isbn("ISBN_13").unwrap_or_default().to_string(),
            v.isbn("ISBN_10").unwrap_or_default().to_string(),
            i.page_count.map(|p| p.to_string()).unwrap_or_default(),
            i.language.clone().unwrap_or_default(),
        ]
        .into_iter()
        .map(|f| self.clean(&f))
        .collect()
    }

    /// A table with a header; `shrink` names the columns that give up width
    /// on a narrow terminal.
    pub fn table(&mut self, headers: &[&str], rows: &[Vec<String>], shrink: &[usize]) -> io::Result<()> {
        let styles = [ID_STYLE, TITLE_STYLE];
        let styles: &[Style] = if self.color { &styles } else { &[] };
        let text = render_table(headers, rows, self.width, shrink, styles);
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The end of a list that streamed what it could: a JSON array or a
    /// table (title and authors give up width first) is written now.
    fn finish_list<T: Serialize>(
        &mut self,
        json: &[T],
        headers: &[&str],
        rows: &[Vec<String>],
        empty: &str,
    ) -> io::Result<()> {
        match self.format {
            Format::Json => self.json(json)?,
            Format::Table if rows.is_empty() => status(empty),
            Format::Table => self.table(headers, rows, &[1, 2])?,
            _ => {}
        }
        self.out.flush()
    }

    /// One line of plain text, such as a path for `$(gbooks cache path)`.
    pub fn line(&mut self, text: &str) -> io::Result<()> {
        let text = self.clean(text);
        writeln!(self.out, "{text}")?;
        self.out.flush()
    }

    /// One record: "Name: value" lines for people; for scripts the JSON
    /// object `value` (CSV: its keys as the header).
    pub fn record(&mut self, value: &serde_json::Value, lines: &[(&str, String)]) -> io::Result<()> {
        match self.format {
            Format::Json => self.json(value)?,
            Format::Jsonl => self.jsonl(value)?,
            Format::Csv => {
                let empty = serde_json::Map::new();
                let object = value.as_object().unwrap_or(&empty);
                let header: Vec<&str> = object.keys().map(String::as_str).collect();
                let row: Vec<String> = object
                    .values()
                    .map(|v| match v {
                        serde_json::Value::Null => String::new(),
                        serde_json::Value::String(s) => self.clean(s),
                        other => other.to_string(),
                    })
                    .collect();
                self.csv_row(&header)?;
                self.csv_row(&row)?;
            }
            Format::Table => {
                let width = lines.iter().map(|(n, _)| n.width()).max().unwrap_or(0) + 1;
                for (name, text) in lines {
                    let label = format!("{name}:");
                    let line = format!("{label:<width$} {}\n", sanitize::terminal_line(text));
                    self.out.write_all(line.as_bytes())?;
                }
            }
        }
        self.out.flush()
    }

    /// A secret on a line of its own, for `gbooks auth token`: the only
    /// place a secret is written anywhere.
    pub fn secret(&mut self, secret: &crate::secret::Secret) -> io::Result<()> {
        self.out.write_all(secret.expose().as_bytes())?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    /// Bookshelves: the API's objects for JSON, a summary otherwise.
    pub fn shelves(&mut self, shelves: &[Shelf]) -> io::Result<()> {
        let row = |s: &Shelf| {
            vec![
                s.id.to_string(),
                s.title.clone(),
                s.access.clone().unwrap_or_default(),
                s.volume_count.map(|n| n.to_string()).unwrap_or_default(),
                s.updated
                    .as_deref()
                    .map(|u| u.chars().take(10).collect())
                    .unwrap_or_default(),
            ]
        };
        match self.format {
            Format::Json => self.json(shelves)?,
            Format::Jsonl => {
                for s in shelves {
                    self.jsonl(s)?;
                }
            }
            Format::Csv => {
                self.csv_row(&["id", "title", "access", "volumes", "updated"])?;
                for s in shelves {
                    let fields: Vec<String> = row(s).iter().map(|f| self.clean(f)).collect();
                    self.csv_row(&fields)?;
                }
            }
            Format::Table if shelves.is_empty() => status("No shelves found."),
            Format::Table => {
                let rows: Vec<Vec<String>> = shelves
                    .iter()
                    .map(|s| row(s).iter().map(|f| sanitize::terminal_line(f)).collect())
                    .collect();
                self.table(&["ID", "TITLE", "ACCESS", "VOLUMES", "UPDATED"], &rows, &[1])?;
            }
        }
        self.out.flush()
    }
}

/// A line the user needs even with `--quiet` (what to do next, a prompt's
/// question); a closed stderr is not an error.
pub fn tell(message: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{message}");
}

/// A warning: on stderr, prefixed, and silenced by `--quiet`.
pub fn warn(message: &str) {
    status(&format!("gbooks: warning: {message}"));
}

/// A message for the person at the terminal: stderr, never stdout, and
/// nothing with `--quiet`.
pub fn status(message: &str) {
    if is_quiet() {
        return;
    }
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{message}");
}

/// Volumes rendered as they arrive: JSON Lines and CSV stream, a table and a
/// JSON array wait for the end.
pub struct VolumeList<'a> {
    out: &'a mut Output,
    rows: Vec<Vec<String>>,
    json: Vec<serde_json::Value>,
    count: usize,
}

impl VolumeList<'_> {
    pub fn push(&mut self, volumes: &[Volume]) -> io::Result<()> {
        self.count += volumes.len();
        match self.out.format {
            Format::Json => self.json.extend(volumes.iter().map(|v| v.raw().clone())),
            Format::Jsonl => {
                for v in volumes {
                    self.out.jsonl(v)?;
                }
                self.out.flush()?;
            }
            Format::Csv => {
                for v in volumes {
                    let row = self.out.volume_csv(v);
                    self.out.csv_row(&row)?;
                }
                self.out.flush()?;
            }
            Format::Table => {
                for v in volumes {
                    let line = |s: &str| sanitize::terminal_line(s);
                    self.rows.push(vec![
                        line(&v.id),
                        line(v.title()),
                        line(&v.authors()),
                        line(v.year()),
                    ]);
                }
            }
        }
        Ok(())
    }

    pub fn finish(self) -> io::Result<usize> {
        let headers = ["ID", "TITLE", "AUTHORS", "YEAR"];
        self.out
            .finish_list(&self.json, &headers, &self.rows, "No books found.")?;
        Ok(self.count)
    }
}

const ISBN_CSV: [&str; 9] = [
    "input",
    "isbn",
    "id",
    "title",
    "authors",
    "publisher",
    "published_date",
    "page_count",
    "error",
];

/// ISBN lookups: JSON Lines and CSV stream each entry, a table and a JSON
/// array wait for the end.
pub struct IsbnList<'a> {
    out: &'a mut Output,
    rows: Vec<Vec<String>>,
    json: Vec<Lookup>,
    count: usize,
}

impl IsbnList<'_> {
    pub fn push(&mut self, entry: Lookup) -> io::Result<()> {
        self.count += 1;
        match self.out.format {
            Format::Json => self.json.push(entry),
            Format::Jsonl => {
                self.out.jsonl(&entry)?;
                self.out.flush()?;
            }
            Format::Csv => {
                let v = entry.volume.as_ref();
                let info = v.map(|v| &v.info);
                let row: Vec<String> = [
                    entry.input.clone(),
                    entry.isbn.clone().unwrap_or_default(),
                    v.map(|v| v.id.clone()).unwrap_or_default(),
                    v.map(|v| v.title().to_string()).unwrap_or_default(),
                    v.map(Volume::authors).unwrap_or_default(),
                    info.and_then(|i| i.publisher.clone()).unwrap_or_default(),
                    info.and_then(|i| i.published_date.clone()).unwrap_or_default(),
                    info.and_then(|i| i.page_count)
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    entry.error.clone().unwrap_or_default(),
                ]
                .into_iter()
                .map(|f| self.out.clean(&f))
                .collect();
                self.out.csv_row(&row)?;
                self.out.flush()?;
            }
            Format::Table => {
                let line = |s: &str| sanitize::terminal_line(s);
                let row = match (&entry.volume, &entry.error) {
                    (Some(v), _) => vec![
                        line(&entry.input),
                        line(v.title()),
                        line(&v.authors()),
                        line(v.year()),
                    ],
                    (None, error) => vec![
                        line(&entry.input),
                        line(&format!("error: {}", error.as_deref().unwrap_or("not found"))),
                        String::new(),
                        String::new(),
                    ],
                };
                self.rows.push(row);
            }
        }
        Ok(())
    }

    /// Writes what was held back; returns how many entries there were.
    pub fn finish(self) -> io::Result<usize> {
        let headers = ["INPUT", "TITLE", "AUTHORS", "YEAR"];
        self.out
            .finish_list(&self.json, &headers, &self.rows, "No ISBNs given.")?;
        Ok(self.count)
    }
}

fn detail_text(v: &Volume) -> String {
    let i = &v.info;
    let line = |s: &str| sanitize::terminal_line(s);
    let mut fields: Vec<(&str, String)> = vec![("ID", v.id.clone())];
    let mut add = |name: &'static str, value: Option<String>| {
        if let Some(value) = value.filter(|s| !s.is_empty()) {
            fields.push((name, value));
        }
    };
    add("Title", i.title.clone());
    add("Subtitle", i.subtitle.clone());
    add("Authors", Some(i.authors.join(", ")));
    add("Publisher", i.publisher.clone());
    add("Published", i.published_date.clone());
    add("Pages", i.page_count.map(|p| p.to_string()));
    add("Categories", Some(i.categories.join(", ")));
    add("Language", i.language.clone());
    add("ISBN-13", v.isbn("ISBN_13").map(str::to_string));
    add("ISBN-10", v.isbn("ISBN_10").map(str::to_string));
    add("Preview", i.preview_link.clone());
    add(
        "Info",
        i.info_link.clone().or_else(|| i.canonical_volume_link.clone()),
    );
    let mut text = String::new();
    for (name, value) in fields {
        text.push_str(&format!("{:<11} {}\n", format!("{name}:"), line(&value)));
    }
    if let Some(desc) = i.description.as_deref().filter(|d| !d.trim().is_empty()) {
        text.push('\n');
        text.push_str(&sanitize::terminal_text(&sanitize::html_to_text(desc)));
        text.push('\n');
    }
    text
}

/// Columns separated by two spaces. With a width, the `shrink` columns are
/// cut (with an ellipsis) until the table fits; without one nothing is cut.
pub fn render_table(
    headers: &[&str],
    rows: &[Vec<String>],
    width: Option<usize>,
    shrink: &[usize],
    styles: &[Style],
) -> String {
    const GAP: usize = 2;
    let cols = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    if let Some(total) = width {
        let need = |w: &[usize]| w.iter().sum::<usize>() + GAP * (cols.saturating_sub(1));
        // Take one column at a time from the widest shrinkable column.
        while need(&widths) > total {
            let Some(&widest) = shrink
                .iter()
                .filter(|&&c| widths[c] > 8)
                .max_by_key(|&&c| widths[c])
            else {
                break;
            };
            widths[widest] -= 1;
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>, styles: &[Style]| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate().take(cols) {
            let cell = truncate(cell, widths[i]);
            let pad = if i + 1 < cols {
                widths[i] - cell.width() + GAP
            } else {
                0
            };
            match styles.get(i).filter(|_| !cell.is_empty()) {
                Some(style) => text.push_str(&format!("{}{cell}{}", style.render(), style.render_reset())),
                None => text.push_str(&cell),
            }
            text.push_str(&" ".repeat(pad));
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().copied(), &[]);
    for row in rows {
        line(&mut row.iter().map(String::as_str), styles);
    }
    out
}

fn truncate(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Vec<String>> {
        vec![vec![
            "id1".into(),
            "A very long title that goes on and on".into(),
            "Someone".into(),
            "1999".into(),
        ]]
    }

    #[test]
    fn piped_tables_are_never_cut() {
        let t = render_table(&["ID", "TITLE", "AUTHORS", "YEAR"], &rows(), None, &[1, 2], &[]);
        assert_eq!(
            t.lines().nth(1).unwrap(),
            "id1  A very long title that goes on and on  Someone  1999"
        );
    }

    #[test]
    fn terminal_tables_fit() {
        let t = render_table(
            &["ID", "TITLE", "AUTHORS", "YEAR"],
            &rows(),
            Some(40),
            &[1, 2],
            &[],
        );
        for line in t.lines() {
            assert!(line.width() <= 40, "{line:?}");
        }
        assert!(t.contains('…'));
    }

    #[test]
    fn colour_is_sparing_and_keeps_alignment() {
        let t = render_table(
            &["ID", "TITLE", "AUTHORS", "YEAR"],
            &rows(),
            None,
            &[1, 2],
            &[ID_STYLE, TITLE_STYLE],
        );
        let row = t.lines().nth(1).unwrap();
        assert!(
            row.starts_with("\u{1b}[2mid1\u{1b}[0m  \u{1b}[1mA very long title"),
            "{row:?}"
        );
        assert!(row.ends_with("  Someone  1999"));
        assert!(
            !t.lines().next().unwrap().contains('\u{1b}'),
            "headers stay plain"
        );
    }

    #[test]
    fn wide_characters_count_double() {
        assert_eq!(truncate("日本語の本", 6), "日本…");
    }
}
