//! Text from the API is untrusted: a title can carry an escape sequence or a
//! bidirectional override that rewrites what the terminal shows.

/// Removes control characters and bidi overrides; newlines and tabs become spaces.
pub fn terminal_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().map(windows_1252) {
        if c == '\n' || c == '\t' || c == '\r' {
            out.push(' ');
        } else if !is_unsafe(c) {
            out.push(c);
        }
    }
    out
}

/// Like [`terminal_line`] but keeps line breaks, for multi-line descriptions.
pub fn terminal_text(text: &str) -> String {
    text.chars()
        .map(windows_1252)
        .filter_map(|c| match c {
            '\n' => Some('\n'),
            '\t' => Some(' '),
            c if is_unsafe(c) => None,
            c => Some(c),
        })
        .collect()
}

/// A C1 character (U+0080–U+009F) as the Windows-1252 character whose byte
/// it is: Google sends dashes and quotes mis-decoded that way. The five
/// bytes that Windows-1252 leaves undefined stay C1, and are dropped.
fn windows_1252(c: char) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
        '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
    ];
    match c {
        '\u{80}'..='\u{9f}' => HIGH[c as usize - 0x80],
        c => c,
    }
}

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200E}' | '\u{200F}' | '\u{061C}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}')
}

/// Turns an HTML description into plain text: tags go, block tags become line
/// breaks, and the common entities are decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..lt]));
        let after = &rest[lt..];
        let Some(gt) = after.find('>') else {
            // A lone '<' is text, not a tag.
            out.push_str(&decode_entities(after));
            rest = "";
            break;
        };
        let tag = after[1..gt].trim_start_matches('/').to_ascii_lowercase();
        let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        match name.as_str() {
            "br" => out.push('\n'),
            "p" | "div" | "li" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4" | "blockquote"
                if !out.is_empty() && !out.ends_with("\n\n") =>
            {
                out.push_str(if out.ends_with('\n') { "\n" } else { "\n\n" });
            }
            _ => {}
        }
        rest = &after[gt + 1..];
    }
    out.push_str(&decode_entities(rest));
    // Collapse the blank lines that nested block tags leave behind.
    let mut text = String::new();
    let mut blank = 0;
    for line in out.lines() {
        let line = line.trim();
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !text.is_empty() {
            text.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        text.push_str(line);
    }
    text
}

/// Every HTML5 entity, named or numeric, in one linear pass (htmlize);
/// a no-break space becomes a plain one, for wrapping.
fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    htmlize::unescape(text).replace('\u{a0}', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escapes_and_bidi() {
        assert_eq!(terminal_line("a\x1b[31mred\u{202E}x\ny"), "a[31mredx y");
        assert_eq!(terminal_text("a\nb\x07"), "a\nb");
    }

    #[test]
    fn c1_characters_are_what_windows_1252_meant() {
        assert_eq!(
            terminal_line("a\u{97}b \u{92}s \u{93}q\u{94} \u{85}\u{81}"),
            "a—b ’s “q” …"
        );
        assert_eq!(terminal_text("\u{96}\n\u{9b}31m"), "–\n›31m");
    }

    #[test]
    fn named_entities_decode_and_many_ampersands_are_linear() {
        assert_eq!(html_to_text("a&mdash;b &rsquo;s &hellip; &eacute;"), "a—b ’s … é");
        let many = "&".repeat(1_000_000);
        let start = std::time::Instant::now();
        assert_eq!(html_to_text(&many).len(), 1_000_000);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn html_becomes_text() {
        let html = "<p><b>Bold</b> &amp; <i>it</i></p><p>Second&nbsp;para<br>line &#8212; &#x41;</p>";
        assert_eq!(html_to_text(html), "Bold & it\n\nSecond para\nline — A");
        assert_eq!(html_to_text("1 < 2 & 3"), "1 < 2 & 3");
    }

    proptest::proptest! {
        #[test]
        fn terminal_text_has_no_controls(text in "\\PC*|[\\x00-\\x1f\\x7f\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}a-z]*") {
            let line = terminal_line(&text);
            proptest::prop_assert!(!line.chars().any(is_unsafe));
            proptest::prop_assert!(!terminal_text(&text).chars().any(|c| c != '\n' && is_unsafe(c)));
        }

        #[test]
        fn html_to_text_never_panics(html in "[<>&;#a-z0-9/ ]{0,60}") {
            let _ = html_to_text(&html);
        }

        #[test]
        fn html_to_text_never_panics_on_any_text(html in "(?s)([<>&;#xX/]|&#[0-9]{1,8};|&#x[0-9a-fA-F]{1,8};|.){0,60}") {
            let text = html_to_text(&html);
            let _ = terminal_text(&text);
        }
    }
}
