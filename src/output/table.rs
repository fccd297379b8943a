//! Tables for people: columns that fit the terminal, and the detail view
//! of one volume.

use anstyle::Style;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::books::Volume;
use crate::sanitize;

/// Sparing colour: ids dim, titles bold.
pub const ID_STYLE: Style = Style::new().dimmed();
pub const TITLE_STYLE: Style = Style::new().bold();

pub fn detail_text(v: &Volume) -> String {
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

/// Cells a string takes on a terminal.
pub fn width(text: &str) -> usize {
    text.width()
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

pub fn truncate(text: &str, width: usize) -> String {
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
