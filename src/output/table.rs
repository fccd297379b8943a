//! Tables for people: columns that fit the terminal, and the detail view
//! of one volume.

use anstyle::Style;

use super::width::{self, Column};
use super::wrap;
use crate::books::Volume;
use crate::sanitize;

/// Sparing colour: ids dim, titles bold.
pub const ID_STYLE: Style = Style::new().dimmed();
pub const TITLE_STYLE: Style = Style::new().bold();

/// One volume as labelled lines, wrapped to `width` cells (`usize::MAX`
/// when piped) with each value lined up under the first line of values.
pub fn detail_text(v: &Volume, width: usize) -> String {
    let (fields, description) = detail_parts(v, width, width);
    fields + &description
}

/// The labelled fields wrapped to `width`, and the description (after an
/// empty line, or nothing) wrapped to `description_width`.
pub fn detail_parts(v: &Volume, width: usize, description_width: usize) -> (String, String) {
    const LABEL: usize = 11;
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
    add("Authors", Some(wrap::join_list(&i.authors)));
    add("Publisher", i.publisher.clone());
    add("Published", i.published_date.clone());
    add("Pages", i.page_count.map(|p| p.to_string()));
    add("Categories", Some(wrap::join_list(&i.categories)));
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
        text.push_str(&wrap::labelled(LABEL, &format!("{name}:"), &line(&value), width));
    }
    let mut below = String::new();
    if let Some(desc) = i.description.as_deref().filter(|d| !d.trim().is_empty()) {
        below.push('\n');
        let desc = sanitize::terminal_text(&sanitize::html_to_text(desc));
        if description_width == usize::MAX {
            below.push_str(&desc);
            below.push('\n');
        } else {
            below.push_str(&wrap::paragraphs(&desc, 0, description_width));
        }
    }
    (text, below)
}

/// Columns separated by two spaces. With a width (a terminal) the table is
/// fitted to it, the `shrink` columns giving up width first; without one
/// (a pipe) nothing is cut.
pub fn render_table<R: AsRef<[String]>>(
    headers: &[&str],
    rows: &[R],
    width: Option<usize>,
    shrink: &[usize],
    styles: &[Style],
) -> String {
    let columns: Vec<Column> = (0..headers.len())
        .map(|c| {
            if shrink.contains(&c) {
                Column::FLEXIBLE
            } else {
                Column::FIXED
            }
        })
        .collect();
    width::render_table(headers, rows, width, &columns, styles)
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
            assert!(width::width(line) <= 40, "{line:?}");
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
        assert_eq!(width::truncate("日本語の本", 6), "日本…");
    }
}
