//! The renderer, and the only place that writes data to stdout. Commands
//! hand it typed data; it decides how that looks: a table for people, or
//! JSON, JSON Lines or CSV for scripts.

mod lists;
pub mod records;
mod table;

use std::io::{self, IsTerminal, Write};

use serde::Serialize;

pub use lists::{List, Listed};
pub use records::{Csv, Human, IsbnEntry, Record};

use crate::books::{Shelf, Volume};
use crate::messages;
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
    /// The terminal's width when writing to one; piped output is never cut.
    terminal: Option<usize>,
    color: bool,
}

impl Output {
    /// `terminal`: the width of the terminal `out` goes to, if it is one.
    pub fn new(out: Box<dyn Write>, format: Format, terminal: Option<usize>, color: bool) -> Output {
        Output {
            format,
            out,
            terminal,
            color,
        }
    }

    /// Standard output. `color`: forced on or off, or `None` for "when
    /// stdout is a terminal".
    pub fn stdout(format: Format, color: Option<bool>) -> Output {
        let tty = io::stdout().is_terminal();
        let width = tty.then(|| terminal_size::terminal_size().map_or(80, |(w, _)| w.0 as usize));
        let color = color.unwrap_or(tty);
        Output::new(Box::new(io::BufWriter::new(io::stdout())), format, width, color)
    }

    /// Bytes exactly as given (completion scripts, the man page).
    pub fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.out.flush()
    }

    /// The `fields` selector for a list of `T`: table and CSV show only some
    /// fields, so only those are asked for; JSON keeps everything.
    pub fn fields<T: Listed>(&self) -> Option<&'static str> {
        match self.format {
            Format::Table | Format::Csv => T::FIELDS,
            Format::Json | Format::Jsonl => None,
        }
    }

    /// A list that arrives piece by piece.
    pub fn list<T: Listed>(&mut self) -> io::Result<List<'_, T>> {
        List::new(self)
    }

    /// Bookshelves: the API's objects for JSON, a summary otherwise.
    pub fn shelves(&mut self, shelves: &[Shelf]) -> io::Result<()> {
        let mut list = self.list::<Shelf>()?;
        for shelf in shelves {
            list.push(shelf)?;
        }
        list.finish().map(drop)
    }

    /// One volume in detail.
    pub fn volume(&mut self, v: &Volume) -> io::Result<()> {
        match self.format {
            Format::Json => self.json(v),
            Format::Jsonl => self.jsonl(v),
            Format::Csv => {
                self.csv_row(Volume::CSV)?;
                let row = self.clean_all(v.csv_row());
                self.csv_row(&row)
            }
            Format::Table => {
                let text = table::detail_text(v);
                self.out.write_all(text.as_bytes())
            }
        }?;
        self.out.flush()
    }

    /// One record: labelled lines for people; for scripts its JSON object
    /// (CSV: its keys as the header, its values as the row).
    pub fn record<R: Record>(&mut self, record: &R) -> io::Result<()> {
        match self.format {
            Format::Json => self.json(record)?,
            Format::Jsonl => self.jsonl(record)?,
            Format::Csv => match record.csv() {
                Csv::Row => {
                    let value = serde_json::to_value(record)?;
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
                Csv::AsTable => self.human(record.human())?,
                Csv::Nothing => {}
            },
            Format::Table => self.human(record.human())?,
        }
        self.out.flush()
    }

    fn human(&mut self, human: Human) -> io::Result<()> {
        match human {
            Human::Lines(lines) => {
                let width = lines.iter().map(|(n, _)| table::width(n)).max().unwrap_or(0) + 1;
                for (name, text) in lines {
                    let label = format!("{name}:");
                    let line = format!("{label:<width$} {}\n", sanitize::terminal_line(&text));
                    self.out.write_all(line.as_bytes())?;
                }
                Ok(())
            }
            Human::Line(text) => {
                let text = self.clean(&text);
                writeln!(self.out, "{text}")
            }
            Human::Note(text) => {
                messages::status(&text);
                Ok(())
            }
            Human::Nothing => Ok(()),
        }
    }

    /// A secret on a line of its own, for `gbooks auth token`: the only
    /// place a secret is written anywhere.
    pub fn secret(&mut self, secret: &crate::secret::Secret) -> io::Result<()> {
        self.out.write_all(secret.expose().as_bytes())?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    /// Text for a terminal loses control and bidi characters; text for a
    /// file or pipe stays exact.
    fn clean(&self, text: &str) -> String {
        if self.terminal.is_some() {
            sanitize::terminal_line(text)
        } else {
            text.to_string()
        }
    }

    fn clean_all(&self, fields: Vec<String>) -> Vec<String> {
        fields.iter().map(|f| self.clean(f)).collect()
    }

    fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }

    fn jsonl<T: Serialize + ?Sized>(&mut self, value: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")
    }

    fn csv_row<S: AsRef<str>>(&mut self, fields: &[S]) -> io::Result<()> {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        w.write_record(fields.iter().map(|f| f.as_ref()))
            .map_err(io::Error::other)?;
        let bytes = w.into_inner().map_err(|e| io::Error::other(e.to_string()))?;
        self.out.write_all(&bytes)
    }

    /// A table with a header; `shrink` names the columns that give up width
    /// on a narrow terminal.
    fn table(&mut self, headers: &[&str], rows: &[Vec<String>], shrink: &[usize]) -> io::Result<()> {
        let styles = [table::ID_STYLE, table::TITLE_STYLE];
        let styles: &[anstyle::Style] = if self.color { &styles } else { &[] };
        let text = table::render_table(headers, rows, self.terminal, shrink, styles);
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }
}
