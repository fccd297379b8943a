//! ISBNs as people write them: with hyphens, spaces, an `ISBN` label or a
//! lower-case `x`, checked before anything is sent.

use crate::books::Volume;

/// A valid ISBN-10 or ISBN-13: digits only, with an upper-case `X` check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Isbn(String);

/// Why a line is not an ISBN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidIsbn {
    #[error("not an ISBN: expected 10 or 13 digits, got {0}")]
    Length(usize),
    #[error("not an ISBN: unexpected character {0:?}")]
    Character(char),
    #[error("not an ISBN: X can only be the last character of an ISBN-10")]
    MisplacedX,
    #[error("not an ISBN: an ISBN-13 starts with 978 or 979")]
    Prefix,
    #[error("invalid ISBN-{kind}: the check digit should be {expected}")]
    Checksum { kind: u8, expected: char },
}

impl Isbn {
    /// Normalises and validates one ISBN: surrounding text such as `ISBN`,
    /// `ISBN-13:`, hyphens and spaces are dropped, then the check digit is verified.
    pub fn parse(text: &str) -> Result<Isbn, InvalidIsbn> {
        let text = strip_label(text.trim());
        let mut chars = Vec::with_capacity(13);
        for c in text.chars() {
            match c {
                '-' | '\u{2010}' | '\u{2011}' | '\u{2013}' => {}
                c if c.is_whitespace() => {}
                '0'..='9' => chars.push(c),
                'x' | 'X' => chars.push('X'),
                other => return Err(InvalidIsbn::Character(other)),
            }
        }
        let digits: String = chars.iter().collect();
        match chars.len() {
            10 => {
                if chars[..9].contains(&'X') {
                    return Err(InvalidIsbn::MisplacedX);
                }
                let expected = isbn10_check(&digits[..9]);
                if chars[9] != expected {
                    return Err(InvalidIsbn::Checksum { kind: 10, expected });
                }
            }
            13 => {
                if chars.contains(&'X') {
                    return Err(InvalidIsbn::MisplacedX);
                }
                if !(digits.starts_with("978") || digits.starts_with("979")) {
                    return Err(InvalidIsbn::Prefix);
                }
                let expected = isbn13_check(&digits[..12]);
                if chars[12] != expected {
                    return Err(InvalidIsbn::Checksum { kind: 13, expected });
                }
            }
            n => return Err(InvalidIsbn::Length(n)),
        }
        Ok(Isbn(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ISBN-13 form: an ISBN-10 gains the 978 prefix and a new check digit.
    pub fn to_isbn13(&self) -> String {
        if self.0.len() == 13 {
            return self.0.clone();
        }
        let body = format!("978{}", &self.0[..9]);
        let check = isbn13_check(&body);
        format!("{body}{check}")
    }

    /// The ISBN-10 form: a 978 ISBN-13 loses its prefix and gains a new
    /// check digit; 979 numbers have none.
    pub fn to_isbn10(&self) -> Option<String> {
        if self.0.len() == 10 {
            return Some(self.0.clone());
        }
        let body = self.0.strip_prefix("978")?.get(..9)?;
        Some(format!("{body}{}", isbn10_check(body)))
    }

    /// Whether a volume carries this ISBN, in either form.
    pub fn matches(&self, volume: &Volume) -> bool {
        let mine = self.to_isbn13();
        volume
            .info
            .industry_identifiers
            .iter()
            .filter(|i| i.kind.starts_with("ISBN"))
            .filter_map(|i| Isbn::parse(&i.identifier).ok())
            .any(|theirs| theirs.to_isbn13() == mine)
    }
}

impl std::fmt::Display for Isbn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `ISBN 0-441-…`, `ISBN-13: 978-…`, `isbn:978…` → the number part.
fn strip_label(text: &str) -> &str {
    let Some(head) = text.get(..4) else {
        return text;
    };
    if !head.eq_ignore_ascii_case("isbn") {
        return text;
    }
    let mut rest = &text[4..];
    for label in ["-13", "-10", "13", "10"] {
        if let Some(r) = rest.strip_prefix(label) {
            // `ISBN 10…` could be the start of the number itself.
            if r.starts_with([':', ' ']) || label.starts_with('-') {
                rest = r;
                break;
            }
        }
    }
    rest.trim_start().trim_start_matches(':')
}

fn isbn10_check(first9: &str) -> char {
    let sum: u32 = first9
        .bytes()
        .enumerate()
        .map(|(i, b)| (10 - i as u32) * u32::from(b - b'0'))
        .sum();
    match (11 - sum % 11) % 11 {
        10 => 'X',
        d => char::from(b'0' + d as u8),
    }
}

fn isbn13_check(first12: &str) -> char {
    let sum: u32 = first12
        .bytes()
        .enumerate()
        .map(|(i, b)| if i % 2 == 0 { 1 } else { 3 } * u32::from(b - b'0'))
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// One line of input as the user gave it, after blank lines and comments are
/// dropped: its text (without the comment) and what it parsed to.
#[derive(Debug, Clone)]
pub struct Line {
    pub input: String,
    pub isbn: Result<Isbn, InvalidIsbn>,
}

/// The lines worth looking up: blank lines and `#` comments are skipped,
/// and so is a comment after an ISBN (`978… # Dune`).
pub fn lines<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<Line> {
    each_line(texts).collect()
}

/// The same, one at a time, for inputs too long to hold twice.
pub fn each_line<'a, I>(texts: I) -> impl Iterator<Item = Line> + use<'a, I>
where
    I: IntoIterator<Item = &'a str>,
{
    texts.into_iter().filter_map(|text| {
        let text = text.split('#').next().unwrap_or("").trim();
        (!text.is_empty()).then(|| Line {
            input: text.to_string(),
            isbn: Isbn::parse(text),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> String {
        Isbn::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .to_string()
    }

    #[test]
    fn accepts_real_isbns_in_the_ways_people_write_them() {
        // Dune (Ace, 2005), The Art of Computer Programming vol. 1, SICP.
        assert_eq!(ok("978-0-441-01359-3"), "9780441013593");
        assert_eq!(ok("0441013597"), "0441013597");
        assert_eq!(ok("0 201 89683 4"), "0201896834");
        assert_eq!(ok("ISBN 0-262-51087-1"), "0262510871");
        assert_eq!(ok("ISBN-13: 978-0-262-51087-5"), "9780262510875");
        assert_eq!(ok("isbn:9780262510875"), "9780262510875");
        // A check digit X, in either case, and a 979 prefix.
        assert_eq!(ok("0-8044-2957-X"), "080442957X");
        assert_eq!(ok("080442957x"), "080442957X");
        assert_eq!(ok("979-10-90636-07-1"), "9791090636071");
    }

    #[test]
    fn rejects_bad_checksums_and_shapes() {
        assert_eq!(
            Isbn::parse("9780441013594"),
            Err(InvalidIsbn::Checksum {
                kind: 13,
                expected: '3'
            })
        );
        assert_eq!(
            Isbn::parse("0441013596"),
            Err(InvalidIsbn::Checksum {
                kind: 10,
                expected: '7'
            })
        );
        assert_eq!(
            Isbn::parse("0804429571"),
            Err(InvalidIsbn::Checksum {
                kind: 10,
                expected: 'X'
            })
        );
        assert_eq!(Isbn::parse("12345"), Err(InvalidIsbn::Length(5)));
        assert_eq!(Isbn::parse("97804410135"), Err(InvalidIsbn::Length(11)));
        assert_eq!(Isbn::parse("97804410X3593"), Err(InvalidIsbn::MisplacedX));
        assert_eq!(Isbn::parse("X441013597"), Err(InvalidIsbn::MisplacedX));
        assert_eq!(Isbn::parse("978044101359a"), Err(InvalidIsbn::Character('a')));
        // A valid EAN-13 that is not a book.
        assert_eq!(Isbn::parse("4006381333931"), Err(InvalidIsbn::Prefix));
        assert_eq!(Isbn::parse(""), Err(InvalidIsbn::Length(0)));
    }

    #[test]
    fn converts_isbn10_to_isbn13() {
        assert_eq!(Isbn::parse("0441013597").unwrap().to_isbn13(), "9780441013593");
        assert_eq!(Isbn::parse("080442957X").unwrap().to_isbn13(), "9780804429573");
        assert_eq!(Isbn::parse("9780441013593").unwrap().to_isbn13(), "9780441013593");
    }

    #[test]
    fn skips_blank_lines_and_comments() {
        let got = lines(["# my list", "", "  978-0-441-01359-3  # Dune", "\t", "bogus\r"]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].input, "978-0-441-01359-3");
        assert_eq!(got[0].isbn.as_ref().unwrap().as_str(), "9780441013593");
        assert_eq!(got[1].input, "bogus");
        assert!(got[1].isbn.is_err());
    }

    #[test]
    fn matches_a_volume_by_either_form() {
        let v = Volume::from_value(serde_json::json!({
            "id": "x",
            "volumeInfo": {"industryIdentifiers": [
                {"type": "ISBN_10", "identifier": "0441013597"},
                {"type": "OTHER", "identifier": "UOM:39015"}
            ]}
        }))
        .unwrap();
        assert!(Isbn::parse("9780441013593").unwrap().matches(&v));
        assert!(Isbn::parse("0441013597").unwrap().matches(&v));
        assert!(!Isbn::parse("9780262510875").unwrap().matches(&v));
    }

    proptest::proptest! {
        /// Any nine digits with their computed check digit are accepted, in
        /// any of the ways people write them, and every single-digit change
        /// of a valid ISBN-10 is caught by the checksum.
        #[test]
        fn isbn10_round_trips_and_catches_typos(digits in "[0-9]{9}", pos in 0usize..10, bump in 1u32..10) {
            let isbn = format!("{digits}{}", isbn10_check(&digits));
            proptest::prop_assert_eq!(ok(&isbn), isbn.clone());
            let hyphenated = format!("{}-{}-{} {}", &isbn[..1], &isbn[1..5], &isbn[5..9], &isbn[9..]);
            proptest::prop_assert_eq!(ok(&hyphenated), isbn.clone());
            proptest::prop_assert_eq!(ok(&format!("ISBN {}", isbn.to_lowercase())), isbn.clone());
            let mut chars: Vec<char> = isbn.chars().collect();
            if let Some(d) = chars[pos].to_digit(10) {
                chars[pos] = char::from_digit((d + bump) % 10, 10).unwrap();
                let typo: String = chars.into_iter().collect();
                proptest::prop_assert!(Isbn::parse(&typo).is_err(), "{typo} passed");
            }
        }

        #[test]
        fn isbn13_round_trips_and_agrees_with_isbn10(digits in "97[89][0-9]{9}") {
            let isbn = format!("{digits}{}", isbn13_check(&digits));
            proptest::prop_assert_eq!(ok(&isbn), isbn.clone());
            if digits.starts_with("978") {
                let ten = format!("{}{}", &digits[3..12], isbn10_check(&digits[3..12]));
                proptest::prop_assert_eq!(Isbn::parse(&ten).unwrap().to_isbn13(), isbn);
            }
        }

        #[test]
        fn any_text_is_parsed_or_refused_without_panic(text in "\\PC{0,20}|[0-9Xx -]{0,16}") {
            if let Ok(isbn) = Isbn::parse(&text) {
                proptest::prop_assert!(matches!(isbn.as_str().len(), 10 | 13));
                proptest::prop_assert_eq!(Isbn::parse(isbn.as_str()).unwrap(), isbn);
            }
        }
    }
}
