//! Building the `q` parameter and encoding query strings.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986's unreserved characters is encoded, so `+`, `&`,
/// `#` and quotes reach the server as typed, and a space as `%20`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// `name=value&…`, each part encoded.
pub fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Restricts a search by viewability or ebook availability (`filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Partial,
    Full,
    FreeEbooks,
    PaidEbooks,
    Ebooks,
}

/// Books, magazines or both (`printType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintType {
    All,
    Books,
    Magazines,
}

/// The order of search results (`orderBy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Relevance,
    Newest,
}

/// Only volumes with this download format (`download`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Download {
    Epub,
}

/// How much of each volume the API returns (`projection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    Full,
    Lite,
}

impl Filter {
    pub fn as_str(self) -> &'static str {
        match self {
            Filter::Partial => "partial",
            Filter::Full => "full",
            Filter::FreeEbooks => "free-ebooks",
            Filter::PaidEbooks => "paid-ebooks",
            Filter::Ebooks => "ebooks",
        }
    }
}

impl PrintType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrintType::All => "all",
            PrintType::Books => "books",
            PrintType::Magazines => "magazines",
        }
    }
}

impl Order {
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Relevance => "relevance",
            Order::Newest => "newest",
        }
    }
}

impl Download {
    pub fn as_str(self) -> &'static str {
        match self {
            Download::Epub => "epub",
        }
    }
}

impl Projection {
    pub fn as_str(self) -> &'static str {
        match self {
            Projection::Full => "full",
            Projection::Lite => "lite",
        }
    }
}

/// The search terms a user gave: free words and field-restricted values.
#[derive(Debug, Default, Clone)]
pub struct Terms {
    pub words: Vec<String>,
    pub fields: Vec<(Field, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Title,
    Author,
    Publisher,
    Subject,
    Isbn,
    Lccn,
    Oclc,
}

impl Field {
    pub fn prefix(self) -> &'static str {
        match self {
            Field::Title => "intitle:",
            Field::Author => "inauthor:",
            Field::Publisher => "inpublisher:",
            Field::Subject => "subject:",
            Field::Isbn => "isbn:",
            Field::Lccn => "lccn:",
            Field::Oclc => "oclc:",
        }
    }
}

impl Terms {
    /// The `q` value, or `None` when nothing was asked for.
    pub fn to_q(&self) -> Option<String> {
        let mut parts: Vec<String> = self
            .words
            .iter()
            .map(|w| w.trim())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        for (field, value) in &self.fields {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let value = if value.chars().any(char::is_whitespace) && !value.starts_with('"') {
                format!("\"{value}\"")
            } else {
                value.to_string()
            };
            parts.push(format!("{}{}", field.prefix(), value));
        }
        let q = parts.join(" ");
        (!q.is_empty()).then_some(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_words_and_fields() {
        let t = Terms {
            words: vec!["dune".into(), "messiah".into()],
            fields: vec![
                (Field::Author, "Frank Herbert".into()),
                (Field::Isbn, "9780441013593".into()),
            ],
        };
        assert_eq!(
            t.to_q().unwrap(),
            r#"dune messiah inauthor:"Frank Herbert" isbn:9780441013593"#
        );
    }

    #[test]
    fn empty_is_none() {
        let t = Terms {
            words: vec!["  ".into()],
            fields: vec![(Field::Title, " ".into())],
        };
        assert_eq!(t.to_q(), None);
    }

    #[test]
    fn encodes_everything_reserved() {
        assert_eq!(encode("C++ & Rust #1"), "C%2B%2B%20%26%20Rust%20%231");
        assert_eq!(encode("Cien años \"x\""), "Cien%20a%C3%B1os%20%22x%22");
        assert_eq!(encode_pairs([("q", "a=b"), ("x", "-._~")]), "q=a%3Db&x=-._~");
    }

    proptest::proptest! {
        #[test]
        fn encoding_round_trips(text in "\\PC*") {
            let encoded = encode(&text);
            proptest::prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
            let decoded = percent_encoding::percent_decode_str(&encoded).decode_utf8().unwrap();
            proptest::prop_assert_eq!(decoded, text);
        }

        #[test]
        fn field_values_survive_quoting(words in proptest::collection::vec("[^\"\\s]{1,8}", 1..4)) {
            let value = words.join(" ");
            let q = Terms { words: vec![], fields: vec![(Field::Title, value.clone())] }.to_q().unwrap();
            if words.len() > 1 {
                proptest::prop_assert_eq!(q, format!("intitle:\"{value}\""));
            } else {
                proptest::prop_assert_eq!(q, format!("intitle:{value}"));
            }
        }
    }
}
