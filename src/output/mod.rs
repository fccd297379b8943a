//! The renderer, and the only place that writes data to stdout. Commands
//! hand it typed data; it decides how that looks: a table for people, or
//! JSON, JSON Lines or CSV for scripts.

pub mod bib;
pub mod cite;
mod lists;
pub mod names;
pub mod picture;
pub mod records;
mod table;
pub mod template;
pub mod width;
pub mod wrap;

use std::io::{self, IsTerminal, Write};

use serde::Serialize;

pub use lists::{Kept, List, Listed};
pub use records::{Csv, Human, IsbnEntry, Ranked, Record};

use crate::books::{Shelf, Volume};
use crate::messages;
use crate::pager::{Ended, PagedOutput, Screen};
use crate::progress::Progress;
use crate::sanitize;

/// Where data goes: a writer that may need closing (a pager to wait for).
pub trait Sink: Write {
    fn close(&mut self) -> io::Result<()> {
        self.flush()
    }
}

impl<W: Write> Sink for io::BufWriter<W> {}

impl<W: Write> Sink for PagedOutput<W> {
    fn close(&mut self) -> io::Result<()> {
        match PagedOutput::close(self)? {
            Ended::Shown | Ended::Quit => Ok(()),
            Ended::NotRun(status) => Err(io::Error::other(format!(
                "the pager could not run ({status}); set GBOOKS_PAGER, or use --no-pager"
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
    Bibtex,
    Biblatex,
    Ris,
    CslJson,
    Text,
    Html,
    Markdown,
}

impl Format {
    /// Formats only `gbooks cite` has.
    pub fn is_reference(self) -> bool {
        matches!(self, Format::Text | Format::Html | Format::Markdown)
    }

    /// Citation formats show volumes only.
    pub fn is_citation(self) -> bool {
        matches!(
            self,
            Format::Bibtex | Format::Biblatex | Format::Ris | Format::CslJson
        )
    }
}

/// Volumes through the user's template: to stdout, or one file each.
pub struct Notes {
    pub template: template::Template,
    pub files: Option<NoteFiles>,
}

/// `--output-dir DIR --filename TEMPLATE [--force]`.
pub struct NoteFiles {
    pub dir: std::path::PathBuf,
    pub name: template::Template,
    pub force: bool,
}

/// One reference of `gbooks cite`, as scripts get it.
#[derive(Debug, Serialize)]
struct CiteEntry<'a> {
    input: &'a str,
    id: &'a str,
    style: &'a str,
    reference: String,
}

/// Volumes as citations for one output: keys stay unique across it.
#[derive(Default)]
struct Citations {
    writer: Option<bib::BibWriter>,
    keys: bib::CiteKeys,
    csl: Vec<serde_json::Value>,
}

pub struct Output {
    format: Format,
    out: Box<dyn Sink>,
    /// The terminal's width when writing to one; piped output is never cut.
    terminal: Option<usize>,
    color: bool,
    citations: Citations,
    notes: Option<Notes>,
    /// `gbooks cite --json`: the references so far.
    references: Vec<serde_json::Value>,
    /// The volumes listed, kept for their covers (`--covers DIR`).
    kept: Option<Vec<Kept>>,
    /// Half-block thumbnails in volume tables (`--cover always`).
    thumbnails: bool,
    /// How `show` draws a cover beside the details, if it does.
    picture: Option<picture::Protocol>,
}

/// Rows a cover beside a volume's details is drawn in.
const COVER_ROWS: u16 = 12;
/// Cells a thumbnail takes in a table.
const THUMBNAIL_COLS: u16 = 2;

impl Output {
    /// `terminal`: the width of the terminal `out` goes to, if it is one.
    pub fn new(out: Box<dyn Sink>, format: Format, terminal: Option<usize>, color: bool) -> Output {
        Output {
            format,
            out,
            terminal,
            color,
            citations: Citations::default(),
            notes: None,
            references: Vec::new(),
            kept: None,
            thumbnails: false,
            picture: None,
        }
    }

    /// Volumes go through `notes` instead of the format.
    pub fn with_notes(mut self, notes: Option<Notes>) -> Output {
        self.notes = notes;
        self
    }

    /// One volume through the user's template, to stdout or its own file.
    fn note(&mut self, v: &Volume) -> io::Result<()> {
        let Some(notes) = &self.notes else {
            return Ok(());
        };
        let text = notes.template.render(v).map_err(io::Error::other)?;
        let Some(files) = &notes.files else {
            self.out.write_all(text.as_bytes())?;
            return self.out.flush();
        };
        let rendered = files.name.render(v).map_err(io::Error::other)?;
        let Some(name) = template::safe_file_name(&rendered) else {
            messages::warn(&format!(
                "--filename gives no usable file name for volume {}; skipped",
                sanitize::terminal_line(&v.id)
            ));
            return Ok(());
        };
        match template::write_file(&files.dir, &name, &text, files.force)? {
            template::Written::Written(path) => messages::status(&format!("Wrote {}", path.display())),
            template::Written::Skipped(path) => messages::warn(&format!(
                "{} exists; skipped (--force replaces it)",
                path.display()
            )),
        }
        Ok(())
    }

    /// A reference for `gbooks cite`, in the style given: a line of text,
    /// Markdown or HTML, an object for scripts, or the volume's entry in a
    /// citation format.
    pub fn reference(&mut self, input: &str, v: &Volume, style: &cite::Style) -> io::Result<()> {
        let markup = match self.format {
            Format::Html => cite::Markup::Html,
            Format::Markdown => cite::Markup::Markdown,
            _ => cite::Markup::Text,
        };
        let text = || cite::reference(v, style, cite::Options::new(markup));
        let entry = || CiteEntry {
            input,
            id: &v.id,
            style: style.name(),
            reference: text(),
        };
        match self.format {
            Format::Table | Format::Text | Format::Html | Format::Markdown => {
                writeln!(self.out, "{}", text())?
            }
            Format::Json => self.references.push(serde_json::to_value(entry())?),
            Format::Jsonl => self.jsonl(&entry())?,
            Format::Csv => {
                if self.references.is_empty() {
                    self.csv_row(&["input", "id", "style", "reference"])?;
                    self.references.push(serde_json::Value::Null);
                }
                let e = entry();
                let row = self.clean_all(vec![e.input.into(), e.id.into(), e.style.into(), e.reference]);
                self.csv_row(&row)?;
            }
            Format::Bibtex | Format::Biblatex | Format::Ris | Format::CslJson => self.cite(v)?,
        }
        self.out.flush()
    }

    /// The end of `gbooks cite`: what waited for every reference.
    pub fn finish_references(&mut self) -> io::Result<()> {
        match self.format {
            Format::Json => {
                let items = std::mem::take(&mut self.references);
                self.json(&items)?;
            }
            Format::CslJson => self.finish_citations()?,
            _ => {}
        }
        self.out.flush()
    }

    /// The styles `gbooks cite` knows.
    pub fn styles(&mut self) -> io::Result<()> {
        match self.format {
            Format::Json | Format::Jsonl => {
                let list: Vec<serde_json::Value> = cite::styles()
                    .into_iter()
                    .map(|(name, title)| serde_json::json!({ "name": name, "title": title }))
                    .collect();
                self.json(&list)?;
            }
            _ => {
                let rows: Vec<Vec<String>> = cite::styles()
                    .into_iter()
                    .map(|(name, title)| vec![name.to_string(), title])
                    .collect();
                self.table(&["STYLE", "TITLE"], &rows, &[1], None)?;
                messages::status(cite::ATTRIBUTION);
            }
        }
        self.out.flush()
    }

    /// Whether data goes to a terminal.
    pub fn is_terminal(&self) -> bool {
        self.terminal.is_some()
    }

    /// Keeps every volume listed from now on, for [`Output::take_kept`].
    pub fn keep_volumes(&mut self) {
        self.kept.get_or_insert_with(Vec::new);
    }

    pub fn take_kept(&mut self) -> Vec<Kept> {
        self.kept.take().unwrap_or_default()
    }

    /// Thumbnails in volume tables, when this is a table on a terminal.
    pub fn enable_thumbnails(&mut self) {
        self.thumbnails = self.draws_pictures();
    }

    /// Whether volume lists want a thumbnail with each volume.
    pub fn wants_thumbnails(&self) -> bool {
        self.thumbnails
    }

    /// Covers beside details drawn with `protocol`, when this is a table on
    /// a terminal; never in a file, a pipe or another format.
    pub fn enable_pictures(&mut self, protocol: picture::Protocol) {
        self.picture = self.draws_pictures().then_some(protocol);
    }

    /// Whether `show` wants the volume's cover.
    pub fn wants_picture(&self) -> bool {
        self.picture.is_some()
    }

    fn draws_pictures(&self) -> bool {
        self.format == Format::Table && self.terminal.is_some()
    }

    /// Standard output. `color`: forced on or off, or `None` for "when
    /// stdout is a terminal". `pager`: the command that pages output longer
    /// than a terminal's screen; never used when stdout is not a terminal.
    pub fn stdout(format: Format, color: Option<bool>, pager: Option<String>) -> Output {
        let tty = io::stdout().is_terminal();
        let size = tty.then(|| terminal_size::terminal_size().map_or((80, 24), |(w, h)| (w.0, h.0)));
        let color = color.unwrap_or(tty);
        let stdout = io::BufWriter::new(io::stdout());
        let out: Box<dyn Sink> = match (size, pager) {
            (Some((cols, rows)), Some(command)) => Box::new(PagedOutput::new(
                stdout,
                Some(command),
                Screen {
                    rows: usize::from(rows),
                    cols: usize::from(cols),
                },
            )),
            _ => Box::new(stdout),
        };
        Output::new(out, format, size.map(|(w, _)| usize::from(w)), color)
    }

    /// A progress bar for work whose results come here, unless the results
    /// stream to the same terminal (they would tear the bar).
    pub fn progress(&self, len: Option<u64>, what: &'static str) -> Progress {
        let streams = matches!(self.format, Format::Jsonl | Format::Csv);
        if streams && self.terminal.is_some() {
            Progress::hidden()
        } else {
            Progress::new(len, what)
        }
    }

    /// The end of the run: held output is written and a pager waited for.
    pub fn close(mut self) -> io::Result<()> {
        self.out.close()
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
            Format::Table | Format::Csv if self.kept.is_some() || self.thumbnails => T::IMAGE_FIELDS,
            Format::Table | Format::Csv => T::FIELDS,
            _ => None,
        }
    }

    /// A list that arrives piece by piece.
    pub fn list<T: Listed>(&mut self) -> io::Result<List<'_, T>> {
        List::new(self, false)
    }

    /// The same for lists too long to hold: a JSON array is written item
    /// by item too (so an interrupted run leaves it open).
    pub fn long_list<T: Listed>(&mut self) -> io::Result<List<'_, T>> {
        List::new(self, true)
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
        if let Some(kept) = self.kept.as_mut() {
            kept.push(Kept {
                volume: v.clone(),
                isbn: None,
            });
        }
        if self.notes.is_some() {
            return self.note(v);
        }
        match self.format {
            Format::Json => self.json(v),
            Format::Jsonl => self.jsonl(v),
            Format::Csv => {
                self.csv_row(Volume::CSV)?;
                let row = self.clean_all(v.csv_row());
                self.csv_row(&row)
            }
            Format::Table => {
                let text = table::detail_text(v, self.terminal.unwrap_or(usize::MAX));
                self.out.write_all(text.as_bytes())
            }
            Format::Bibtex | Format::Biblatex | Format::Ris | Format::CslJson => {
                self.cite(v)?;
                self.finish_citations()
            }
            Format::Text | Format::Html | Format::Markdown => Ok(()),
        }?;
        self.out.flush()
    }

    /// One volume in detail with its cover on the left, when pictures are
    /// on and the cover can be drawn; else as [`Output::volume`].
    pub fn volume_with_cover(&mut self, v: &Volume, cover: Option<&[u8]>) -> io::Result<()> {
        let (Some(protocol), Some(bytes), Some(width)) = (self.picture, cover, self.terminal) else {
            return self.volume(v);
        };
        // The details need some room beside the picture.
        let box_cols = u16::try_from(width.saturating_sub(30))
            .unwrap_or(u16::MAX)
            .min(40);
        let drawn = picture::cells(bytes, protocol, box_cols, COVER_ROWS).and_then(|cells| {
            Some((
                cells,
                picture::encode(bytes, protocol, box_cols, COVER_ROWS).ok()?,
            ))
        });
        let Some(((cols, rows), escapes)) = drawn else {
            return self.volume(v);
        };
        let beside = width.saturating_sub(usize::from(cols) + 2);
        let text = beside_picture(v, &escapes, protocol, (cols, rows), beside, width);
        self.out.write_all(&text)?;
        self.out.flush()
    }

    /// One volume as a citation: entries stream, CSL-JSON items wait.
    fn cite(&mut self, v: &Volume) -> io::Result<()> {
        let format = match self.format {
            Format::Bibtex => bib::BibFormat::Bibtex,
            Format::Biblatex => bib::BibFormat::Biblatex,
            Format::Ris => bib::BibFormat::Ris,
            Format::CslJson => {
                let id = self.citations.keys.assign(v);
                self.citations.csl.push(bib::csl_item(v, &id));
                return Ok(());
            }
            _ => return Ok(()),
        };
        let entry = self
            .citations
            .writer
            .get_or_insert_with(|| bib::BibWriter::new(format))
            .entry(v);
        self.out.write_all(entry.as_bytes())?;
        self.out.flush()
    }

    /// The CSL-JSON array, once every volume is in.
    fn finish_citations(&mut self) -> io::Result<()> {
        if self.format == Format::CslJson {
            let items = std::mem::take(&mut self.citations.csl);
            self.json(&items)?;
        }
        Ok(())
    }

    /// One record: labelled lines for people; for scripts its JSON object
    /// (CSV: its keys as the header, its values as the row).
    pub fn record<R: Record>(&mut self, record: &R) -> io::Result<()> {
        match self.format {
            Format::Json | Format::CslJson => self.json(record)?,
            Format::Jsonl => self.jsonl(record)?,
            Format::Bibtex | Format::Biblatex | Format::Ris => self.human(record.human())?,
            Format::Text | Format::Html | Format::Markdown => self.human(record.human())?,
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
                let width = lines.iter().map(|(n, _)| width::width(n)).max().unwrap_or(0) + 1;
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
    /// on a narrow terminal. With `thumbnails`, each row starts with its
    /// picture cell.
    fn table<R: AsRef<[String]>>(
        &mut self,
        headers: &[&str],
        rows: &[R],
        shrink: &[usize],
        thumbnails: Option<&[String]>,
    ) -> io::Result<()> {
        let styles = [table::ID_STYLE, table::TITLE_STYLE];
        let styles: &[anstyle::Style] = if self.color { &styles } else { &[] };
        let Some(thumbnails) = thumbnails else {
            let text = table::render_table(headers, rows, self.terminal, shrink, styles);
            self.out.write_all(text.as_bytes())?;
            return self.out.flush();
        };
        let lead = usize::from(THUMBNAIL_COLS) + 2;
        let width = self.terminal.map(|w| w.saturating_sub(lead));
        let text = table::render_table(headers, rows, width, shrink, styles);
        let blank = " ".repeat(lead);
        for (i, line) in text.lines().enumerate() {
            // The header has no picture; row i is line i + 1.
            match i.checked_sub(1).and_then(|row| thumbnails.get(row)) {
                Some(cell) => writeln!(self.out, "{cell}  {line}")?,
                None => writeln!(self.out, "{blank}{line}")?,
            }
        }
        self.out.flush()
    }
}

/// The picture, and the details on its right for as many rows as it takes,
/// then the rest of the details and the description below it, full width.
fn beside_picture(
    v: &Volume,
    escapes: &[u8],
    protocol: picture::Protocol,
    (cols, rows): (u16, u16),
    beside: usize,
    width: usize,
) -> Vec<u8> {
    let (fields, description) = table::detail_parts(v, beside, width);
    let fields: Vec<&str> = fields.lines().collect();
    let rows = usize::from(rows);
    let gap = usize::from(cols) + 2;
    let mut out = Vec::new();
    if protocol == picture::Protocol::HalfBlocks {
        // Text lines side by side: no cursor movement, so a pager shows it too.
        let picture = String::from_utf8_lossy(escapes);
        let lines: Vec<&str> = picture.lines().collect();
        for i in 0..rows.max(fields.len()) {
            let left = lines.get(i).copied().unwrap_or("");
            let right = fields.get(i).copied().unwrap_or("");
            let pad = if lines.get(i).is_some() { 2 } else { gap };
            let line = format!("{left}{:pad$}{right}", "");
            out.extend_from_slice(line.trim_end().as_bytes());
            out.push(b'\n');
        }
    } else {
        // Room first (the screen may scroll), then back up to draw the
        // picture and, from its top row again, the text on its right.
        out.extend_from_slice("\n".repeat(rows).as_bytes());
        out.extend_from_slice(format!("\x1b[{rows}A\x1b7").as_bytes());
        out.extend_from_slice(escapes.strip_suffix(b"\n").unwrap_or(escapes));
        out.extend_from_slice(b"\x1b8");
        // Lines past the picture stay in the column they were wrapped for.
        for line in &fields {
            out.extend_from_slice(format!("\x1b[{gap}C").as_bytes());
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out.extend(std::iter::repeat_n(b'\n', rows.saturating_sub(fields.len())));
    }
    out.extend_from_slice(description.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::json;

    use super::*;

    /// An in-memory stdout that the test can read after the renderer wrote.
    #[derive(Clone, Default)]
    struct Screen(Arc<Mutex<Vec<u8>>>);

    impl Write for Screen {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Sink for Screen {}

    impl Screen {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn output(format: Format, terminal: Option<usize>) -> (Output, Screen) {
        let screen = Screen::default();
        (
            Output::new(Box::new(screen.clone()), format, terminal, false),
            screen,
        )
    }

    fn volume(id: &str, title: &str, authors: &[&str], date: &str) -> Volume {
        Volume::from_value(json!({
            "id": id,
            "kind": "books#volume",
            "volumeInfo": {
                "title": title,
                "authors": authors,
                "publishedDate": date,
                "industryIdentifiers": [{"type": "ISBN_13", "identifier": "9780441013593"}],
                "pageCount": 412,
                "language": "en"
            }
        }))
        .unwrap()
    }

    fn dune() -> Vec<Volume> {
        vec![
            volume("v1", "Dune", &["Frank Herbert"], "1965-08"),
            volume(
                "v2",
                "A title long enough to need cutting on a narrow screen",
                &["Someone", "Someone Else"],
                "2001",
            ),
        ]
    }

    #[test]
    fn a_piped_volume_table_is_whole_and_aligned() {
        let (mut out, screen) = output(Format::Table, None);
        let mut list = out.list::<Volume>().unwrap();
        list.push_all(&dune()).unwrap();
        assert_eq!(list.finish().unwrap(), 2);
        assert_eq!(
            screen.text(),
            "ID  TITLE                                                   AUTHORS                YEAR\n\
             v1  Dune                                                    Frank Herbert          1965\n\
             v2  A title long enough to need cutting on a narrow screen  Someone; Someone Else  2001\n"
        );
    }

    #[test]
    fn a_terminal_volume_table_fits_its_width() {
        for width in [40, 60, 80] {
            let (mut out, screen) = output(Format::Table, Some(width));
            let mut list = out.list::<Volume>().unwrap();
            list.push_all(&dune()).unwrap();
            list.finish().unwrap();
            for line in screen.text().lines() {
                assert!(width::width(line) <= width, "{width}: {line:?}");
            }
        }
    }

    #[test]
    fn a_long_list_streams_the_same_json_bytes() {
        for n in [0, 1, 2] {
            let mut texts = Vec::new();
            for long in [false, true] {
                let (mut out, screen) = output(Format::Json, None);
                let mut list = if long {
                    out.long_list::<Volume>().unwrap()
                } else {
                    out.list::<Volume>().unwrap()
                };
                list.push_all(&dune()[..n]).unwrap();
                list.finish().unwrap();
                texts.push(screen.text());
            }
            assert_eq!(texts[0], texts[1], "{n} items");
        }
    }

    #[test]
    fn csv_and_json_lists_keep_their_contract() {
        let (mut out, screen) = output(Format::Csv, None);
        let mut list = out.list::<Volume>().unwrap();
        list.push_all(&dune()[..1]).unwrap();
        list.finish().unwrap();
        assert_eq!(
            screen.text(),
            "id,title,authors,publisher,published_date,isbn_13,isbn_10,page_count,language\n\
             v1,Dune,Frank Herbert,,1965-08,9780441013593,,412,en\n"
        );

        let (mut out, screen) = output(Format::Json, None);
        let mut list = out.list::<Volume>().unwrap();
        list.push_all(&dune()).unwrap();
        list.finish().unwrap();
        let got: serde_json::Value = serde_json::from_str(&screen.text()).unwrap();
        assert_eq!(got, json!([dune()[0].raw(), dune()[1].raw()]));

        let (mut out, screen) = output(Format::Jsonl, None);
        let mut list = out.list::<Volume>().unwrap();
        list.push_all(&dune()).unwrap();
        list.finish().unwrap();
        assert_eq!(screen.text().lines().count(), 2);
    }

    #[test]
    fn an_empty_table_prints_no_data() {
        let (mut out, screen) = output(Format::Table, None);
        let list = out.list::<Shelf>().unwrap();
        assert_eq!(list.finish().unwrap(), 0);
        assert_eq!(screen.text(), "");
    }

    #[test]
    fn isbn_errors_read_as_errors_in_the_table() {
        let (mut out, screen) = output(Format::Table, None);
        let mut list = out.list::<IsbnEntry>().unwrap();
        list.push(&IsbnEntry {
            input: "0441013597".into(),
            isbn: Some("0441013597".into()),
            volume: Some(Arc::new(dune().remove(0))),
            error: None,
            verified: true,
        })
        .unwrap();
        list.push(&IsbnEntry {
            input: "9780000000002".into(),
            isbn: Some("9780000000002".into()),
            volume: None,
            error: Some("not found".into()),
            verified: false,
        })
        .unwrap();
        list.finish().unwrap();
        let text = screen.text();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows[1], "0441013597     Dune              Frank Herbert  1965");
        assert_eq!(rows[2], "9780000000002  error: not found");
    }

    #[test]
    fn a_record_is_lines_for_people_and_one_object_for_scripts() {
        let record = records::CacheCleared {
            removed_entries: 3,
            removed_bytes: 2048,
        };
        let (mut out, screen) = output(Format::Json, None);
        out.record(&record).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&screen.text()).unwrap(),
            json!({"removed_entries": 3, "removed_bytes": 2048})
        );
        let (mut out, screen) = output(Format::Csv, None);
        out.record(&record).unwrap();
        assert_eq!(screen.text(), "removed_entries,removed_bytes\n3,2048\n");

        let status = records::AuthStatus {
            logged_in: true,
            store: "file",
            path: Some("/c/credentials.json".into()),
            api_key_stored: true,
            api_key_store: Some("keyring"),
            api_key_path: None,
            login: Some(records::Login::new(
                "id.apps".into(),
                vec!["https://www.googleapis.com/auth/books".into()],
                None,
                true,
                0,
            )),
        };
        let (mut out, screen) = output(Format::Table, None);
        out.record(&status).unwrap();
        assert_eq!(
            screen.text(),
            "Logged in:            yes\n\
             Store:                file (/c/credentials.json)\n\
             Client ID:            id.apps\n\
             Scopes:               https://www.googleapis.com/auth/books\n\
             Access token expires: unknown\n\
             Refresh token:        yes\n\
             API key:              stored in the keyring\n"
        );
    }

    #[test]
    fn only_table_and_csv_narrow_the_fields() {
        for (format, narrowed) in [
            (Format::Table, true),
            (Format::Csv, true),
            (Format::Json, false),
            (Format::Jsonl, false),
        ] {
            let (out, _) = output(format, None);
            assert_eq!(out.fields::<Volume>().is_some(), narrowed, "{format:?}");
            assert_eq!(out.fields::<Shelf>(), None);
        }
        // Every column a table or CSV row reads is asked for.
        let fields = <Volume as Listed>::FIELDS.unwrap();
        for name in [
            "id",
            "title",
            "authors",
            "publisher",
            "publishedDate",
            "industryIdentifiers",
            "pageCount",
            "language",
        ] {
            assert!(fields.contains(name), "{name}");
        }
    }
}
