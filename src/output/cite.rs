//! `gbooks cite`: formatted references in a real CSL style, rendered by
//! hayagriva. Five styles ship inside the binary (see `csl/README.md`); any
//! other would need its XML decoder, which costs 0.9 MB of binary.

use std::fmt::Write as _;
use std::sync::OnceLock;

use hayagriva::citationberg::{self, FontStyle, FontWeight, IndependentStyle, Locale};
use hayagriva::types::{Date, EntryType, FormatString, Numeric, Person, Publisher, QualifiedUrl};
use hayagriva::{BibliographyDriver, BibliographyRequest, CitationItem, CitationRequest, ElemChild, Entry};

use crate::books::Volume;
use crate::sanitize::terminal_line;

/// The licence of the bundled styles asks every program using them to say so.
pub const ATTRIBUTION: &str =
    "Styles and locales from the Citation Style Language project (https://citationstyles.org/), CC BY-SA 3.0.";

/// How emphasis comes out: not at all, as `<i>`/`<b>`, or as `*`/`**`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markup {
    Text,
    Html,
    Markdown,
}

#[derive(Debug, thiserror::Error)]
pub enum CiteError {
    #[error("unknown citation style `{name}`; the bundled ones are {known}")]
    Unknown { name: String, known: String },
    #[error("`{0}` is a dependent CSL style; give the style it depends on instead")]
    Dependent(String),
    #[error("not a CSL style: {0}")]
    Invalid(String),
}

/// A parsed CSL style, ready to render references.
#[derive(Debug, Clone)]
pub struct Style {
    name: String,
    csl: IndependentStyle,
}

impl Style {
    /// The short name of the bundled style.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// (short name, upstream file name, style). Chicago is its author-date
/// variant: a reference list entry, like the other four. The styles are
/// hayagriva's own CBOR encoding, which decodes with much less code than XML.
const BUNDLED: [(&str, &str, &[u8]); 5] = [
    ("apa", "apa", include_bytes!("csl/apa.cbor")),
    (
        "mla",
        "modern-language-association",
        include_bytes!("csl/modern-language-association.cbor"),
    ),
    (
        "chicago",
        "chicago-author-date",
        include_bytes!("csl/chicago-author-date.cbor"),
    ),
    ("ieee", "ieee", include_bytes!("csl/ieee.cbor")),
    (
        "harvard",
        "harvard-cite-them-right",
        include_bytes!("csl/harvard-cite-them-right.cbor"),
    ),
];

const LOCALES: [&[u8]; 2] = [include_bytes!("csl/en-US.cbor"), include_bytes!("csl/en-GB.cbor")];

/// `--style list`: (name for `--style`, full title) of each bundled style.
pub fn styles() -> Vec<(&'static str, String)> {
    BUNDLED
        .iter()
        .map(|(short, file, _)| {
            let title = find_style(short)
                .map(|s| s.csl.info.title.value)
                .unwrap_or_default();
            (*short, if title.is_empty() { file.to_string() } else { title })
        })
        .collect()
}

/// A bundled style by short name (`apa`) or upstream file name
/// (`modern-language-association`), in any case.
pub fn find_style(name: &str) -> Result<Style, CiteError> {
    let wanted = name.trim().to_ascii_lowercase();
    let wanted = wanted.strip_suffix(".csl").unwrap_or(&wanted);
    let Some((short, _, bytes)) = BUNDLED
        .iter()
        .find(|(short, file, _)| *short == wanted || *file == wanted)
    else {
        let known: Vec<&str> = BUNDLED.iter().map(|(short, _, _)| *short).collect();
        return Err(CiteError::Unknown {
            name: name.to_string(),
            known: known.join(", "),
        });
    };
    match ciborium::de::from_reader(*bytes) {
        Ok(citationberg::Style::Independent(csl)) => Ok(Style {
            name: short.to_string(),
            csl,
        }),
        Ok(citationberg::Style::Dependent(_)) => Err(CiteError::Dependent(short.to_string())),
        Err(e) => Err(CiteError::Invalid(e.to_string())),
    }
}

/// The bundled locales, decoded once.
fn locales() -> &'static [Locale] {
    static DECODED: OnceLock<Vec<Locale>> = OnceLock::new();
    DECODED.get_or_init(|| {
        LOCALES
            .iter()
            .filter_map(|bytes| ciborium::de::from_reader(*bytes).ok())
            .collect()
    })
}

/// How to render: the markup, and whether to end with the volume's Google
/// Books page. Off by default: APA 7 and MLA 9 cite a print book without
/// the database it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub markup: Markup,
    pub link: bool,
}

impl Options {
    pub fn new(markup: Markup) -> Options {
        Options { markup, link: false }
    }
}

/// One formatted reference, keyed by the volume it cites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub volume_id: String,
    pub text: String,
}

/// The reference for one volume, as a bibliography entry of `style`.
pub fn reference(v: &Volume, style: &Style, options: Options) -> String {
    let mut refs = bibliography(std::slice::from_ref(v), style, options);
    refs.pop().map(|r| r.text).unwrap_or_default()
}

/// References for several volumes rendered as one bibliography, so that the
/// style numbers, sorts and tells apart ("2008a", "2008b") across them. The
/// order is the style's; a volume given twice appears once.
pub fn bibliography(volumes: &[Volume], style: &Style, options: Options) -> Vec<Reference> {
    let mut entries: Vec<Entry> = Vec::with_capacity(volumes.len());
    for v in volumes {
        if !entries.iter().any(|e| e.key() == v.id) {
            entries.push(entry(v, options.link));
        }
    }
    let locales = locales();
    let render_in = |order: &[&Entry]| {
        let mut driver = BibliographyDriver::new();
        for e in order {
            driver.citation(CitationRequest::from_items(
                vec![CitationItem::with_entry(*e)],
                &style.csl,
                locales,
            ));
        }
        driver.finish(BibliographyRequest::new(&style.csl, None, locales))
    };
    let mut order: Vec<&Entry> = entries.iter().collect();
    let mut rendered = render_in(&order);
    // hayagriva gives year suffixes ("2008a") in citation order, CSL in
    // bibliography order: cite again in the order the style sorted.
    if let Some(bib) = rendered.bibliography.as_ref().filter(|_| entries.len() > 1) {
        order = bib
            .items
            .iter()
            .filter_map(|item| entries.iter().find(|e| e.key() == item.key))
            .collect();
        if order.len() == entries.len() {
            rendered = render_in(&order);
        }
    }
    if let Some(bib) = rendered.bibliography {
        return bib
            .items
            .into_iter()
            .map(|item| {
                let mut parts = Vec::new();
                if let Some(first) = item.first_field {
                    runs(&[first], &mut parts);
                    parts.push(Run {
                        text: " ".to_string(),
                        ..Run::default()
                    });
                }
                runs(&item.content.0, &mut parts);
                Reference {
                    volume_id: item.key,
                    text: render(&parts, options.markup),
                }
            })
            .collect();
    }
    // A style without a bibliography (some note styles): its citations.
    rendered
        .citations
        .into_iter()
        .zip(order)
        .map(|(cite, e)| {
            let mut parts = Vec::new();
            runs(&cite.citation.0, &mut parts);
            Reference {
                volume_id: e.key().to_string(),
                text: render(&parts, options.markup),
            }
        })
        .collect()
}

/// The hayagriva entry for a volume: a book, keyed by the volume id.
pub fn entry(v: &Volume, with_link: bool) -> Entry {
    let info = &v.info;
    let mut e = Entry::new(&v.id, EntryType::Book);
    // A reference is one line of text: no control or bidi characters.
    let clean = |s: &Option<String>| s.as_deref().map(terminal_line).unwrap_or_default();
    let (title, subtitle) = (clean(&info.title), clean(&info.subtitle));
    let (title, subtitle) = (title.trim(), subtitle.trim());
    let full_title = match (title.is_empty(), subtitle.is_empty()) {
        (false, false) => format!("{title}: {subtitle}"),
        (false, true) => title.to_string(),
        (true, false) => subtitle.to_string(),
        (true, true) => String::new(),
    };
    if !full_title.is_empty() {
        e.set_title(FormatString::with_value(full_title));
    }
    let mut authors = Vec::new();
    let mut editors = Vec::new();
    for name in &info.authors {
        let name = terminal_line(name);
        let (name, is_editor) = strip_editor_mark(&name);
        if let Some(p) = person(name) {
            if is_editor {
                editors.push(p);
            } else {
                authors.push(p);
            }
        }
    }
    if !authors.is_empty() {
        e.set_authors(authors);
    }
    if !editors.is_empty() {
        e.set_editors(editors);
    }
    if let Some(date) = info.published_date.as_deref().and_then(date) {
        e.set_date(date);
    }
    if let Some(publisher) = Some(clean(&info.publisher).trim().to_string()).filter(|p| !p.is_empty()) {
        e.set_publisher(Publisher::new(Some(FormatString::with_value(publisher)), None));
    }
    if let Some(isbn) = v.isbn("ISBN_13").or_else(|| v.isbn("ISBN_10")) {
        e.set_isbn(isbn.to_string());
    }
    if let Some(pages) = info
        .page_count
        .and_then(|n| i32::try_from(n).ok())
        .filter(|n| *n > 0)
    {
        e.set_page_total(Numeric::new(pages));
    }
    if with_link {
        if let Ok(url) = url::Url::parse(&v.link()) {
            e.set_url(QualifiedUrl::new(url, None));
        }
    }
    // Styles title-case English titles only, so the language matters.
    if let Some(lang) = info.language.as_deref().and_then(|l| l.parse().ok()) {
        e.set_language(lang);
    }
    e
}

/// `publishedDate` is "2008", "1978-04" or "2008-09-16"; anything else that
/// starts with a year still gives the year.
fn date(text: &str) -> Option<Date> {
    let text = text.trim();
    if let Ok(d) = text.get(..10).unwrap_or(text).parse::<Date>() {
        return Some(d);
    }
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() == 4 {
        digits.parse().ok().map(Date::from_year)
    } else {
        None
    }
}

/// Google marks editors inside the name: "Torbjørn Ydegaard (Ed.)".
fn strip_editor_mark(name: &str) -> (&str, bool) {
    let trimmed = name.trim();
    for mark in [
        "(ed.)",
        "(eds.)",
        "(ed)",
        "(eds)",
        "(editor)",
        "(editors)",
        "(hrsg.)",
        "(dir.)",
    ] {
        if trimmed.len() > mark.len() {
            let cut = trimmed.len() - mark.len();
            if trimmed.is_char_boundary(cut) && trimmed[cut..].eq_ignore_ascii_case(mark) {
                return (trimmed[..cut].trim_end(), true);
            }
        }
    }
    (trimmed, false)
}

/// Words that mark a name as an organisation's, to be kept whole.
const ORGANISATION_WORDS: &[&str] = &[
    "academy",
    "agency",
    "association",
    "board",
    "bureau",
    "center",
    "centre",
    "college",
    "commission",
    "committee",
    "company",
    "congress",
    "corp",
    "corporation",
    "council",
    "department",
    "editors",
    "federation",
    "foundation",
    "government",
    "group",
    "inc",
    "institute",
    "institution",
    "international",
    "laboratory",
    "league",
    "library",
    "limited",
    "llc",
    "ltd",
    "ministry",
    "museum",
    "national",
    "office",
    "organisation",
    "organization",
    "press",
    "project",
    "publishers",
    "publishing",
    "school",
    "senate",
    "service",
    "society",
    "staff",
    "team",
    "university",
];

/// Family-name particles that may be capitalised ("Ursula K. Le Guin").
const PARTICLES: &[&str] = &[
    "al", "bin", "da", "das", "de", "del", "della", "der", "des", "di", "do", "dos", "du", "la", "le", "st.",
    "ten", "ter", "van", "von", "zu",
];

const SUFFIXES: &[&str] = &["jr.", "jr", "sr.", "sr", "ii", "iii", "iv"];

/// Google gives names as people write them, given name first. Split them
/// into family and given names; keep organisations and single words whole.
fn person(name: &str) -> Option<Person> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return None;
    }
    let whole = |name: &str| Person {
        name: name.to_string(),
        given_name: None,
        prefix: None,
        suffix: None,
        comma_suffix: false,
        alias: None,
    };
    if is_organisation(&name) {
        return Some(whole(&name));
    }
    // "King, Jr." is a suffix; any other comma means "Family, Given".
    let (rest, suffix) = match name.rsplit_once(',') {
        Some((rest, s)) if SUFFIXES.contains(&s.trim().to_lowercase().as_str()) => {
            (rest.trim().to_string(), Some(s.trim().to_string()))
        }
        _ => (name.clone(), None),
    };
    if rest.contains(',') {
        return Some(rest.parse().unwrap_or_else(|_| whole(&name)));
    }
    let mut words: Vec<&str> = rest.split(' ').collect();
    let suffix = suffix.or_else(|| {
        let last = words.last()?.to_lowercase();
        (words.len() > 2 && SUFFIXES.contains(&last.as_str()))
            .then(|| words.pop().unwrap_or_default().to_string())
    });
    if words.len() < 2 {
        return Some(whole(&rest));
    }
    let mut family_start = words.len() - 1;
    while family_start > 1 && PARTICLES.contains(&words[family_start - 1].to_lowercase().as_str()) {
        family_start -= 1;
    }
    let family = words[family_start..].join(" ");
    let given = words[..family_start].join(" ");
    let parts = match &suffix {
        Some(s) => vec![family.as_str(), s.as_str(), given.as_str()],
        None => vec![family.as_str(), given.as_str()],
    };
    let mut p = Person::from_strings(parts).unwrap_or_else(|_| whole(&rest));
    p.comma_suffix = suffix.is_some() && name.contains(',');
    Some(p)
}

fn is_organisation(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower.starts_with("the ")
        || name.contains('&')
        || name.chars().any(|c| c.is_ascii_digit())
        || name.split_whitespace().count() > 5
        || lower
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| ORGANISATION_WORDS.contains(&w))
}

/// A stretch of text with one formatting; adjacent equal runs are merged so
/// that a title split by the style still comes out as one `*…*`.
#[derive(Debug, Default, PartialEq)]
struct Run {
    text: String,
    italic: bool,
    bold: bool,
    url: Option<String>,
}

fn runs(children: &[ElemChild], out: &mut Vec<Run>) {
    for child in children {
        let (text, f, url) = match child {
            ElemChild::Text(t) => (t.text.as_str(), t.formatting, None),
            ElemChild::Markup(m) => (m.as_str(), hayagriva::Formatting::default(), None),
            ElemChild::Link { text, url } => (text.text.as_str(), text.formatting, Some(url.clone())),
            ElemChild::Elem(e) => {
                runs(&e.children.0, out);
                continue;
            }
            ElemChild::Transparent { .. } => continue,
        };
        let italic = f.font_style == FontStyle::Italic;
        let bold = f.font_weight == FontWeight::Bold;
        match out.last_mut() {
            Some(last)
                if last.italic == italic && last.bold == bold && last.url.is_none() && url.is_none() =>
            {
                last.text.push_str(text)
            }
            _ => out.push(Run {
                text: text.to_string(),
                italic,
                bold,
                url,
            }),
        }
    }
}

fn render(runs: &[Run], markup: Markup) -> String {
    let mut out = String::new();
    for run in runs {
        match (&run.url, markup) {
            (_, Markup::Text) => out.push_str(&run.text),
            (Some(url), Markup::Html) => {
                let _ = write!(out, "<a href=\"{}\">", escape_html(url, true));
                write_emphasis(&mut out, run, markup);
                out.push_str("</a>");
            }
            (Some(url), Markup::Markdown) if run.text == *url => {
                let _ = write!(out, "<{url}>");
            }
            (Some(url), Markup::Markdown) => {
                out.push('[');
                write_emphasis(&mut out, run, markup);
                let _ = write!(out, "](<{url}>)");
            }
            (None, _) => write_emphasis(&mut out, run, markup),
        }
    }
    tidy(&out)
}

fn write_emphasis(out: &mut String, run: &Run, markup: Markup) {
    let text = run.text.as_str();
    // Markdown emphasis must hug the text: "* x*" is not italic.
    let inner = text.trim();
    if inner.is_empty() || (!run.italic && !run.bold) {
        write_escaped(out, text, markup);
        return;
    }
    let (open, close) = match (markup, run.italic, run.bold) {
        (Markup::Html, true, true) => ("<b><i>", "</i></b>"),
        (Markup::Html, true, false) => ("<i>", "</i>"),
        (Markup::Html, false, _) => ("<b>", "</b>"),
        (_, true, true) => ("***", "***"),
        (_, true, false) => ("*", "*"),
        (_, false, _) => ("**", "**"),
    };
    out.push_str(&text[..text.len() - text.trim_start().len()]);
    out.push_str(open);
    write_escaped(out, inner, markup);
    out.push_str(close);
    out.push_str(&text[text.trim_end().len()..]);
}

fn write_escaped(out: &mut String, text: &str, markup: Markup) {
    match markup {
        Markup::Text => out.push_str(text),
        Markup::Html => out.push_str(&escape_html(text, false)),
        Markup::Markdown => {
            for c in text.chars() {
                if matches!(c, '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>') {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
}

fn escape_html(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// One line: the styles' block elements and doubled spaces go.
fn tidy(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(in crate::output) fn fixture(name: &str) -> Volume {
        let path = format!("{}/tests/fixtures/cite/{name}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// Every volume of the fixtures made from recorded API answers.
    pub(in crate::output) fn samples() -> Vec<Volume> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bib/samples");
        let mut volumes = Vec::new();
        for name in [
            "volumes.get__AbyoDwAAQBAJ.json",
            "volumes.list__q_freedom_writers.json",
            "volumes.list__q_holidays.json",
            "volumes.list__q_verity.json",
            "bookshelves.volumes.list__public_user_shelf1001.json",
        ] {
            let path = format!("{dir}/{name}");
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            match json.get("items").and_then(|i| i.as_array()) {
                Some(items) => volumes.extend(items.iter().map(|i| Volume::from_value(i.clone()).unwrap())),
                None => volumes.push(Volume::from_value(json).unwrap()),
            }
        }
        assert!(volumes.len() > 30, "{}", volumes.len());
        volumes
    }

    fn cite(v: &Volume, style: &str, markup: Markup) -> String {
        reference(v, &find_style(style).unwrap(), Options::new(markup))
    }

    /// What a reader of the HTML sees.
    fn html_as_text(html: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    /// What a reader of the Markdown sees (no links in these tests).
    fn markdown_as_text(md: &str) -> String {
        let mut out = String::new();
        let mut chars = md.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.extend(chars.next()),
                '*' => {}
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn dune_messiah_in_the_five_styles() {
        let v = fixture("dune-messiah");
        assert_eq!(
            cite(&v, "apa", Markup::Markdown),
            "Herbert, F. (2008). *Dune Messiah*. Ace Books."
        );
        let expected = [
            ("apa", "Herbert, F. (2008). Dune Messiah. Ace Books."),
            ("mla", "Herbert, Frank. Dune Messiah. Ace Books, 2008."),
            ("chicago", "Herbert, Frank. 2008. Dune Messiah. Ace Books."),
            ("ieee", "[1] F. Herbert, Dune Messiah. Ace Books, 2008."),
            ("harvard", "Herbert, F. (2008) Dune Messiah. Ace Books."),
        ];
        for (style, text) in expected {
            assert_eq!(cite(&v, style, Markup::Text), text, "{style}");
            let html = cite(&v, style, Markup::Html);
            assert!(html.contains("<i>Dune Messiah</i>"), "{style}: {html}");
            assert_eq!(html_as_text(&html), text, "{style}");
            let md = cite(&v, style, Markup::Markdown);
            assert!(md.contains("*Dune Messiah*"), "{style}: {md}");
            assert_eq!(markdown_as_text(&md), text, "{style}");
        }
    }

    #[test]
    fn markup_escapes_what_it_must_and_text_keeps_everything() {
        let v = fixture("special-characters");
        for style in ["apa", "mla", "chicago", "ieee", "harvard"] {
            let text = cite(&v, style, Markup::Text);
            assert!(
                text.contains("Tom & Jerry <Unleashed>: *Stars* and_underscores"),
                "{style}: {text}"
            );
            assert!(text.contains("Éditions <Gallimard> & Fils"), "{style}: {text}");
            assert!(text.contains("村上春樹"), "{style}: {text}");

            let html = cite(&v, style, Markup::Html);
            assert!(
                html.contains("<i>Tom &amp; Jerry &lt;Unleashed&gt;: *Stars*"),
                "{style}: {html}"
            );
            assert!(html.contains("&lt;Gallimard&gt; &amp; Fils"), "{style}: {html}");
            assert_eq!(html_as_text(&html), text, "{style}");

            let md = cite(&v, style, Markup::Markdown);
            assert!(
                md.contains(r"*Tom & Jerry \<Unleashed\>: \*Stars\* and\_underscores"),
                "{style}: {md}"
            );
            assert!(
                md.contains(r"\[brackets\] \`ticks\` \\ backslash*"),
                "{style}: {md}"
            );
            assert_eq!(markdown_as_text(&md), text, "{style}");
        }
        let mut raw = v.raw().clone();
        raw["volumeInfo"]["title"] = "Evil\u{1b}[31m\u{202e}Title\nTwo".into();
        raw["volumeInfo"]["authors"] = serde_json::json!(["Ann\u{7} Bell"]);
        let evil = Volume::from_value(raw).unwrap();
        assert_eq!(
            cite(&evil, "apa", Markup::Text),
            "Bell, A. (1978). Evil[31mTitle Two: \"Quoted\" [brackets] `ticks` \\ backslash. Éditions <Gallimard> & Fils."
        );
        // A French title is not title-cased by an English style.
        assert!(cite(&v, "chicago", Markup::Text).contains("and_underscores: \"Quoted\""));
    }

    #[test]
    fn organisations_stay_whole_and_editors_are_editors() {
        let v = fixture("organisation-author");
        assert_eq!(
            cite(&v, "apa", Markup::Text),
            "United States. Congress. Senate. Committee on the Judiciary, Le Guin, U. K., & King, M. L., Jr. \
             (1967). Monday Holidays: Hearing Before a Subcommittee of the Committee on the Judiciary, United \
             States Senate (T. Ydegaard, Ed.)."
        );
        assert!(cite(&v, "mla", Markup::Text).contains("Edited by Torbjørn Ydegaard"));
    }

    #[test]
    fn a_volume_without_a_date_says_so() {
        let v = fixture("missing-year");
        assert_eq!(
            cite(&v, "apa", Markup::Text),
            "Public, J. Q. (n.d.). A Book Without a Date. Small Press."
        );
        assert_eq!(
            cite(&v, "harvard", Markup::Text),
            "Public, J.Q. (no date) A Book Without a Date. Small Press."
        );
        assert_eq!(
            cite(&v, "mla", Markup::Text),
            "Public, Jane Q. A Book Without a Date. Small Press."
        );
    }

    #[test]
    fn the_link_is_optional_and_https() {
        let v = fixture("dune-messiah");
        let apa = find_style("apa").unwrap();
        let with_link = Options {
            markup: Markup::Html,
            link: true,
        };
        assert_eq!(
            reference(&v, &apa, with_link),
            "Herbert, F. (2008). <i>Dune Messiah</i>. Ace Books. \
             <a href=\"https://books.google.com/books/about/Dune_Messiah.html?hl=&amp;id=F8xJDwAAQBAJ\">\
             https://books.google.com/books/about/Dune_Messiah.html?hl=&amp;id=F8xJDwAAQBAJ</a>"
        );
        let md = reference(
            &v,
            &apa,
            Options {
                markup: Markup::Markdown,
                link: true,
            },
        );
        assert!(
            md.ends_with(" <https://books.google.com/books/about/Dune_Messiah.html?hl=&id=F8xJDwAAQBAJ>"),
            "{md}"
        );

        let mut raw = v.raw().clone();
        raw["volumeInfo"]["canonicalVolumeLink"] = "http://books.google.com/books/about/x?id=1".into();
        assert_eq!(
            Volume::from_value(raw.clone()).unwrap().link(),
            "https://books.google.com/books/about/x?id=1"
        );
        raw["volumeInfo"]
            .as_object_mut()
            .unwrap()
            .remove("canonicalVolumeLink");
        raw["id"] = "a_b-c/d".into();
        assert_eq!(
            Volume::from_value(raw).unwrap().link(),
            "https://books.google.com/books?id=a_b-c%2Fd"
        );
    }

    #[test]
    fn every_recorded_volume_gets_a_reference_in_every_style() {
        let volumes = samples();
        for style in ["apa", "mla", "chicago", "ieee", "harvard"] {
            let style = find_style(style).unwrap();
            for v in &volumes {
                for markup in [Markup::Text, Markup::Html, Markup::Markdown] {
                    let text = reference(v, &style, Options::new(markup));
                    let first_word = v.title().split_whitespace().next().unwrap();
                    assert!(text.contains(first_word), "{} {}: {text}", style.name(), v.id);
                    assert!(text.contains(v.year()), "{} {}: {text}", style.name(), v.id);
                    assert!(!text.contains('\n'), "{text}");
                }
            }
        }
        let welcome = volumes.iter().find(|v| v.id == "AbyoDwAAQBAJ").unwrap();
        assert_eq!(
            cite(welcome, "apa", Markup::Markdown),
            "Union, G. (2020). *Welcome to the Party*. HarperCollins."
        );
    }

    #[test]
    fn one_bibliography_numbers_and_tells_apart() {
        let a = fixture("dune-messiah");
        let mut raw = a.raw().clone();
        raw["id"] = "second".into();
        raw["volumeInfo"]["title"] = "Children of Dune".into();
        let b = Volume::from_value(raw).unwrap();
        let apa = bibliography(
            &[a.clone(), b.clone(), a.clone()],
            &find_style("apa").unwrap(),
            Options::new(Markup::Text),
        );
        assert_eq!(
            apa,
            [
                Reference {
                    volume_id: "second".into(),
                    text: "Herbert, F. (2008a). Children of Dune. Ace Books.".into()
                },
                Reference {
                    volume_id: "F8xJDwAAQBAJ".into(),
                    text: "Herbert, F. (2008b). Dune Messiah. Ace Books.".into()
                },
            ]
        );
        let ieee = bibliography(&[a, b], &find_style("IEEE").unwrap(), Options::new(Markup::Text));
        assert!(
            ieee[0].text.starts_with("[1] F. Herbert, Dune Messiah"),
            "{ieee:?}"
        );
        assert!(
            ieee[1].text.starts_with("[2] F. Herbert, Children of Dune"),
            "{ieee:?}"
        );
    }

    #[test]
    fn style_list_and_lookup() {
        assert_eq!(
            styles(),
            [
                ("apa", "APA Style 7th edition".to_string()),
                ("mla", "MLA Handbook 9th edition (in-text citations)".to_string()),
                (
                    "chicago",
                    "Chicago Manual of Style 18th edition (author-date)".to_string()
                ),
                ("ieee", "IEEE Reference Guide version 11.29.2023".to_string()),
                (
                    "harvard",
                    "Cite Them Right 12th edition (author-date/Harvard)".to_string()
                ),
            ]
        );
        for (name, file) in [
            ("APA", "apa"),
            (" modern-language-association ", "mla"),
            ("Chicago-Author-Date.csl", "chicago"),
            ("harvard-cite-them-right", "harvard"),
        ] {
            assert_eq!(find_style(name).unwrap().name(), file);
        }
        // Every bundled locale parses.
        assert_eq!(locales().len(), LOCALES.len());
    }

    #[test]
    fn an_unknown_style_names_the_known_ones() {
        for name in ["turabian-9000", "chicago-notes", "", "../apa"] {
            let err = find_style(name).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, CiteError::Unknown { .. }));
            assert!(
                msg.contains(&format!("`{name}`")) && msg.contains("apa, mla, chicago, ieee, harvard"),
                "{msg}"
            );
        }
    }

    #[test]
    fn names_are_split_as_people_write_them() {
        let split = |n: &str| {
            let p = person(n).unwrap();
            (
                p.prefix.clone().unwrap_or_default() + " " + &p.name,
                p.given_name.clone(),
                p.suffix.clone(),
            )
        };
        let some = |s: &str| Some(s.to_string());
        assert_eq!(split("Frank Herbert"), (" Herbert".into(), some("Frank"), None));
        assert_eq!(
            split("  J. R. R.   Tolkien "),
            (" Tolkien".into(), some("J. R. R."), None)
        );
        assert_eq!(
            split("Ursula K. Le Guin"),
            (" Le Guin".into(), some("Ursula K."), None)
        );
        assert_eq!(
            split("Ludwig van Beethoven"),
            ("van Beethoven".into(), some("Ludwig"), None)
        );
        assert_eq!(
            split("Martin Luther King, Jr."),
            (" King".into(), some("Martin Luther"), some("Jr."))
        );
        assert_eq!(split("Herbert, Frank"), (" Herbert".into(), some("Frank"), None));
        for whole in [
            "Plato",
            "The Freedom Writers",
            "Mitchell Lane Publishers, Inc.",
            "NASA",
            "Simon & Schuster",
            "United States. Congress. Senate. Committee on the Judiciary",
        ] {
            let p = person(whole).unwrap();
            assert!(p.is_institutional(), "{whole}: {p:?}");
            assert_eq!(p.name, whole);
        }
        assert!(person("   ").is_none());
        assert_eq!(
            strip_editor_mark("Torbjørn Ydegaard (Ed.)"),
            ("Torbjørn Ydegaard", true)
        );
        assert_eq!(strip_editor_mark("(Ed.)"), ("(Ed.)", false));
    }

    #[test]
    fn published_dates_in_every_granularity() {
        let d = |s: &str| date(s).map(|d| (d.year, d.month, d.day));
        assert_eq!(d("2008"), Some((2008, None, None)));
        assert_eq!(d("1978-04"), Some((1978, Some(3), None)));
        assert_eq!(d("2008-09-16"), Some((2008, Some(8), Some(15))));
        assert_eq!(d("2008-09-16T00:00:00Z"), Some((2008, Some(8), Some(15))));
        assert_eq!(d("1990*"), Some((1990, None, None)));
        assert_eq!(d("soon"), None);
        assert_eq!(d("2008-13-45"), Some((2008, None, None)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn any_volume_renders_without_panicking(
            title in ".{0,40}",
            author in "(\\PC|,|\\(Ed\\.\\)){0,30}",
            date in "[0-9\\-T:*a-z]{0,14}",
            publisher in ".{0,20}",
            pages in proptest::option::of(0u64..u64::MAX),
        ) {
            let raw = serde_json::json!({"id": "p", "volumeInfo": {
                "title": title, "authors": [author, "A B"], "publishedDate": date,
                "publisher": publisher, "pageCount": pages}});
            let v = Volume::from_value(raw).unwrap();
            for style in ["apa", "ieee"] {
                let style = find_style(style).unwrap();
                for markup in [Markup::Text, Markup::Html, Markup::Markdown] {
                    let out = reference(&v, &style, Options { markup, link: true });
                    prop_assert!(!out.contains('\n'));
                }
            }
        }
    }
}
