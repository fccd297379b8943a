//! Finding the right book among what a search returns: the queries to send
//! for a title, author or ISBN, and a ranking of the volumes that come back.
//! Google's own order puts whatever is popular in the caller's country first,
//! often a translation or a study guide, so the answer is checked, not trusted.

use std::collections::HashMap;

use icu_normalizer::DecomposingNormalizerBorrowed;
use serde::Serialize;

use crate::books::Volume;
use crate::isbn::Isbn;

/// Whether the volume's `industryIdentifiers` hold `isbn`, as an ISBN-10 or
/// its ISBN-13: a search by ISBN can answer with another book.
pub fn carries_isbn(v: &Volume, isbn: &Isbn) -> bool {
    isbn.matches(v)
}

/// The queries for a lookup by ISBN, to try in order: `isbn:` with the form
/// given, `isbn:` with the other form, then the bare ISBN-13, which finds
/// records that Google indexes only as text.
pub fn isbn_queries(isbn: &Isbn) -> Vec<String> {
    let thirteen = isbn.to_isbn13();
    let other = if isbn.as_str().len() == 10 {
        Some(thirteen.clone())
    } else {
        isbn.to_isbn10()
    };
    let mut queries = vec![format!("isbn:{isbn}")];
    if let Some(other) = other {
        queries.push(format!("isbn:{other}"));
    }
    queries.push(thirteen);
    queries
}

/// `intitle:` for each significant word of the title and `inauthor:` for the
/// first author's surname, as calibre does: the subtitle, bracketed parts,
/// punctuation and the words "a", "an", "and", "the", "of" are left out,
/// because Google ANDs every term and a subtitle worded differently would
/// find nothing. `None` when neither gives a word.
pub fn title_author_query(title: Option<&str>, author: Option<&str>) -> Option<String> {
    let mut terms: Vec<String> = title
        .map(query_words)
        .unwrap_or_default()
        .into_iter()
        .map(|w| format!("intitle:{w}"))
        .collect();
    if let Some(surname) = author.and_then(surname) {
        terms.extend(surname_words(&surname).map(|w| format!("inauthor:{w}")));
    }
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// The same words as [`title_author_query`] without field restrictions, for
/// when that finds nothing: they may then match the subtitle, the description
/// or an author listed under another spelling.
pub fn loose_query(title: Option<&str>, author: Option<&str>) -> Option<String> {
    let mut words = title.map(query_words).unwrap_or_default();
    if let Some(surname) = author.and_then(surname) {
        words.extend(surname_words(&surname).map(str::to_string));
    }
    (!words.is_empty()).then(|| words.join(" "))
}

/// Every query worth sending for `wanted`, most precise first and without
/// repeats: the ISBN forms, then title and author, then the loose form.
pub fn queries(wanted: &Wanted) -> Vec<String> {
    let title = asked(&wanted.title);
    let author = asked(&wanted.author);
    let mut all = wanted.isbn.as_ref().map(isbn_queries).unwrap_or_default();
    all.extend(title_author_query(title, author));
    all.extend(loose_query(title, author));
    let mut seen = std::collections::HashSet::new();
    all.retain(|q| seen.insert(q.clone()));
    all
}

/// The title's words as typed, for a query: without the subtitle, brackets,
/// punctuation and joining words (all of them kept if nothing else is left).
fn query_words(title: &str) -> Vec<String> {
    let words: Vec<String> = main_title(title)
        .split(|c: char| !(c.is_alphanumeric() || is_apostrophe(c)))
        .map(|w| w.trim_matches(is_apostrophe))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    let significant: Vec<String> = words
        .iter()
        .filter(|w| !STOP_WORDS.contains(&fold(w).as_str()))
        .cloned()
        .collect();
    if significant.is_empty() {
        words
    } else {
        significant
    }
}

/// Words of a surname worth a query term: initials and particles such as
/// "de" or "Le" match too many authors.
fn surname_words(surname: &str) -> impl Iterator<Item = &str> {
    let words: Vec<&str> = surname
        .split(|c: char| !(c.is_alphanumeric() || is_apostrophe(c)))
        .filter(|w| !w.is_empty())
        .collect();
    let long: Vec<&str> = words.iter().copied().filter(|w| w.chars().count() > 2).collect();
    if long.is_empty() {
        words.into_iter()
    } else {
        long.into_iter()
    }
}

/// What the user asked for; `None` (or blank text) means not asked.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    pub title: Option<String>,
    /// One or more authors as typed (`Frank Herbert`, `Herbert, Frank`,
    /// `A; B`); only the first one's surname is used.
    pub author: Option<String>,
    pub isbn: Option<Isbn>,
    pub publisher: Option<String>,
    /// An ISO 639-1 code such as `en`.
    pub lang: Option<String>,
    pub year: Option<u16>,
}

/// One ranked volume: `score` is 0..=100, `reasons` say where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub score: u8,
    pub reasons: Vec<String>,
    pub volume: Volume,
}

/// The score at and above which a candidate is taken to be the book asked for.
pub const GOOD_ENOUGH: u8 = 50;

/// Title similarity below which a volume is another book.
const SIMILAR: f64 = 0.7;

/// Orders `volumes` by how well they match `wanted`, best first, after
/// merging duplicates: the same id twice, or the same edition under two ids
/// (a shared ISBN, or the same title, authors, publisher and year); the more
/// complete record of each is kept.
///
/// Each criterion that was asked for earns points:
///
/// | criterion | points | earned when                                                 |
/// |-----------|--------|-------------------------------------------------------------|
/// | title     | 40 × s | similarity s ≥ 0.7: 1.0 equal, 0.9 equal but for a subtitle |
/// | author    | 30     | the first author's surname is listed, given names agreeing  |
/// | language  | 15     | same language code                                          |
/// | year      | 10     | same year (5 when one year off)                             |
/// | publisher | 5      | one publisher's name contains the other's                   |
///
/// `match` is the points earned over the points of the criteria asked, and
/// `score = match × (90 + 10 × completeness)`, completeness being 0.4 for a
/// cover, 0.3 for a description and 0.3 for a page count: a fuller record
/// is worth at most a tenth of the score. With nothing asked, or only an
/// ISBN, `score = 10 × completeness`. Then:
///
/// - a volume carrying the ISBN asked for scores at least 80 and ranks above
///   every volume that does not: the identifier is verified, the rest is text;
///   one that does not loses nothing, being maybe another edition of the book;
/// - another work scores at most 40: a title asked and not similar, or an
///   author asked while the volume lists only others (namesakes included:
///   Brian Herbert is not Frank Herbert). Language, year and publisher belong
///   to an edition and do not make another work the right one; a volume
///   listing no authors only misses the author's points.
///
/// Title, author and publisher are compared without case, punctuation or
/// diacritics; "a", "an", "and", "of" and "the" are ignored in titles. Ties
/// go to the more complete record, then keep Google's order. [`GOOD_ENOUGH`]
/// (50) is thus reached by a title alone when only a title was asked, but not
/// by another book of the same author, nor by an edition listing another author.
pub fn rank(wanted: &Wanted, volumes: Vec<Volume>) -> Vec<Candidate> {
    let wanted = Prepared::new(wanted);
    let mut ranked: Vec<(bool, u8, u8, usize, Candidate)> = merge(volumes, &wanted)
        .into_iter()
        .map(|(first, volume)| {
            let carried = wanted.isbn.is_some_and(|i| carries_isbn(&volume, i));
            let (score, reasons) = score(&wanted, &volume, carried);
            let fullness = (completeness(&volume).0 * 10.0).round() as u8;
            let candidate = Candidate {
                score,
                reasons,
                volume,
            };
            (carried, score, fullness, first, candidate)
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.cmp(&a.1))
            .then(b.2.cmp(&a.2))
            .then(a.3.cmp(&b.3))
    });
    ranked.into_iter().map(|r| r.4).collect()
}

/// `wanted`, folded once for comparison.
struct Prepared<'a> {
    isbn: Option<&'a Isbn>,
    title: Option<TitleForms>,
    author: Option<Author>,
    lang: Option<String>,
    year: Option<u16>,
    publisher: Option<(String, Vec<String>)>,
}

impl<'a> Prepared<'a> {
    fn new(w: &'a Wanted) -> Prepared<'a> {
        Prepared {
            isbn: w.isbn.as_ref(),
            title: asked(&w.title).map(|t| TitleForms::new(t, None)),
            author: asked(&w.author).and_then(Author::parse),
            lang: asked(&w.lang).map(language_code),
            year: w.year,
            publisher: asked(&w.publisher).map(|p| (p.trim().to_string(), publisher_words(p))),
        }
    }
}

fn asked(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

const TITLE_POINTS: f64 = 40.0;
const AUTHOR_POINTS: f64 = 30.0;
const LANGUAGE_POINTS: f64 = 15.0;
const YEAR_POINTS: f64 = 10.0;
const PUBLISHER_POINTS: f64 = 5.0;

fn score(w: &Prepared, v: &Volume, carried: bool) -> (u8, Vec<String>) {
    let mut reasons = Vec::new();
    let mut earned = 0.0;
    let mut possible = 0.0;
    let mut other_book = false;

    if w.isbn.is_some() {
        let listed = v
            .info
            .industry_identifiers
            .iter()
            .any(|i| i.kind.starts_with("ISBN"));
        reasons.push(
            match (carried, listed) {
                (true, _) => "ISBN matches",
                (false, true) => "ISBN differs",
                (false, false) => "no ISBN listed",
            }
            .to_string(),
        );
    }
    if let Some(title) = &w.title {
        possible += TITLE_POINTS;
        let s = title.similarity(&TitleForms::new(v.title(), v.info.subtitle.as_deref()));
        if s >= 1.0 {
            earned += TITLE_POINTS;
            reasons.push("title matches".to_string());
        } else if s >= SIMILAR {
            earned += TITLE_POINTS * s;
            reasons.push(format!("title similar ({s:.2})"));
        } else {
            other_book = true;
            reasons.push(format!("title differs ({s:.2})"));
        }
    }
    if let Some(author) = &w.author {
        possible += AUTHOR_POINTS;
        match author.find_in(&v.info.authors) {
            AuthorMatch::Same => {
                earned += AUTHOR_POINTS;
                reasons.push(format!("author {} matches", author.surname));
            }
            AuthorMatch::Namesake(name) => {
                other_book = true;
                reasons.push(format!("author {name}, not {}", author.given));
            }
            AuthorMatch::Absent => {
                other_book = true;
                reasons.push(format!("author {} missing", author.surname));
            }
            AuthorMatch::Unknown => reasons.push("author unknown".to_string()),
        }
    }
    if let Some(lang) = &w.lang {
        possible += LANGUAGE_POINTS;
        match v.info.language.as_deref().map(language_code) {
            Some(theirs) if theirs == *lang => {
                earned += LANGUAGE_POINTS;
                reasons.push(format!("language {lang}"));
            }
            Some(theirs) => reasons.push(format!("language {theirs}, not {lang}")),
            None => reasons.push("language unknown".to_string()),
        }
    }
    if let Some(year) = w.year {
        possible += YEAR_POINTS;
        match v.year().parse::<u16>() {
            Ok(theirs) if theirs == year => {
                earned += YEAR_POINTS;
                reasons.push(format!("year {year}"));
            }
            Ok(theirs) if theirs.abs_diff(year) == 1 => {
                earned += YEAR_POINTS / 2.0;
                reasons.push(format!("year {theirs}, one off"));
            }
            Ok(theirs) => reasons.push(format!("year {theirs}, not {year}")),
            Err(_) => reasons.push("year unknown".to_string()),
        }
    }
    if let Some((name, words)) = &w.publisher {
        possible += PUBLISHER_POINTS;
        let theirs = v.info.publisher.as_deref().map(publisher_words);
        if theirs.is_some_and(|t| same_publisher(words, &t)) {
            earned += PUBLISHER_POINTS;
            reasons.push(format!("publisher {name} matches"));
        } else {
            reasons.push(format!("publisher not {name}"));
        }
    }

    let (fullness, has) = completeness(v);
    reasons.extend(has);
    let raw = if possible > 0.0 {
        earned / possible * (90.0 + 10.0 * fullness)
    } else {
        10.0 * fullness
    };
    let mut score = raw.round().clamp(0.0, 100.0) as u8;
    if carried {
        score = score.max(80);
    } else if other_book {
        score = score.min(40);
    }
    (score, reasons)
}

/// 0.0..=1.0 and the reasons: a cover counts 0.4, a description and a page count 0.3 each.
fn completeness(v: &Volume) -> (f64, Vec<String>) {
    let mut fullness = 0.0;
    let mut has = Vec::new();
    let cover = v
        .raw()
        .pointer("/volumeInfo/imageLinks")
        .and_then(|l| l.as_object())
        .is_some_and(|l| {
            l.values()
                .any(|u| u.as_str().is_some_and(|u| !u.trim().is_empty()))
        });
    if cover {
        fullness += 0.4;
        has.push("has cover".to_string());
    }
    if v.info
        .description
        .as_deref()
        .is_some_and(|d| !d.trim().is_empty())
    {
        fullness += 0.3;
        has.push("has description".to_string());
    }
    if let Some(pages) = v.info.page_count.filter(|&p| p > 0) {
        fullness += 0.3;
        has.push(format!("{pages} pages"));
    }
    (fullness, has)
}

/// Duplicates merged, each group as (its first position, its fullest volume).
fn merge(volumes: Vec<Volume>, wanted: &Prepared) -> Vec<(usize, Volume)> {
    let mut parent: Vec<usize> = (0..volumes.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first_with: HashMap<String, usize> = HashMap::new();
    for (i, v) in volumes.iter().enumerate() {
        for key in identity_keys(v) {
            match first_with.get(&key) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    // The smaller index stays the root: the group keeps Google's first position.
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    first_with.insert(key, i);
                }
            }
        }
    }
    let mut groups: Vec<(usize, Volume)> = Vec::new();
    let mut group_of_root: HashMap<usize, usize> = HashMap::new();
    for (i, v) in volumes.into_iter().enumerate() {
        let r = root(&mut parent, i);
        match group_of_root.get(&r) {
            Some(&g) => {
                if fuller(&v, &groups[g].1, wanted) {
                    groups[g].1 = v;
                }
            }
            None => {
                group_of_root.insert(r, groups.len());
                groups.push((i, v));
            }
        }
    }
    groups
}

/// Whether `a` is the better record of one edition than `b`.
fn fuller(a: &Volume, b: &Volume, wanted: &Prepared) -> bool {
    let key = |v: &Volume| {
        let carried = wanted.isbn.is_some_and(|i| carries_isbn(v, i));
        (carried, completeness(v).0, filled_fields(v))
    };
    key(a) > key(b)
}

fn filled_fields(v: &Volume) -> usize {
    let i = &v.info;
    [
        i.title.is_some(),
        i.subtitle.is_some(),
        !i.authors.is_empty(),
        i.publisher.is_some(),
        i.published_date.is_some(),
        !i.industry_identifiers.is_empty(),
        !i.categories.is_empty(),
        i.language.is_some(),
    ]
    .into_iter()
    .filter(|&b| b)
    .count()
}

/// Keys two records of one edition share: the id, each ISBN as an ISBN-13,
/// and title + authors + publisher + year when title and year are known.
fn identity_keys(v: &Volume) -> Vec<String> {
    let mut keys = vec![format!("id:{}", v.id)];
    keys.extend(
        v.info
            .industry_identifiers
            .iter()
            .filter(|i| i.kind.starts_with("ISBN"))
            .filter_map(|i| Isbn::parse(&i.identifier).ok())
            .map(|i| format!("isbn:{}", i.to_isbn13())),
    );
    let title = TitleForms::new(v.title(), v.info.subtitle.as_deref()).full;
    if !title.is_empty() && !v.year().is_empty() {
        let authors: Vec<String> = v.info.authors.iter().map(|a| fold(a)).collect();
        let publisher = v.info.publisher.as_deref().map(fold).unwrap_or_default();
        keys.push(format!(
            "edition:{title}|{}|{publisher}|{}",
            authors.join(";"),
            v.year()
        ));
    }
    keys
}

/// English joining words that titles are written with or without.
const STOP_WORDS: &[&str] = &["a", "an", "and", "of", "the"];

/// A title in the forms it is compared in: folded words without joining
/// words, with and without the subtitle.
struct TitleForms {
    main: String,
    full: String,
    has_subtitle: bool,
}

impl TitleForms {
    fn new(title: &str, subtitle: Option<&str>) -> TitleForms {
        let subtitle = subtitle.map(str::trim).filter(|s| !s.is_empty());
        let full = match subtitle {
            Some(sub) => format!("{title}: {sub}"),
            None => title.to_string(),
        };
        let main = title_key(&main_title(title));
        let full = title_key(&strip_brackets(&full));
        TitleForms {
            has_subtitle: main != full,
            main,
            full,
        }
    }

    /// 1.0 when equal; at least 0.9 when equal but for a subtitle on one side.
    fn similarity(&self, other: &TitleForms) -> f64 {
        if self.full.is_empty() || other.full.is_empty() {
            return 0.0;
        }
        if self.full == other.full {
            return 1.0;
        }
        let mut s = strsim::normalized_levenshtein(&self.full, &other.full);
        if self.main == other.main && !self.main.is_empty() && self.has_subtitle != other.has_subtitle {
            s = s.max(0.9);
        }
        s.min(0.99)
    }
}

fn title_key(title: &str) -> String {
    let folded = fold(title);
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    let significant: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !STOP_WORDS.contains(w))
        .collect();
    if significant.is_empty() {
        words.join(" ")
    } else {
        significant.join(" ")
    }
}

/// The title without bracketed parts and without what follows the first
/// `:`, ` / ` or spaced dash (a subtitle or a volume number), unless that
/// would leave nothing.
fn main_title(title: &str) -> String {
    let plain = strip_brackets(title);
    let cut = [":", " / ", " - ", " – ", " — "]
        .iter()
        .filter_map(|sep| plain.find(sep))
        .min()
        .unwrap_or(plain.len());
    let head = &plain[..cut];
    if head.chars().any(char::is_alphanumeric) {
        head.trim().to_string()
    } else {
        plain.trim().to_string()
    }
}

/// `Dune (Dune Chronicles, Book 1)` → `Dune`, unless nothing else is left.
fn strip_brackets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    if out.chars().any(char::is_alphanumeric) {
        out
    } else {
        text.to_string()
    }
}

/// Lower case words without diacritics, punctuation or apostrophes, one space
/// apart: "L’Étranger" and "l'etranger" fold alike.
fn fold(text: &str) -> String {
    let nfkd = DecomposingNormalizerBorrowed::new_nfkd();
    let mut out = String::with_capacity(text.len());
    for c in nfkd.normalize_iter(text.chars()) {
        if is_combining_mark(c) || is_apostrophe(c) {
            continue;
        }
        for c in c.to_lowercase() {
            match c {
                'æ' => out.push_str("ae"),
                'œ' => out.push_str("oe"),
                'ß' => out.push_str("ss"),
                'þ' => out.push_str("th"),
                'ø' => out.push('o'),
                'ł' => out.push('l'),
                'đ' | 'ð' => out.push('d'),
                'ı' => out.push('i'),
                c if c.is_alphanumeric() => out.push(c),
                _ => out.push(' '),
            }
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The combining blocks that hold Latin, Greek and Cyrillic diacritics,
/// which NFKD splits off the letters they sit on.
fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}' | '\u{2018}')
}

/// `en`, `EN`, `en-GB` and `en_GB` are all `en`.
fn language_code(code: &str) -> String {
    code.trim()
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Words that distinguish a publisher: "Ace" and "Ace Books" are one.
fn publisher_words(name: &str) -> Vec<String> {
    const FILLER: &[&str] = &[
        "books",
        "book",
        "press",
        "publishing",
        "publishers",
        "publisher",
        "inc",
        "ltd",
        "llc",
        "co",
        "company",
        "group",
        "editions",
        "edition",
        "editeur",
        "editeurs",
        "verlag",
        "the",
        "and",
    ];
    fold(name)
        .split(' ')
        .filter(|w| !w.is_empty() && !FILLER.contains(w))
        .map(str::to_string)
        .collect()
}

fn same_publisher(a: &[String], b: &[String]) -> bool {
    let within = |x: &[String], y: &[String]| !x.is_empty() && x.iter().all(|w| y.contains(w));
    within(a, b) || within(b, a)
}

/// The first of the authors asked for, split into surname and given names.
struct Author {
    /// As typed, for reasons: "Herbert".
    surname: String,
    /// The name as typed, in natural order: "Frank Herbert".
    given: String,
    surname_words: Vec<String>,
    /// Folded given names or initials: ["frank"].
    given_words: Vec<String>,
}

enum AuthorMatch {
    Same,
    /// The surname matches but not the given names: the volume's author.
    Namesake(String),
    /// Other authors are listed.
    Absent,
    /// No authors are listed.
    Unknown,
}

const NAME_SUFFIXES: &[&str] = &["jr", "sr", "ii", "iii", "iv"];

impl Author {
    fn parse(authors: &str) -> Option<Author> {
        let first = first_author(authors)?;
        let (surname, given) = split_name(first)?;
        let surname_words: Vec<String> = fold(&surname).split(' ').map(str::to_string).collect();
        let given_words: Vec<String> = fold(&given)
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        let natural = if given.is_empty() {
            surname.clone()
        } else {
            format!("{given} {surname}")
        };
        Some(Author {
            surname,
            given: natural,
            surname_words,
            given_words,
        })
    }

    fn find_in(&self, authors: &[String]) -> AuthorMatch {
        if authors.iter().all(|a| fold(a).is_empty()) {
            return AuthorMatch::Unknown;
        }
        let mut namesake = None;
        for name in authors {
            let words: Vec<String> = fold(name).split(' ').map(str::to_string).collect();
            // The surname's words, in order, somewhere in the name.
            let Some(at) = words
                .windows(self.surname_words.len())
                .position(|w| w == self.surname_words.as_slice())
            else {
                continue;
            };
            let others: Vec<&String> = words[..at]
                .iter()
                .chain(&words[at + self.surname_words.len()..])
                .filter(|w| !NAME_SUFFIXES.contains(&w.as_str()))
                .collect();
            let compatible = self.given_words.is_empty()
                || others.is_empty()
                || shares_initial(&self.given_words, &others)
                || shares_initial(&others, &self.given_words);
            if compatible {
                return AuthorMatch::Same;
            }
            namesake.get_or_insert_with(|| name.trim().to_string());
        }
        namesake.map_or(AuthorMatch::Absent, AuthorMatch::Namesake)
    }
}

/// Whether the first of `a`'s given names has the initial of one of `b`'s:
/// "Scott" fits "F. Scott", "Frank" does not fit "Brian".
fn shares_initial<A: AsRef<str>, B: AsRef<str>>(a: &[A], b: &[B]) -> bool {
    let initial = |w: &str| w.chars().next();
    a.first()
        .is_some_and(|first| b.iter().any(|w| initial(w.as_ref()) == initial(first.as_ref())))
}

/// "A; B", "A & B", "A and B" → "A".
fn first_author(authors: &str) -> Option<&str> {
    let first = authors.split([';', '&']).next().unwrap_or(authors);
    let first = first.split(" and ").next().unwrap_or(first).trim();
    (!first.is_empty()).then_some(first)
}

/// The first author's surname as typed: "Herbert" from "Frank Herbert" or
/// "Herbert, Frank"; "King" from "Martin Luther King, Jr.".
fn surname(authors: &str) -> Option<String> {
    first_author(authors)
        .and_then(split_name)
        .map(|(surname, _)| surname)
}

/// (surname, given names) of one name.
fn split_name(name: &str) -> Option<(String, String)> {
    let is_suffix = |w: &str| NAME_SUFFIXES.contains(&fold(w).as_str());
    let tidy = |w: &str| {
        w.trim_matches(|c: char| c == ',' || c == '.' || c.is_whitespace())
            .to_string()
    };
    if let Some((before, after)) = name.split_once(',') {
        if !after.trim().is_empty() && !is_suffix(after) && !before.trim().is_empty() {
            let surname = tidy(before);
            return (!fold(&surname).is_empty()).then(|| (surname, tidy(after)));
        }
    }
    let mut words: Vec<&str> = name.split([' ', ',']).filter(|w| !w.trim().is_empty()).collect();
    while words.len() > 1 && words.last().is_some_and(|w| is_suffix(w)) {
        words.pop();
    }
    let last = words.pop()?;
    // Particles belong to the surname: "Ursula K. Le Guin", "Antoine de Saint-Exupéry".
    let mut start = words.len();
    while start > 0 && is_particle(words[start - 1]) {
        start -= 1;
    }
    let mut surname_parts: Vec<&str> = words.split_off(start);
    surname_parts.push(last);
    let surname = tidy(&surname_parts.join(" "));
    if fold(&surname).is_empty() {
        return None;
    }
    Some((surname, tidy(&words.join(" "))))
}

fn is_particle(word: &str) -> bool {
    const PARTICLES: &[&str] = &[
        "de", "del", "della", "der", "di", "du", "la", "le", "van", "von", "da", "dos", "des",
    ];
    PARTICLES.contains(&fold(word).as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn isbn(text: &str) -> Isbn {
        Isbn::parse(text).unwrap()
    }

    fn volume(value: serde_json::Value) -> Volume {
        Volume::from_value(value).unwrap()
    }

    fn fixture(name: &str) -> Vec<Volume> {
        let path = format!("{}/tests/fixtures/identify/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let page: crate::books::VolumesPage = serde_json::from_str(&text).unwrap();
        page.items
    }

    fn with_isbns(id: &str, isbns: &[(&str, &str)]) -> Volume {
        let ids: Vec<_> = isbns
            .iter()
            .map(|(kind, id)| json!({"type": kind, "identifier": id}))
            .collect();
        volume(json!({"id": id, "volumeInfo": {"title": "T", "industryIdentifiers": ids}}))
    }

    #[test]
    fn an_isbn_is_carried_in_either_form() {
        let only_ten = with_isbns("a", &[("ISBN_10", "0441013597")]);
        let only_thirteen = with_isbns("b", &[("ISBN_13", "9780441013593")]);
        let other = with_isbns("c", &[("ISBN_13", "9780262510875"), ("OTHER", "UOM:39015")]);
        for asked in ["9780441013593", "0441013597"] {
            assert!(carries_isbn(&only_ten, &isbn(asked)), "{asked}");
            assert!(carries_isbn(&only_thirteen, &isbn(asked)), "{asked}");
            assert!(!carries_isbn(&other, &isbn(asked)), "{asked}");
        }
        assert!(!carries_isbn(&volume(json!({"id": "d"})), &isbn("0441013597")));
    }

    #[test]
    fn isbn_queries_try_both_forms_then_the_bare_number() {
        assert_eq!(
            isbn_queries(&isbn("0-441-01359-7")),
            ["isbn:0441013597", "isbn:9780441013593", "9780441013593"]
        );
        assert_eq!(
            isbn_queries(&isbn("978-0-441-01359-3")),
            ["isbn:9780441013593", "isbn:0441013597", "9780441013593"]
        );
        // The ISBN-10 form can end in X.
        assert_eq!(
            isbn_queries(&isbn("9780804429573")),
            ["isbn:9780804429573", "isbn:080442957X", "9780804429573"]
        );
        // 979 numbers have no ISBN-10.
        assert_eq!(
            isbn_queries(&isbn("979-10-90636-07-1")),
            ["isbn:9791090636071", "9791090636071"]
        );
    }

    #[test]
    fn title_author_query_keeps_the_words_that_matter() {
        assert_eq!(
            title_author_query(
                Some("The Hitchhiker's Guide to the Galaxy: A Trilogy in Five Parts"),
                Some("Douglas Adams")
            )
            .unwrap(),
            "intitle:Hitchhiker's intitle:Guide intitle:to intitle:Galaxy inauthor:Adams"
        );
        assert_eq!(
            title_author_query(Some("Dune (Dune Chronicles, Book 1)"), Some("Herbert, Frank")).unwrap(),
            "intitle:Dune inauthor:Herbert"
        );
        assert_eq!(
            title_author_query(Some("Les Misérables"), Some("Victor Hugo; Lee Fahnestock")).unwrap(),
            "intitle:Les intitle:Misérables inauthor:Hugo"
        );
        assert_eq!(
            title_author_query(Some("Le Petit Prince"), Some("Antoine de Saint-Exupéry")).unwrap(),
            "intitle:Le intitle:Petit intitle:Prince inauthor:Saint inauthor:Exupéry"
        );
        assert_eq!(
            title_author_query(None, Some("Ursula K. Le Guin")).unwrap(),
            "inauthor:Guin"
        );
        assert_eq!(
            title_author_query(Some("The The"), None).unwrap(),
            "intitle:The intitle:The"
        );
        // Query syntax in a title is taken as words.
        assert_eq!(
            title_author_query(Some("\"Dune\" -Messiah OR"), None).unwrap(),
            "intitle:Dune intitle:Messiah intitle:OR"
        );
        assert_eq!(title_author_query(Some(" :?! "), Some("  ")), None);
        assert_eq!(title_author_query(None, None), None);
    }

    #[test]
    fn loose_query_is_plain_words() {
        assert_eq!(
            loose_query(Some("Dune: Deluxe Edition"), Some("Frank Herbert")).unwrap(),
            "Dune Herbert"
        );
        assert_eq!(
            loose_query(Some("A Tale of Two Cities"), None).unwrap(),
            "Tale Two Cities"
        );
        assert_eq!(
            loose_query(None, Some("Martin Luther King, Jr.")).unwrap(),
            "King"
        );
        assert_eq!(loose_query(None, None), None);
    }

    #[test]
    fn the_query_plan_goes_from_precise_to_loose() {
        let wanted = Wanted {
            title: Some("Dune".into()),
            author: Some("Frank Herbert".into()),
            isbn: Some(isbn("0441013597")),
            ..Wanted::default()
        };
        assert_eq!(
            queries(&wanted),
            [
                "isbn:0441013597",
                "isbn:9780441013593",
                "9780441013593",
                "intitle:Dune inauthor:Herbert",
                "Dune Herbert"
            ]
        );
        let title_only = Wanted {
            title: Some("Dune".into()),
            ..Wanted::default()
        };
        assert_eq!(queries(&title_only), ["intitle:Dune", "Dune"]);
        assert!(queries(&Wanted::default()).is_empty());
    }

    #[test]
    fn folding_ignores_case_punctuation_and_diacritics() {
        assert_eq!(fold("Les Misérables"), "les miserables");
        assert_eq!(fold("LES MISERABLES!"), "les miserables");
        assert_eq!(fold("L’Étranger"), fold("l'etranger"));
        assert_eq!(fold("Œuvres complètes — Straße"), "oeuvres completes strasse");
        assert_eq!(fold("Łódź"), "lodz");
        assert_eq!(fold("ﬁnal ２０２０"), "final 2020");
        assert_eq!(fold("Война и мир"), fold("ВОЙНА И МИР"));
    }

    #[test]
    fn surnames_in_the_ways_people_write_names() {
        let s = |n: &str| surname(n);
        assert_eq!(s("Frank Herbert").as_deref(), Some("Herbert"));
        assert_eq!(s("Herbert, Frank").as_deref(), Some("Herbert"));
        assert_eq!(s("Martin Luther King, Jr.").as_deref(), Some("King"));
        assert_eq!(s("Martin Luther King Jr").as_deref(), Some("King"));
        assert_eq!(s("Ursula K. Le Guin").as_deref(), Some("Le Guin"));
        assert_eq!(s("F. Scott Fitzgerald & Someone").as_deref(), Some("Fitzgerald"));
        assert_eq!(s("Herbert").as_deref(), Some("Herbert"));
        assert_eq!(s(" ; "), None);
        assert_eq!(s("..."), None);
    }

    fn wanted_title(title: &str) -> Wanted {
        Wanted {
            title: Some(title.into()),
            ..Wanted::default()
        }
    }

    fn titled(id: &str, title: &str, subtitle: Option<&str>) -> Volume {
        volume(json!({"id": id, "volumeInfo": {"title": title, "subtitle": subtitle}}))
    }

    fn only(wanted: &Wanted, v: Volume) -> Candidate {
        rank(wanted, vec![v]).remove(0)
    }

    #[test]
    fn title_matching_ignores_case_punctuation_diacritics_and_subtitles() {
        let wanted = wanted_title("Les Misérables");
        for (title, subtitle) in [
            ("LES MISERABLES", None),
            ("Les misérables.", None),
            ("Les Misérables (Penguin Classics)", None),
        ] {
            let c = only(&wanted, titled("x", title, subtitle));
            assert_eq!(c.reasons[0], "title matches", "{title}");
            assert!(c.score >= 90, "{title}: {}", c.score);
        }
        // A subtitle on one side only: the same book.
        let c = only(&wanted, titled("x", "Les Misérables", Some("roman")));
        assert_eq!(c.reasons[0], "title similar (0.90)");
        let c = only(&wanted_title("Dune: Deluxe Edition"), titled("x", "Dune", None));
        assert_eq!(c.reasons[0], "title similar (0.90)");
        let c = only(
            &wanted_title("Sapiens"),
            titled("x", "Sapiens: A Brief History of Humankind", None),
        );
        assert!(c.score >= GOOD_ENOUGH, "{c:?}");
        // The whole title, subtitle included, typed as Google splits it.
        let c = only(
            &wanted_title("Sapiens: A Brief History of Humankind"),
            titled("x", "Sapiens", Some("A Brief History of Humankind")),
        );
        assert_eq!(c.reasons[0], "title matches");
        // A typo is similar, a sequel is not.
        let c = only(
            &wanted_title("The Hitchiker's Guide to the Galaxy"),
            titled("x", "The Hitchhiker's Guide to the Galaxy", None),
        );
        assert!(c.reasons[0].starts_with("title similar (0.9"), "{:?}", c.reasons);
        let c = only(&wanted_title("Dune"), titled("x", "Dune Messiah", None));
        assert_eq!(c.reasons[0], "title differs (0.33)");
    }

    #[test]
    fn the_50_threshold_means_the_book() {
        // A title alone passes when only a title was asked, even from a bare record.
        let c = only(&wanted_title("Dune"), titled("x", "Dune", None));
        assert_eq!(c.score, 90);
        assert!(c.score >= GOOD_ENOUGH);
        // Another title by the same author, complete, in the right language
        // and year, does not.
        let wanted = Wanted {
            title: Some("Dune".into()),
            author: Some("Frank Herbert".into()),
            lang: Some("en".into()),
            year: Some(1965),
            publisher: Some("Chilton".into()),
            ..Wanted::default()
        };
        let sequel = volume(json!({"id": "m", "volumeInfo": {
            "title": "The Dosadi Experiment", "authors": ["Frank Herbert"], "language": "en",
            "publishedDate": "1965", "publisher": "Chilton Books", "description": "d", "pageCount": 300,
            "imageLinks": {"thumbnail": "http://books.google.com/x"}}}));
        let c = only(&wanted, sequel);
        assert_eq!(c.score, 40, "{c:?}");
        assert!(c.score < GOOD_ENOUGH);
        // Nothing at all matching scores nothing.
        let c = only(&wanted, titled("z", "Cooking for One", None));
        assert_eq!(c.score, 0);
    }

    #[test]
    fn a_french_edition_first_does_not_win_an_english_search() {
        let wanted = Wanted {
            title: Some("Dune".into()),
            author: Some("Frank Herbert".into()),
            lang: Some("en".into()),
            ..Wanted::default()
        };
        let volumes = fixture("dune_fr_first.json");
        assert_eq!(volumes[0].info.language.as_deref(), Some("fr"));
        let ranked = rank(&wanted, volumes);
        let ids: Vec<&str> = ranked.iter().map(|c| c.volume.id.as_str()).collect();
        // The two ids of the Ace edition share an ISBN and are one candidate;
        // the others tie at 40 and go by completeness.
        assert_eq!(
            ids,
            [
                "enDuneAce01J",
                "frDune01AAAJ",
                "messiahDuAAJ",
                "prequelDuAAJ",
                "guideDune0AJ"
            ]
        );
        let english = &ranked[0];
        assert_eq!(english.score, 100);
        assert_eq!(
            english.reasons,
            [
                "title matches",
                "author Herbert matches",
                "language en",
                "has cover",
                "has description",
                "896 pages"
            ]
        );
        let french = &ranked[1];
        assert_eq!(french.score, 40);
        assert_eq!(
            french.reasons[..3],
            ["title matches", "author Herbert missing", "language fr, not en"]
        );
        let prequel = &ranked[3];
        assert_eq!(
            prequel.reasons[..2],
            ["title similar (0.90)", "author Brian Herbert, not Frank Herbert"]
        );
        assert_eq!(prequel.score, 40);
        // The study guide names Herbert in its title, not among its authors.
        let guide = &ranked[4];
        assert_eq!(guide.score, 0);
        assert!(ranked[1..].iter().all(|c| c.score < GOOD_ENOUGH));
    }

    #[test]
    fn a_carried_isbn_beats_a_better_title() {
        let wanted = Wanted {
            title: Some("Dune".into()),
            isbn: Some(isbn("9780441013593")),
            ..Wanted::default()
        };
        // Google's search and detail records can disagree on the title.
        let carrier = volume(json!({"id": "c", "volumeInfo": {"title": "Dune (Tome 1)",
            "subtitle": "Special anniversary", "industryIdentifiers": [{"type": "ISBN_10", "identifier": "0441013597"}]}}));
        let mislabelled = volume(json!({"id": "m", "volumeInfo": {"title": "Children of Dune",
            "industryIdentifiers": [{"type": "ISBN_13", "identifier": "9780441013593"}]}}));
        let other = volume(
            json!({"id": "o", "volumeInfo": {"title": "Dune", "description": "d",
            "pageCount": 9, "imageLinks": {"thumbnail": "http://x"},
            "industryIdentifiers": [{"type": "ISBN_13", "identifier": "9780593099322"}]}}),
        );
        let ranked = rank(&wanted, vec![other, mislabelled, carrier]);
        let ids: Vec<&str> = ranked.iter().map(|c| c.volume.id.as_str()).collect();
        assert_eq!(ids, ["c", "o"], "the two carriers are one edition");
        assert_eq!(ranked[0].reasons[0], "ISBN matches");
        assert!(ranked[0].score >= 80);
        assert_eq!(ranked[1].reasons[0], "ISBN differs");
        assert_eq!(ranked[1].score, 100);
        // A carrier whose title contradicts still ranks first, at 80.
        let mislabelled = volume(json!({"id": "m", "volumeInfo": {"title": "Children of Dune",
            "industryIdentifiers": [{"type": "ISBN_13", "identifier": "9780441013593"}]}}));
        let other = volume(json!({"id": "o", "volumeInfo": {"title": "Dune"}}));
        let ranked = rank(&wanted, vec![other, mislabelled]);
        assert_eq!((ranked[0].volume.id.as_str(), ranked[0].score), ("m", 80));
        assert_eq!(ranked[1].reasons[..2], ["no ISBN listed", "title matches"]);
    }

    #[test]
    fn duplicates_are_merged_keeping_the_fuller_record() {
        let wanted = wanted_title("Dune");
        let bare = volume(json!({"id": "a", "volumeInfo": {"title": "Dune"}}));
        let ranked = rank(&wanted, vec![bare.clone(), bare]);
        assert_eq!(ranked.len(), 1);

        // Same ISBN, in another form, under two ids.
        let thin = volume(json!({"id": "thin", "volumeInfo": {"title": "Dune",
            "industryIdentifiers": [{"type": "ISBN_10", "identifier": "0441013597"}]}}));
        let full = volume(
            json!({"id": "full", "volumeInfo": {"title": "Dune", "pageCount": 896,
            "imageLinks": {"thumbnail": "http://x"},
            "industryIdentifiers": [{"type": "ISBN_13", "identifier": "9780441013593"}]}}),
        );
        let unrelated = titled("u", "Dune", None);
        let ranked = rank(&wanted, vec![thin, unrelated, full]);
        let ids: Vec<&str> = ranked.iter().map(|c| c.volume.id.as_str()).collect();
        assert_eq!(ids, ["full", "u"]);

        // No ISBN, same title, authors, publisher and year, written differently.
        let one = volume(
            json!({"id": "1", "volumeInfo": {"title": "Les Misérables", "authors": ["Victor Hugo"],
            "publisher": "Gallimard", "publishedDate": "1995"}}),
        );
        let two = volume(
            json!({"id": "2", "volumeInfo": {"title": "LES MISERABLES", "authors": ["victor hugo"],
            "publisher": "Gallimard", "publishedDate": "1995-03-01", "description": "d"}}),
        );
        let later = volume(
            json!({"id": "3", "volumeInfo": {"title": "Les Misérables", "authors": ["Victor Hugo"],
            "publisher": "Gallimard", "publishedDate": "1999"}}),
        );
        let ranked = rank(&wanted_title("Les Misérables"), vec![one, two, later]);
        let ids: Vec<&str> = ranked.iter().map(|c| c.volume.id.as_str()).collect();
        assert_eq!(ids, ["2", "3"]);
    }

    #[test]
    fn ties_keep_googles_order_and_reasons_cover_every_criterion() {
        let wanted = Wanted {
            title: Some("Dune".into()),
            author: Some("F. Herbert".into()),
            lang: Some("EN-gb".into()),
            year: Some(2005),
            publisher: Some("Ace".into()),
            ..Wanted::default()
        };
        let a = volume(
            json!({"id": "a", "volumeInfo": {"title": "Dune", "authors": ["Frank Herbert"],
            "language": "en", "publishedDate": "2006-08-01", "publisher": "Ace Books"}}),
        );
        let b = volume(
            json!({"id": "b", "volumeInfo": {"title": "Dune", "authors": ["Frank Herbert"],
            "language": "en", "publishedDate": "2006", "publisher": "Ace"}}),
        );
        let c = only(&wanted, a.clone());
        assert_eq!(
            c.reasons,
            [
                "title matches",
                "author Herbert matches",
                "language en",
                "year 2006, one off",
                "publisher Ace matches"
            ]
        );
        // (40 + 30 + 15 + 5 + 5) / 100 × 90
        assert_eq!(c.score, 86);
        let ranked = rank(&wanted, vec![b.clone(), a.clone()]);
        assert_eq!(ranked[0].volume.id, "b");
        let ranked = rank(&wanted, vec![a, b]);
        assert_eq!(ranked[0].volume.id, "a");
        let none = only(&wanted, volume(json!({"id": "n"})));
        assert_eq!(
            none.reasons,
            [
                "title differs (0.00)",
                "author unknown",
                "language unknown",
                "year unknown",
                "publisher not Ace"
            ]
        );
        assert_eq!(none.score, 0);
    }

    #[test]
    fn nothing_asked_ranks_by_completeness() {
        let bare = volume(json!({"id": "bare"}));
        let covered =
            volume(json!({"id": "covered", "volumeInfo": {"imageLinks": {"thumbnail": "http://x"}}}));
        let ranked = rank(&Wanted::default(), vec![bare, covered]);
        assert_eq!(ranked[0].volume.id, "covered");
        assert_eq!((ranked[0].score, ranked[1].score), (4, 0));
    }

    proptest::proptest! {
        #[test]
        fn any_text_ranks_and_queries_without_panic(
            title in "\\PC{0,30}", author in "\\PC{0,20}", theirs in "\\PC{0,30}", names in "\\PC{0,20}",
            year in proptest::option::of(0u16..3000), date in "[0-9-]{0,10}",
        ) {
            let wanted = Wanted {
                title: Some(title.clone()),
                author: Some(author.clone()),
                lang: Some(names.clone()),
                publisher: Some(names.clone()),
                year,
                isbn: None,
            };
            let v = volume(json!({"id": "x", "volumeInfo": {"title": theirs, "subtitle": names,
                "authors": [names, author], "publishedDate": date, "publisher": theirs, "language": title}}));
            let ranked = rank(&wanted, vec![v.clone(), v]);
            proptest::prop_assert_eq!(ranked.len(), 1);
            proptest::prop_assert!(ranked[0].score <= 100);
            let _ = queries(&wanted);
        }
    }
}
