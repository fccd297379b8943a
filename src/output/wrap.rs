//! Text for `show`: values wrapped at word boundaries under a hanging
//! indent, and one way to join a list.
//!
//! Widths are [`super::width::width`], not textwrap's: textwrap 0.16 sums
//! `UnicodeWidthChar` per code point, which gets lam-alef right but counts
//! ❤️ as 1 where kitty draws 2, and it would be a dependency for 80 lines.

use super::width::{split_at_width, width};

/// How authors and categories are joined everywhere (table, `show`, CSV).
///
/// Not ", ": names carry commas ("Tolkien, J. R. R.", "King, Jr."), and so
/// do categories ("Body, Mind & Spirit"); Google's categories also use " / "
/// for their hierarchy ("Fiction / Science Fiction / General"). A semicolon
/// appears in neither, so the items stay readable and can be split again.
pub const LIST_SEPARATOR: &str = "; ";

/// `items` trimmed, without empty ones, joined by [`LIST_SEPARATOR`].
pub fn join_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| i.trim())
        .filter(|i| !i.is_empty())
        .collect::<Vec<_>>()
        .join(LIST_SEPARATOR)
}

/// Below this many cells beside the label, the value goes under it instead.
const MIN_VALUE: usize = 16;

/// A `label` (as shown, e.g. `"Title:"`) padded to `label_width`, a space,
/// then `value` wrapped to `width` cells with later lines lined up under its
/// first; every line ends in `\n`.
///
/// Paragraphs in `value` (blank lines) stay apart by one blank line, single
/// line breaks stay. A word longer than a line is broken, except a URL,
/// which goes whole on a line of its own: broken, it could not be clicked or
/// copied, and the terminal's own soft wrap keeps it one link. `usize::MAX`
/// as `width` never wraps (piped output). On a very narrow terminal the
/// value starts on the line after the label, not indented.
pub fn labelled(label_width: usize, label: &str, value: &str, width: usize) -> String {
    let indent = label_width.max(self::width(label)).saturating_add(1);
    let head = super::width::pad(label, label_width);
    let lines = value_lines(value);
    if lines.is_empty() {
        return format!("{}\n", head.trim_end());
    }
    if width.saturating_sub(indent) < MIN_VALUE {
        return format!("{}\n{}", head.trim_end(), render(&lines, 0, width));
    }
    let body = render(&lines, indent, width);
    // The first line's indent is where the label goes.
    format!("{head} {}", body.get(indent..).unwrap_or(&body))
}

/// `text` wrapped to `width` cells, every line indented by `indent` spaces;
/// paragraphs as in [`labelled`]. Empty text gives "".
pub fn paragraphs(text: &str, indent: usize, width: usize) -> String {
    render(&value_lines(text), indent, width)
}

/// The non-blank lines of `text`, with `None` for one blank line between
/// paragraphs (none at the ends).
fn value_lines(text: &str) -> Vec<Option<&str>> {
    let mut lines = Vec::new();
    for line in text.lines().map(str::trim) {
        if !line.is_empty() {
            lines.push(Some(line));
        } else if matches!(lines.last(), Some(Some(_))) {
            lines.push(None);
        }
    }
    if lines.last() == Some(&None) {
        lines.pop();
    }
    lines
}

fn render(lines: &[Option<&str>], indent: usize, width: usize) -> String {
    // Widths below 2 could not hold a wide character.
    let room = width.saturating_sub(indent).max(2);
    let margin = " ".repeat(indent);
    let mut out = String::new();
    for line in lines {
        match line {
            None => out.push('\n'),
            Some(line) => {
                for piece in wrap_line(line, room) {
                    out.push_str(&margin);
                    out.push_str(&piece);
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// Spaces a line may break at; no-break spaces are not among them.
fn is_break(c: char) -> bool {
    c.is_whitespace() && !matches!(c, '\u{A0}' | '\u{2007}' | '\u{202F}')
}

fn is_url(word: &str) -> bool {
    word.starts_with("https://") || word.starts_with("http://")
}

/// One line of text as lines of at most `room` cells (a URL excepted).
fn wrap_line(line: &str, room: usize) -> Vec<String> {
    if width(line) <= room {
        return vec![line.to_string()];
    }
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for word in line.split(is_break).filter(|w| !w.is_empty()) {
        let w = width(word);
        if !current.is_empty() && used + 1 + w <= room {
            current.push(' ');
            current.push_str(word);
            used += 1 + w;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
            used = 0;
        }
        if w <= room || is_url(word) {
            current.push_str(word);
            used = w;
            continue;
        }
        let mut pieces = break_word(word, room);
        if let Some(last) = pieces.pop() {
            lines.extend(pieces);
            used = width(&last);
            current = last;
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// A word cut into pieces of at most `room` cells (one character wider than
/// that stays whole); marks stay with their base character.
fn break_word(word: &str, room: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = word;
    while !rest.is_empty() {
        // At least one character and its marks, however wide.
        let Some((piece, tail)) = (room..)
            .map(|max| split_at_width(rest, max))
            .find(|(piece, _)| !piece.is_empty())
        else {
            break;
        };
        pieces.push(piece.to_string());
        rest = tail;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn value_lines_up_under_itself() {
        let text = labelled(
            11,
            "Title:",
            "The Left Hand of Darkness and other stories of the Hainish cycle",
            40,
        );
        assert_eq!(
            text,
            "Title:      The Left Hand of Darkness\n\
             \x20           and other stories of the\n\
             \x20           Hainish cycle\n"
        );
    }

    #[test]
    fn short_values_are_one_line() {
        assert_eq!(labelled(11, "Pages:", "320", 80), "Pages:      320\n");
        assert_eq!(labelled(11, "Pages:", "", 80), "Pages:\n");
        assert_eq!(labelled(3, "Published:", "1969", 80), "Published: 1969\n");
    }

    #[test]
    fn paragraphs_keep_one_blank_line() {
        let value = "\n\nFirst paragraph that is long enough to wrap.\n\n\n\nSecond.\nSame paragraph.\n\n";
        assert_eq!(
            labelled(5, "Text:", value, 30),
            "Text: First paragraph that is\n      long enough to wrap.\n\n      Second.\n      Same paragraph.\n"
        );
        assert_eq!(
            paragraphs(value, 0, 80),
            "First paragraph that is long enough to wrap.\n\nSecond.\nSame paragraph.\n"
        );
        assert_eq!(paragraphs("", 2, 80), "");
    }

    #[test]
    fn long_words_are_broken_and_urls_are_not() {
        assert_eq!(
            paragraphs("abcdefghij klm", 2, 6),
            "  abcd\n  efgh\n  ij\n  klm\n"
        );
        let url = "https://books.google.com/books?id=zyTCAlFPjgYC&printsec=frontcover";
        assert_eq!(labelled(11, "Preview:", url, 40), format!("Preview:    {url}\n"));
        assert_eq!(
            paragraphs(&format!("see {url} now"), 0, 40),
            format!("see\n{url}\nnow\n")
        );
    }

    #[test]
    fn wide_text_wraps_by_cells() {
        // 10 ideographs, 20 cells, no spaces: broken every 4 ideographs.
        let text = "日本語の本を読みました";
        assert_eq!(paragraphs(text, 0, 8), "日本語の\n本を読み\nました\n");
        // Lam-alef is 2 cells, as the terminal draws it.
        assert_eq!(paragraphs("لا لا لا", 0, 5), "لا لا\nلا\n");
        assert_eq!(
            paragraphs("e\u{301}e\u{301}e\u{301}", 0, 2),
            "e\u{301}e\u{301}\ne\u{301}\n"
        );
    }

    #[test]
    fn no_break_spaces_hold() {
        assert_eq!(paragraphs("aaa 10\u{A0}km bbb", 0, 7), "aaa\n10\u{A0}km\nbbb\n");
    }

    #[test]
    fn narrow_terminals_put_the_value_below() {
        assert_eq!(
            labelled(11, "Title:", "A title of some length", 20),
            "Title:\nA title of some\nlength\n"
        );
    }

    #[test]
    fn piped_values_are_not_wrapped() {
        let long = "word ".repeat(100);
        let text = labelled(11, "Title:", &long, usize::MAX);
        assert_eq!(text, format!("Title:      {}\n", long.trim()));
    }

    #[test]
    fn lists_join_with_semicolons() {
        let items = vec![
            "Fiction / Science Fiction / General".to_string(),
            " Body, Mind & Spirit ".into(),
            "".into(),
        ];
        assert_eq!(
            join_list(&items),
            "Fiction / Science Fiction / General; Body, Mind & Spirit"
        );
        assert_eq!(join_list(&[]), "");
    }

    fn text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("日本語の本".to_string()),
            Just("لا".to_string()),
            Just("لآ".to_string()),
            Just("سلام".to_string()),
            Just("עברית".to_string()),
            Just("👨\u{200D}👩\u{200D}👧".to_string()),
            Just("❤\u{FE0F}".to_string()),
            Just("🇫🇷".to_string()),
            Just("e\u{301}".to_string()),
            Just(" ".to_string()),
            Just("\n".to_string()),
            Just("\n\n".to_string()),
            "[a-z]{1,15}",
        ];
        prop::collection::vec(piece, 0..40).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn wrapped_lines_never_overflow(
            value in text(),
            label_width in 0usize..14,
            width in 2usize..=200,
        ) {
            let out = labelled(label_width, "Label:", &value, width);
            prop_assert!(out.ends_with('\n'));
            for line in out.lines() {
                prop_assert!(super::width(line) <= width.max(6), "{:?}", line);
                prop_assert!(!line.ends_with(' '), "{:?}", line);
            }
            // Nothing is lost: the same words in the same order.
            let words = |s: &str| s.split(is_break).filter(|w| !w.is_empty()).map(str::to_string).collect::<String>();
            let body = out.strip_prefix("Label:").unwrap_or(&out);
            prop_assert_eq!(words(body), words(&value));
        }
    }
}
