//! Width as terminals draw it, and tables laid out by it.
//!
//! `UnicodeWidthStr::width` treats some sequences as ligatures (an Arabic
//! lam-alef is 1 cell, an emoji ZWJ family 2), but xterm, VTE and most
//! terminals give every code point its own `wcwidth` cells, so a row measured
//! that way comes out wider than measured and wraps. Here a string is as wide
//! as the sum of its code points, raised wherever some common terminal draws
//! wider, so a row never overflows (at worst it ends a cell or two short):
//!
//! - every code point: `UnicodeWidthChar::width` (CJK and wide emoji 2,
//!   combining marks, ZWJ and variation selectors 0, controls 0: text for a
//!   terminal has been through `sanitize` first);
//! - lam-alef and the other script ligatures: the sum of their code points,
//!   as xterm and VTE draw them;
//! - emoji ZWJ sequences (👨‍👩‍👧 is 6) and modifier sequences (👍🏽 is 4): the
//!   sum; kitty and WezTerm draw them in 2 cells, VTE and xterm per code point;
//! - VS16 (U+FE0F) after a 1-cell character counts 1 more (❤️ is 2): kitty,
//!   WezTerm and iTerm2 draw emoji presentation wide, VTE does not;
//! - regional indicators are 2 each (a flag is 4): they have
//!   `Emoji_Presentation`, and terminals disagree between 1 and 2 a code point;
//! - U+00AD SOFT HYPHEN is 1, as glibc's `wcwidth` says and xterm draws it;
//! - East Asian Ambiguous characters (Greek, Cyrillic, `…`) are 1, the
//!   default of every terminal; counting them 2 would halve Greek titles.

use anstyle::Style;
use unicode_width::UnicodeWidthChar;

/// Spaces between two table columns.
pub const GAP: usize = 2;

const ELLIPSIS: char = '…';
const VS16: char = '\u{FE0F}';

/// Cells a terminal uses for `s`.
pub fn width(s: &str) -> usize {
    cells(s).map(|(_, _, w)| w).sum()
}

/// Each code point with its byte offset and the cells it adds.
fn cells(s: &str) -> impl Iterator<Item = (usize, char, usize)> + '_ {
    let mut previous = 0;
    s.char_indices().map(move |(i, c)| {
        let w = match c {
            VS16 if previous == 1 => 1,
            '\u{AD}' => 1,
            '\u{1F1E6}'..='\u{1F1FF}' => 2,
            c => c.width().unwrap_or(0),
        };
        previous = w;
        (i, c, w)
    })
}

/// `s` cut to at most `max` cells, ending with `…` when anything was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let (head, _) = split_at_width(s, max - 1);
    // A joiner left dangling would join the ellipsis; a space would gape.
    let head = head.trim_end_matches(|c: char| c == '\u{200D}' || c.is_whitespace());
    let mut out = String::with_capacity(head.len() + ELLIPSIS.len_utf8());
    out.push_str(head);
    out.push(ELLIPSIS);
    out
}

/// `s` split after its longest start that takes at most `max` cells.
///
/// Never splits a character from the marks, joiners and variation selectors
/// that follow it (they take no cell of their own).
pub fn split_at_width(s: &str, max: usize) -> (&str, &str) {
    let mut end = 0;
    let mut used = 0;
    let mut unit = 0;
    for (i, c, w) in cells(s) {
        let joins = c == VS16 || c.width().unwrap_or(0) == 0;
        if !joins {
            // The unit that ends here is whole: keep it if it fits.
            if used + unit > max {
                return s.split_at(end);
            }
            used += unit;
            end = i;
            unit = 0;
        }
        unit += w;
    }
    if used + unit <= max {
        end = s.len();
    }
    s.split_at(end)
}

/// `s` followed by spaces up to `w` cells; never cut.
pub fn pad(s: &str, w: usize) -> String {
    let fill = w.saturating_sub(width(s));
    let mut out = String::with_capacity(s.len() + fill);
    out.push_str(s);
    out.extend(std::iter::repeat_n(' ', fill));
    out
}

/// How a table column gives up width on a narrow terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The width a flexible column keeps while fixed columns are whole.
    pub min: usize,
    /// Flexible columns (titles, authors) shrink first; fixed ones (ids,
    /// years, counts) only once every flexible column is down to its `min`.
    pub flexible: bool,
}

impl Column {
    pub const FIXED: Column = Column {
        min: 0,
        flexible: false,
    };

    /// Today's tables keep 8 cells of a title or author list.
    pub const FLEXIBLE: Column = Column::flexible(8);

    pub const fn flexible(min: usize) -> Column {
        Column { min, flexible: true }
    }
}

/// Column widths that fit `available` cells with [`GAP`] between columns.
///
/// `natural` is each column's widest cell (header included). If they do not
/// fit, flexible columns shrink (widest first) to their `min`; then every
/// column shrinks, widest first, down to 1 cell; then columns are hidden
/// (width 0) from the right until the rest fit. Columns past `columns.len()`
/// are fixed.
pub fn fit_columns(natural: &[usize], available: usize, columns: &[Column]) -> Vec<usize> {
    let mut widths = natural.to_vec();
    let rule = |c: usize| columns.get(c).copied().unwrap_or(Column::FIXED);
    // Shrinks the widest column that `floor` allows by one cell at a time;
    // the rightmost of equals goes first.
    let shrink = |widths: &mut Vec<usize>, floor: &dyn Fn(usize) -> Option<usize>| {
        while total(widths) > available {
            let widest = (0..widths.len())
                .filter(|&c| floor(c).is_some_and(|f| widths[c] > f))
                .max_by_key(|&c| widths[c]);
            match widest {
                Some(c) => widths[c] -= 1,
                None => break,
            }
        }
    };
    shrink(&mut widths, &|c| rule(c).flexible.then(|| rule(c).min.max(1)));
    shrink(&mut widths, &|_| Some(1));
    for c in (1..widths.len()).rev() {
        if total(&widths) <= available {
            break;
        }
        widths[c] = 0;
    }
    if let Some(first) = widths.first_mut() {
        *first = (*first).min(available);
    }
    widths
}

/// Cells a row of these widths takes; hidden (0) columns take no gap.
fn total(widths: &[usize]) -> usize {
    let shown = widths.iter().filter(|&&w| w > 0).count();
    widths.iter().sum::<usize>() + GAP * shown.saturating_sub(1)
}

/// A table with a header row, columns [`GAP`] apart, no trailing spaces.
///
/// With `width` (a terminal) the columns are fitted by [`fit_columns`] and
/// cells cut with `…`; without one (a pipe) nothing is ever cut. `styles[i]`
/// colours the non-empty cells of column `i`; headers stay plain.
pub fn render_table<R: AsRef<[String]>>(
    headers: &[&str],
    rows: &[R],
    width: Option<usize>,
    columns: &[Column],
    styles: &[Style],
) -> String {
    let cols = headers.len();
    let mut natural: Vec<usize> = headers.iter().map(|h| self::width(h)).collect();
    for row in rows {
        for (w, cell) in natural.iter_mut().zip(row.as_ref()) {
            *w = (*w).max(self::width(cell));
        }
    }
    let widths = match width {
        Some(available) => fit_columns(&natural, available, columns),
        None => natural,
    };
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>, styles: &[Style]| {
        let cells: Vec<&str> = cells.take(cols).collect();
        let mut text = String::new();
        let mut first = true;
        for (i, &cell) in cells.iter().enumerate() {
            // A column hidden on a narrow terminal; piped ones never are.
            if widths[i] == 0 && width.is_some() {
                continue;
            }
            if !first {
                text.push_str(&" ".repeat(GAP));
            }
            first = false;
            let cell = if width.is_some() {
                // A cell followed only by empty ones may run on into them
                // (an error in place of a title keeps its words).
                let rest_empty = cells[i + 1..].iter().all(|c| c.trim().is_empty());
                let room = if rest_empty {
                    widths[i]
                        + widths[i + 1..]
                            .iter()
                            .filter(|&&w| w > 0)
                            .map(|w| w + GAP)
                            .sum::<usize>()
                } else {
                    widths[i]
                };
                truncate(cell, room)
            } else {
                cell.to_string()
            };
            // Trailing spaces stay outside the colour, so a row can end trimmed.
            let (body, spaces) = cell.split_at(cell.trim_end().len());
            match styles.get(i).filter(|_| !body.is_empty()) {
                Some(style) => text.push_str(&format!("{}{body}{}", style.render(), style.render_reset())),
                None => text.push_str(body),
            }
            text.push_str(spaces);
            if i + 1 < cols {
                text.push_str(&" ".repeat(widths[i].saturating_sub(self::width(&cell))));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().copied(), &[]);
    for row in rows {
        line(&mut row.as_ref().iter().map(String::as_str), styles);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use unicode_width::UnicodeWidthStr;

    const LAM_ALEF: [&str; 4] = ["لا", "لأ", "لإ", "لآ"];

    /// What a per-code-point terminal (xterm, VTE) draws.
    fn per_code_point(s: &str) -> usize {
        s.chars().map(|c| c.width().unwrap_or(0)).sum()
    }

    #[test]
    fn a_last_cell_runs_on_into_empty_ones() {
        let rows = vec![
            vec![
                "9780441013593".to_string(),
                "Dune".into(),
                "Frank Herbert".into(),
                "1965".into(),
            ],
            vec![
                "12345".to_string(),
                "error: not an ISBN (wrong length)".into(),
                String::new(),
                String::new(),
            ],
        ];
        let columns = [Column::FIXED, Column::FLEXIBLE, Column::FLEXIBLE, Column::FIXED];
        let t = render_table(
            &["INPUT", "TITLE", "AUTHORS", "YEAR"],
            &rows,
            Some(40),
            &columns,
            &[],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines.iter().all(|l| width(l) <= 40), "{t}");
        assert_eq!(lines[2], "12345          error: not an ISBN (wron…", "{t}");
        assert!(lines[1].contains("Dune") && lines[1].ends_with("1965"), "{t}");
    }

    #[test]
    fn lam_alef_is_two_cells_not_one() {
        for pair in LAM_ALEF {
            assert_eq!(UnicodeWidthStr::width(pair), 1, "unicode-width's ligature rule");
            assert_eq!(width(pair), 2, "{pair}");
            assert_eq!(width(pair), per_code_point(pair));
        }
        let title = "الأدب العربي والإسلام";
        assert_eq!(width(title), per_code_point(title));
        assert_eq!(width(title), title.chars().count());
        assert!(UnicodeWidthStr::width(title) < width(title));
    }

    #[test]
    fn width_follows_the_documented_rules() {
        let cases = [
            ("abc", 3),
            ("日本語", 6),
            ("ｱｲｳ", 3),
            ("e\u{301}", 1),
            ("שלום", 4),
            ("א\u{200D}ל", 2),
            ("👨\u{200D}👩\u{200D}👧", 6),
            ("👍🏽", 4),
            ("❤", 1),
            ("❤\u{FE0F}", 2),
            ("⌚\u{FE0E}", 2),
            ("1\u{FE0F}\u{20E3}", 2),
            ("\u{FE0F}", 0),
            ("🇫🇷", 4),
            ("soft\u{AD}hyphen", 11),
            ("\u{200B}", 0),
            ("α…", 2),
            ("가", 2),
        ];
        for (s, cells) in cases {
            assert_eq!(width(s), cells, "{s:?}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn width_is_never_less_than_glibc_wcwidth() {
        extern "C" {
            fn wcwidth(c: libc::wchar_t) -> libc::c_int;
        }
        // SAFETY: C.UTF-8 is built into glibc 2.35+; LC_CTYPE affects only
        // libc's character functions, which nothing else here uses.
        let set = unsafe { libc::setlocale(libc::LC_CTYPE, c"C.UTF-8".as_ptr()) };
        assert!(!set.is_null(), "no C.UTF-8 locale");
        let text = "لا لأ لإ لآ سلام שלום 日本語 ｱ e\u{301} 👨\u{200D}👩\u{200D}👧 ❤\u{FE0F} 🇫🇷 👍🏽 soft\u{AD} Ёλ";
        let mut glibc = 0;
        for c in text.chars() {
            // SAFETY: wcwidth only reads its argument.
            let w = unsafe { wcwidth(c as libc::wchar_t) };
            glibc += usize::try_from(w).unwrap_or(0);
        }
        assert!(width(text) >= glibc, "{} < {glibc}", width(text));
    }

    #[test]
    fn truncate_cuts_with_an_ellipsis() {
        assert_eq!(truncate("日本語の本", 6), "日本…");
        assert_eq!(truncate("short", 5), "short");
        assert_eq!(truncate("longer", 5), "long…");
        assert_eq!(truncate("longer", 1), "…");
        assert_eq!(truncate("longer", 0), "");
        assert_eq!(truncate("two words", 5), "two…");
        assert_eq!(truncate("لالالا", 4), "لال…");
        assert_eq!(truncate("e\u{301}e\u{301}e\u{301}", 2), "e\u{301}…");
        assert_eq!(truncate("👨\u{200D}👩\u{200D}👧", 4), "👨…");
    }

    #[test]
    fn pad_fills_to_width() {
        assert_eq!(pad("لا", 4), "لا  ");
        assert_eq!(pad("日本", 5), "日本 ");
        assert_eq!(pad("toolong", 3), "toolong");
    }

    const SEARCH: [Column; 4] = [Column::FIXED, Column::FLEXIBLE, Column::FLEXIBLE, Column::FIXED];

    #[test]
    fn fixed_columns_wait_for_flexible_ones() {
        // ID 12, TITLE 40, AUTHORS 20, YEAR 4: 76 + 6 of gaps.
        let natural = [12, 40, 20, 4];
        assert_eq!(fit_columns(&natural, 200, &SEARCH), natural);
        assert_eq!(fit_columns(&natural, 82, &SEARCH), natural);
        assert_eq!(fit_columns(&natural, 80, &SEARCH), [12, 38, 20, 4]);
        assert_eq!(fit_columns(&natural, 40, &SEARCH), [12, 9, 9, 4]);
        // Flexible ones at 8: now the id gives up width too.
        assert_eq!(fit_columns(&natural, 36, &SEARCH), [10, 8, 8, 4]);
        assert_eq!(fit_columns(&natural, 13, &SEARCH), [2, 2, 2, 1]);
        assert_eq!(fit_columns(&natural, 10, &SEARCH), [1, 1, 1, 1]);
        assert_eq!(fit_columns(&natural, 5, &SEARCH), [1, 1, 0, 0]);
        assert_eq!(fit_columns(&natural, 0, &SEARCH), [0, 0, 0, 0]);
    }

    fn rows() -> Vec<Vec<String>> {
        vec![vec![
            "id1".into(),
            "A very long title that goes on and on".into(),
            "Someone".into(),
            "1999".into(),
        ]]
    }

    const HEADERS: [&str; 4] = ["ID", "TITLE", "AUTHORS", "YEAR"];

    #[test]
    fn piped_tables_are_never_cut() {
        let t = render_table(&HEADERS, &rows(), None, &SEARCH, &[]);
        assert_eq!(
            t,
            "ID   TITLE                                  AUTHORS  YEAR\n\
             id1  A very long title that goes on and on  Someone  1999\n"
        );
        let t = render_table(&HEADERS, &rows(), Some(10), &SEARCH, &[]);
        assert!(t.lines().all(|l| width(l) <= 10), "{t}");
    }

    #[test]
    fn terminal_tables_fit() {
        let t = render_table(&HEADERS, &rows(), Some(40), &SEARCH, &[]);
        assert_eq!(
            t,
            "ID   TITLE                 AUTHORS  YEAR\n\
             id1  A very long title t…  Someone  1999\n"
        );
        let t = render_table(&HEADERS, &rows(), Some(30), &SEARCH, &[]);
        assert_eq!(
            t,
            "ID   TITLE       AUTHORS  YEAR\nid1  A very lo…  Someone  1999\n"
        );
    }

    #[test]
    fn lam_alef_rows_fit_where_unicode_width_would_overflow() {
        let title = "لا".repeat(12);
        let rows = vec![vec!["id".to_string(), title.clone(), "x".into(), "2000".into()]];
        // ID, TITLE, AUTHORS (its header), YEAR and three gaps.
        let row = |title: usize| 2 + title + 7 + 4 + 3 * GAP;
        assert!(
            row(UnicodeWidthStr::width(title.as_str())) <= 40,
            "fits by unicode-width"
        );
        assert!(row(per_code_point(&title)) > 40, "overflows on the terminal");
        let t = render_table(&HEADERS, &rows, Some(40), &SEARCH, &[]);
        for line in t.lines() {
            assert!(per_code_point(line) <= 40, "{line}");
        }
        assert!(t.contains('…'));
    }

    #[test]
    fn colour_is_sparing_and_keeps_alignment() {
        let styles = [Style::new().dimmed(), Style::new().bold()];
        let t = render_table(&HEADERS, &rows(), None, &SEARCH, &styles);
        let row = t.lines().nth(1).unwrap_or_default();
        assert!(
            row.starts_with("\u{1b}[2mid1\u{1b}[0m  \u{1b}[1mA very long title"),
            "{row:?}"
        );
        assert!(row.ends_with("  Someone  1999"));
        assert!(!t.lines().next().unwrap_or_default().contains('\u{1b}'));
    }

    #[test]
    fn short_and_long_rows_are_tolerated() {
        let rows = vec![vec!["a".to_string()], vec!["b".into(), "c".into(), "d".into()]];
        let t = render_table(&["X", "Y"], &rows, Some(80), &[], &[]);
        assert_eq!(t, "X  Y\na\nb  c\n");
    }

    #[test]
    fn split_keeps_marks_with_their_base() {
        assert_eq!(split_at_width("e\u{301}x", 1), ("e\u{301}", "x"));
        assert_eq!(split_at_width("❤\u{FE0F}x", 1), ("", "❤\u{FE0F}x"));
        assert_eq!(split_at_width("❤\u{FE0F}x", 2), ("❤\u{FE0F}", "x"));
        assert_eq!(split_at_width("日本", 3), ("日", "本"));
        assert_eq!(split_at_width("ab", 5), ("ab", ""));
        assert_eq!(split_at_width("", 0), ("", ""));
    }

    /// Today's piped layout, measured the same way: widest cell, two
    /// spaces, trailing spaces trimmed.
    fn reference(headers: &[&str], rows: &[Vec<String>]) -> String {
        let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
        for row in rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.len());
            }
        }
        let line = |cells: Vec<&str>| {
            let n = cells.len();
            let text: String = cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i + 1 < n {
                        format!("{c:<0$}  ", widths[i])
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            format!("{}\n", text.trim_end())
        };
        let mut out = line(headers.to_vec());
        for row in rows {
            out.push_str(&line(row.iter().map(String::as_str).collect()));
        }
        out
    }

    fn strip_style(s: &str) -> String {
        let mut out = String::new();
        let mut escape = false;
        for c in s.chars() {
            match c {
                '\u{1b}' => escape = true,
                'm' if escape => escape = false,
                c if !escape => out.push(c),
                _ => {}
            }
        }
        out
    }

    /// Text a title may hold: CJK, emoji sequences, Arabic with lam-alef,
    /// Hebrew, combining marks, Latin.
    fn cell() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("日本語".to_string()),
            Just("한국어".to_string()),
            Just("ｶﾀｶﾅ".to_string()),
            Just("لا".to_string()),
            Just("لأ".to_string()),
            Just("لإ".to_string()),
            Just("لآ".to_string()),
            Just("سلام عليكم".to_string()),
            Just("שָׁלוֹם".to_string()),
            Just("👨\u{200D}👩\u{200D}👧".to_string()),
            Just("❤\u{FE0F}".to_string()),
            Just("🇯🇵".to_string()),
            Just("👍🏽".to_string()),
            Just("e\u{301}\u{308}".to_string()),
            Just("\u{AD}".to_string()),
            Just(" ".to_string()),
            "[a-zA-Z0-9 ,.:-]{0,12}",
            "[\u{0600}-\u{06FF}\u{0590}-\u{05FF}\u{4E00}-\u{4E80}\u{0300}-\u{036F}]{0,6}",
        ];
        prop::collection::vec(piece, 0..8).prop_map(|p| p.concat())
    }

    fn table() -> impl Strategy<Value = (Vec<Vec<String>>, Vec<Column>)> {
        (1usize..=6).prop_flat_map(|cols| {
            let rule = prop_oneof![
                Just(Column::FIXED),
                Just(Column::FLEXIBLE),
                (0usize..20).prop_map(Column::flexible),
            ];
            (
                prop::collection::vec(prop::collection::vec(cell(), cols), 0..5),
                prop::collection::vec(rule, cols),
            )
        })
    }

    proptest! {
        #[test]
        fn every_row_fits_the_terminal((rows, columns) in table(), available in 20usize..=200) {
            let headers: Vec<&str> = ["ID", "TITLE", "AUTHORS", "YEAR", "VOLUMES", "ACCESS"]
                [..columns.len()].to_vec();
            let t = render_table(&headers, &rows, Some(available), &columns, &[]);
            prop_assert_eq!(t.lines().count(), rows.len() + 1);
            for line in t.lines() {
                prop_assert!(width(line) <= available, "{} > {}: {:?}", width(line), available, line);
                prop_assert!(per_code_point(line) <= available);
                prop_assert!(!line.ends_with(' '));
            }
        }

        #[test]
        fn styled_rows_fit_too((rows, columns) in table(), available in 20usize..=200) {
            let headers: Vec<&str> = ["A", "B", "C", "D", "E", "F"][..columns.len()].to_vec();
            let styles = [Style::new().dimmed(), Style::new().bold()];
            let plain = render_table(&headers, &rows, Some(available), &columns, &[]);
            let styled = render_table(&headers, &rows, Some(available), &columns, &styles);
            prop_assert_eq!(strip_style(&styled), plain);
        }

        #[test]
        fn piped_ascii_tables_are_as_before(
            rows in prop::collection::vec(prop::collection::vec("[a-z0-9 ]{0,12}", 4), 0..5),
        ) {
            let rows: Vec<Vec<String>> = rows;
            let t = render_table(&HEADERS, &rows, None, &SEARCH, &[]);
            prop_assert_eq!(t, reference(&HEADERS, &rows));
        }

        #[test]
        fn piped_rows_keep_every_cell((rows, columns) in table()) {
            let headers: Vec<&str> = ["A", "B", "C", "D", "E", "F"][..columns.len()].to_vec();
            let t = render_table(&headers, &rows, None, &columns, &[]);
            for (row, line) in rows.iter().zip(t.lines().skip(1)) {
                let mut rest = line;
                for cell in row.iter().map(|c| c.trim_end()).filter(|c| !c.is_empty()) {
                    let at = rest.find(cell);
                    prop_assert!(at.is_some(), "{:?} not in {:?}", cell, line);
                    rest = &rest[at.unwrap_or(0) + cell.len()..];
                }
            }
        }

        #[test]
        fn fixed_columns_shrink_last(
            natural in prop::collection::vec(0usize..60, 1..6),
            flexible in prop::collection::vec(any::<bool>(), 6),
            available in 0usize..=200,
        ) {
            let columns: Vec<Column> = flexible.iter()
                .map(|&f| if f { Column::FLEXIBLE } else { Column::FIXED })
                .collect();
            let widths = fit_columns(&natural, available, &columns);
            prop_assert!(total(&widths) <= available);
            prop_assert!(widths.iter().zip(&natural).all(|(w, n)| w <= n));
            let fixed_cut = (0..natural.len()).any(|c| !columns[c].flexible && widths[c] < natural[c]);
            if fixed_cut {
                for c in (0..natural.len()).filter(|&c| columns[c].flexible) {
                    prop_assert!(widths[c] <= natural[c].min(8));
                }
            }
            if total(&natural) <= available {
                prop_assert_eq!(widths, natural);
            }
        }

        #[test]
        fn truncate_never_exceeds(s in cell(), max in 0usize..30) {
            let t = truncate(&s, max);
            prop_assert!(width(&t) <= max);
            if width(&s) <= max {
                prop_assert_eq!(t, s);
            } else if max == 0 {
                prop_assert_eq!(t, "");
            } else {
                prop_assert!(t.ends_with('…'));
            }
        }
    }
}
