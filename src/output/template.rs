//! `--template FILE`: each volume rendered through a Jinja-style template
//! (minijinja), and `--output-dir` file names made safe to write.
//!
//! A missing field is empty, never an error, so one template serves sparse
//! records. As in minijinja, a template named `*.html`/`*.xml` (also with a
//! trailing `.j2`) escapes for HTML, and `*.json`/`*.yaml` for JSON.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value};
use serde_json::Value as Json;
use serde_json::{json, Map};

use crate::books::Volume;
use crate::isbn::Isbn;
use crate::sanitize::{html_to_text, terminal_line, terminal_text};

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The template does not parse; the caller exits with a usage error.
    #[error("template {name}, line {line}: {message}")]
    Syntax {
        name: String,
        line: usize,
        message: String,
    },
    /// A well-formed template failed on this volume (an unknown filter, a
    /// division by zero...).
    #[error("template {name}, line {line}: {message}")]
    Render {
        name: String,
        line: usize,
        message: String,
    },
}

/// A compiled template.
#[derive(Debug)]
pub struct Template {
    env: Environment<'static>,
    name: String,
}

impl Template {
    /// Compiles `source`; `name` (the file name) is how errors refer to it
    /// and picks the auto-escaping.
    pub fn new(name: &str, source: &str) -> Result<Template, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.add_filter("tag", tag);
        // The output is exactly the file: a note ends with its newline.
        if let Ok(syntax) = SyntaxConfig::builder().keep_trailing_newline(true).build() {
            env.set_syntax(syntax);
        }
        env.add_template_owned(name.to_string(), source.to_string())
            .map_err(|e| error(name, &e, true))?;
        Ok(Template {
            env,
            name: name.to_string(),
        })
    }

    pub fn render(&self, v: &Volume) -> Result<String, TemplateError> {
        self.env
            .get_template(&self.name)
            .and_then(|t| t.render(context(v)))
            .map_err(|e| error(&self.name, &e, false))
    }
}

/// `{{ category | tag }}`: a category as an Obsidian tag, which allows only
/// letters, digits, `-`, `_` and `/` for nesting: "Fiction / Classics"
/// becomes "fiction/classics".
fn tag(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.to_lowercase().split_whitespace() {
        let word: String = word
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '/'))
            .collect();
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() && !out.ends_with('/') && !word.starts_with('/') {
            out.push('-');
        }
        out.push_str(&word);
    }
    out
}

fn error(name: &str, e: &minijinja::Error, syntax: bool) -> TemplateError {
    let message = match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    };
    let name = e.name().unwrap_or(name).to_string();
    let line = e.line().unwrap_or(0);
    if syntax || e.kind() == minijinja::ErrorKind::SyntaxError {
        TemplateError::Syntax { name, line, message }
    } else {
        TemplateError::Render { name, line, message }
    }
}

/// What a template sees. Text fields are one line each (a newline in a title
/// would break a note's front matter), `description` keeps its paragraphs,
/// and `volume` is the API's object exactly as it came.
pub fn context(v: &Volume) -> Value {
    let info = &v.info;
    let line = |s: &Option<String>| {
        s.as_deref()
            .map(|s| terminal_line(s).trim().to_string())
            .unwrap_or_default()
    };
    let lines = |list: &[String]| -> Vec<String> {
        list.iter()
            .map(|s| terminal_line(s).trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let isbn13 = v
        .isbn("ISBN_13")
        .map(str::to_string)
        .or_else(|| {
            v.isbn("ISBN_10")
                .and_then(|i| Isbn::parse(i).ok())
                .map(|i| i.to_isbn13())
        })
        .unwrap_or_default();
    let mut ctx = Map::new();
    ctx.insert("id".into(), json!(v.id));
    ctx.insert("title".into(), json!(line(&info.title)));
    ctx.insert("subtitle".into(), json!(line(&info.subtitle)));
    ctx.insert("authors".into(), json!(lines(&info.authors)));
    ctx.insert("year".into(), json!(terminal_line(v.year()).trim()));
    ctx.insert("published_date".into(), json!(line(&info.published_date)));
    ctx.insert("publisher".into(), json!(line(&info.publisher)));
    ctx.insert("isbn13".into(), json!(isbn13));
    ctx.insert("isbn10".into(), json!(v.isbn("ISBN_10").unwrap_or_default()));
    ctx.insert(
        "pages".into(),
        info.page_count.filter(|n| *n > 0).map_or(json!(""), |n| json!(n)),
    );
    ctx.insert("language".into(), json!(line(&info.language)));
    ctx.insert("categories".into(), json!(lines(&info.categories)));
    let description = info
        .description
        .as_deref()
        .map(|d| terminal_text(&html_to_text(d)));
    ctx.insert("description".into(), json!(description.unwrap_or_default()));
    ctx.insert("link".into(), json!(v.link()));
    ctx.insert("cover_url".into(), json!(cover_url(v)));
    ctx.insert("volume".into(), v.raw().clone());
    to_value(&Json::Object(ctx))
}

fn to_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::from(()),
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Value::from(u),
            (_, Some(i), _) => Value::from(i),
            (_, _, Some(f)) => Value::from(f),
            _ => Value::from(n.to_string()),
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::from(items.iter().map(to_value).collect::<Vec<_>>()),
        Json::Object(map) => Value::from_pairs(map.iter().map(|(k, v)| (k.as_str(), to_value(v)))),
    }
}

/// The largest cover image, over https.
fn cover_url(v: &Volume) -> String {
    let links = v.raw().pointer("/volumeInfo/imageLinks");
    [
        "extraLarge",
        "large",
        "medium",
        "small",
        "thumbnail",
        "smallThumbnail",
    ]
    .iter()
    .find_map(|size| links?.get(size)?.as_str().filter(|u| !u.trim().is_empty()))
    .map(|url| match url.trim().strip_prefix("http://") {
        Some(rest) => format!("https://{rest}"),
        None => url.trim().to_string(),
    })
    .unwrap_or_default()
}

/// Longest file name we write, in bytes; most file systems allow 255.
const MAX_NAME: usize = 200;

/// Turns a rendered `--filename` into one safe file name in the output
/// directory: no path separators (so no `..`), no control characters, none
/// of the characters Windows and note apps refuse, no leading dots (hidden
/// files), no trailing dots or spaces, at most 200 bytes with the extension
/// kept. `None` when nothing is left.
pub fn safe_file_name(rendered: &str) -> Option<String> {
    let mut name = String::with_capacity(rendered.len());
    for c in rendered.chars() {
        match c {
            '/' | '\\' => name.push('-'),
            ':' | '*' | '?' | '"' | '<' | '>' | '|' => {}
            c if c.is_whitespace() => name.push(' '),
            c if c.is_control() => {}
            c => name.push(c),
        }
    }
    let mut name = name
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    // No `..` anywhere, not even inside a name, so no tool ever reads a
    // parent directory into it.
    while name.contains("..") {
        name = name.replace("..", ".");
    }
    let name = name.trim_start_matches(['.', ' ']).trim_end_matches(['.', ' ']);
    if name.is_empty() {
        return None;
    }
    if name.len() <= MAX_NAME {
        return Some(name.to_string());
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 16 && !ext.contains(' ') => (stem, ext),
        _ => (name, ""),
    };
    let room = if ext.is_empty() {
        MAX_NAME
    } else {
        MAX_NAME - ext.len() - 1
    };
    let mut cut = room.min(stem.len());
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    let stem = stem[..cut].trim_end_matches(['.', ' ']);
    match (stem.is_empty(), ext.is_empty()) {
        (true, _) => None,
        (false, true) => Some(stem.to_string()),
        (false, false) => Some(format!("{stem}.{ext}")),
    }
}

/// What happened to one file.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Written(PathBuf),
    /// The file was there already and `force` was off: the caller warns.
    Skipped(PathBuf),
}

/// Writes `contents` to `dir/name` through a temporary file renamed into
/// place, so a reader never sees half a file. An existing file is replaced
/// only with `force`. `name` must be a single file name (see
/// [`safe_file_name`]).
pub fn write_file(dir: &Path, name: &str, contents: &str, force: bool) -> io::Result<Written> {
    if safe_file_name(name).as_deref() != Some(name) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a safe file name: {name:?}"),
        ));
    }
    let path = dir.join(name);
    if !force && path.symlink_metadata().is_ok() {
        return Ok(Written::Skipped(path));
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(".gbooks-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A note, not a secret: the usual mode, less the umask.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(contents.as_bytes())?;
    tmp.as_file().sync_all()?;
    if force {
        tmp.persist(&path).map_err(|e| e.error)?;
        return Ok(Written::Written(path));
    }
    // Another writer may have made the file since the check above.
    match tmp.persist_noclobber(&path) {
        Ok(_) => Ok(Written::Written(path)),
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(Written::Skipped(path)),
        Err(e) => Err(e.error),
    }
}

#[cfg(test)]
mod tests {
    use super::super::cite::tests::{fixture, samples};
    use super::*;

    fn example(name: &str) -> Template {
        let path = format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"));
        Template::new(name, &std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn render(source: &str, v: &Volume) -> String {
        Template::new("t.j2", source).unwrap().render(v).unwrap()
    }

    #[test]
    fn the_context_has_every_field() {
        let v = fixture("dune-messiah");
        let t = "{{ id }}|{{ title }}|{{ subtitle }}|{{ authors | join(';') }}|{{ year }}|{{ published_date }}|\
                 {{ publisher }}|{{ isbn13 }}|{{ isbn10 }}|{{ pages }}|{{ language }}|{{ categories | join(';') }}|\
                 {{ link }}|{{ cover_url }}|{{ volume.volumeInfo.imageLinks.smallThumbnail }}";
        assert_eq!(
            render(t, &v),
            "F8xJDwAAQBAJ|Dune Messiah||Frank Herbert|2008|2008|Ace Books|9780441013593|0441013597|336|en|Fiction|\
             https://books.google.com/books/about/Dune_Messiah.html?hl=&id=F8xJDwAAQBAJ|\
             https://books.google.com/books/content?id=F8xJDwAAQBAJ&printsec=frontcover&img=1&zoom=1|\
             http://books.google.com/books/content?id=F8xJDwAAQBAJ&printsec=frontcover&img=1&zoom=5"
        );
        assert_eq!(
            render("{{ pages + 1 }} {{ authors[0] }} {{ volume.kind }}", &v),
            "337 Frank Herbert books#volume"
        );
    }

    #[test]
    fn text_fields_are_plain_and_one_line() {
        let v = fixture("special-characters");
        assert_eq!(
            render("{{ description }}", &v),
            "First paragraph with bold & more.\n\nSecond: a --- b end."
        );
        // ISBN-13 from the ISBN-10 when the record has none; the largest cover, over https.
        assert_eq!(
            render("{{ isbn13 }} {{ isbn10 }}", &v),
            "9782070360024 2070360024"
        );
        assert_eq!(
            render("{{ cover_url }}", &v),
            "https://books.google.com/books/content?id=sp_ecial-ID&img=1&zoom=2"
        );
        assert_eq!(render("[{{ pages }}]", &v), "[]");
        assert_eq!(
            render("{{ categories | map('tag') | join(' ') }}", &v),
            "fiction/classics literary-criticism"
        );

        let mut raw = v.raw().clone();
        raw["volumeInfo"]["title"] = "Two\nlines\u{202e}\u{1b}[31m".into();
        raw["volumeInfo"]["authors"] = serde_json::json!(["  A\tB ", "", "C"]);
        let v = Volume::from_value(raw).unwrap();
        assert_eq!(
            render("{{ title }}|{{ authors | join(';') }}", &v),
            "Two lines[31m|A B;C"
        );
        // `volume` is the API's object as it came.
        assert_eq!(
            render("{{ volume.volumeInfo.title | tojson }}", &v),
            "\"Two\\nlines\u{202e}\\u001b[31m\""
        );
    }

    #[test]
    fn a_missing_field_is_empty() {
        let v = Volume::from_value(serde_json::json!({"id": "bare"})).unwrap();
        let t = "[{{ title }}|{{ subtitle }}|{{ authors | join(',') }}|{{ year }}|{{ published_date }}|{{ publisher }}|\
                 {{ isbn13 }}|{{ isbn10 }}|{{ pages }}|{{ language }}|{{ categories | length }}|{{ description }}|\
                 {{ cover_url }}|{{ nothing }}|{{ volume.volumeInfo.imageLinks.thumbnail }}|{{ nothing.at.all }}]\
                 {% if not year %} no year{% endif %}{% for a in authors %}{{ a }}{% else %} nobody{% endfor %}";
        assert_eq!(render(t, &v), "[||||||||||0|||||] no year nobody");
        assert_eq!(render("{{ link }}", &v), "https://books.google.com/books?id=bare");
    }

    #[test]
    fn a_template_that_does_not_parse_names_its_line() {
        let source = "---\ntitle: {{ title }}\n{% if year %}\nyear: {{ year }\n{% endif %}\n";
        let err = Template::new("note.md.j2", source).unwrap_err();
        match &err {
            TemplateError::Syntax { name, line, .. } => assert_eq!((name.as_str(), *line), ("note.md.j2", 4)),
            other => panic!("{other:?}"),
        }
        let msg = err.to_string();
        assert!(
            msg.starts_with("template note.md.j2, line 4: syntax error"),
            "{msg}"
        );

        let err = Template::new("list.j2", "a\nb\n{% for a in authors %}\n{{ a }}\n").unwrap_err();
        assert!(matches!(err, TemplateError::Syntax { line: 4.., .. }), "{err:?}");
    }

    #[test]
    fn a_render_error_names_its_line_too() {
        let t = Template::new("x.j2", "one\ntwo {{ title | no_such_filter }}\n")
            .map(|t| t.render(&fixture("dune-messiah")));
        let err = match t {
            Err(e) | Ok(Err(e)) => e,
            Ok(Ok(text)) => panic!("rendered {text:?}"),
        };
        let msg = err.to_string();
        assert!(msg.starts_with("template x.j2, line 2: "), "{msg}");
        assert!(msg.contains("no_such_filter"), "{msg}");
    }

    #[test]
    fn html_templates_escape_by_name() {
        let v = fixture("special-characters");
        let html = Template::new("list.html.j2", "<li>{{ title }}</li>")
            .unwrap()
            .render(&v)
            .unwrap();
        assert_eq!(
            html,
            "<li>Tom &amp; Jerry &lt;Unleashed&gt;: *Stars* and_underscores</li>"
        );
        let md = Template::new("list.md.j2", "{{ title }}")
            .unwrap()
            .render(&v)
            .unwrap();
        assert_eq!(md, "Tom & Jerry <Unleashed>: *Stars* and_underscores");
    }

    #[test]
    fn the_reading_list_example() {
        let t = example("reading-list.j2");
        assert_eq!(
            t.render(&fixture("dune-messiah")).unwrap(),
            "- Dune Messiah — Frank Herbert (2008)\n"
        );
        assert_eq!(
            t.render(&fixture("missing-year")).unwrap(),
            "- A Book Without a Date — Jane Q. Public\n"
        );
        let bare = Volume::from_value(serde_json::json!({"id": "x", "volumeInfo": {"title": "T"}})).unwrap();
        assert_eq!(t.render(&bare).unwrap(), "- T\n");
        for v in samples() {
            let line = t.render(&v).unwrap();
            assert!(line.starts_with(&format!("- {}", v.title())), "{line}");
            assert!(line.ends_with(&format!(" ({})\n", v.year())), "{line}");
            assert_eq!(line.lines().count(), 1, "{line}");
        }
    }

    /// The front matter of each note, read by PyYAML.
    fn front_matter_as_yaml_reads_it(notes: &[String]) -> Vec<Json> {
        let fronts: Vec<&str> = notes
            .iter()
            .map(|n| {
                let body = n.strip_prefix("---\n").expect(n);
                &body[..body.find("\n---\n").expect(n)]
            })
            .collect();
        let script = "import json, sys, yaml\n\
                      print(json.dumps([yaml.safe_load(f) for f in json.load(sys.stdin)]))";
        let mut child = std::process::Command::new("python3")
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 with PyYAML (.ci/run installs it)");
        serde_json::to_writer(child.stdin.take().unwrap(), &fronts).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
        serde_json::from_slice::<Vec<Json>>(&out.stdout).unwrap()
    }

    #[test]
    fn the_obsidian_note_example_has_yaml_front_matter() {
        let t = example("obsidian-note.md.j2");
        let mut volumes = samples();
        for name in [
            "dune-messiah",
            "organisation-author",
            "missing-year",
            "special-characters",
        ] {
            volumes.push(fixture(name));
        }
        let mut hostile = fixture("special-characters").raw().clone();
        hostile["volumeInfo"]["title"] =
            "---\nkey: value\n'quoted' \"x\" #comment: [a, {b}] & *alias !tag %".into();
        hostile["volumeInfo"]["authors"] = serde_json::json!(["- dash", "yes", "null", "1e3", "@at"]);
        hostile["volumeInfo"]["categories"] =
            serde_json::json!(["Fiction / Science Fiction / General", "Über: \"Alles\""]);
        volumes.push(Volume::from_value(hostile).unwrap());

        let notes: Vec<String> = volumes.iter().map(|v| t.render(v).unwrap()).collect();
        let parsed = front_matter_as_yaml_reads_it(&notes);
        assert_eq!(parsed.len(), volumes.len());
        for ((v, note), yaml) in volumes.iter().zip(&notes).zip(&parsed) {
            let ctx = |key: &str| render(&format!("{{{{ {key} }}}}"), v);
            assert_eq!(yaml["title"], ctx("title"), "{note}");
            let authors: Vec<String> = serde_json::from_str(&render("{{ authors | tojson }}", v)).unwrap();
            assert_eq!(yaml["authors"], serde_json::json!(authors), "{note}");
            assert_eq!(yaml["year"], ctx("year"), "{note}");
            assert_eq!(yaml["publisher"], ctx("publisher"), "{note}");
            assert_eq!(yaml["cover"], ctx("cover_url"), "{note}");
            assert_eq!(yaml["link"], ctx("link"), "{note}");
            match v.info.page_count.filter(|n| *n > 0) {
                Some(n) => assert_eq!(yaml["pages"], n, "{note}"),
                None => assert_eq!(yaml["pages"], "", "{note}"),
            }
            assert_eq!(
                yaml["tags"].as_array().map(Vec::len),
                Some(v.info.categories.len()),
                "{note}"
            );
            assert!(note.contains(&format!("\n# {}", ctx("title"))), "{note}");
            assert!(note.ends_with('\n') && !note.ends_with("\n\n"), "{note:?}");
        }
        let hostile = parsed.last().unwrap();
        assert_eq!(hostile["authors"][1], "yes");
        assert_eq!(
            hostile["tags"],
            serde_json::json!(["fiction/science-fiction/general", "über-alles"])
        );
        let dune = &parsed[parsed.len() - 5];
        assert_eq!(dune["isbn"], "9780441013593");
        assert_eq!(dune["tags"], serde_json::json!(["fiction"]));
    }

    #[test]
    fn file_names_are_safe() {
        let safe = |s: &str| safe_file_name(s);
        assert_eq!(safe("Dune Messiah.md").as_deref(), Some("Dune Messiah.md"));
        assert_eq!(
            safe("AC/DC: Let There Be Rock?.md").as_deref(),
            Some("AC-DC Let There Be Rock.md")
        );
        assert_eq!(safe("..\\..\\etc/passwd").as_deref(), Some("-.-etc-passwd"));
        assert_eq!(
            safe("../../.ssh/authorized_keys").as_deref(),
            Some("-.-.ssh-authorized_keys")
        );
        assert_eq!(safe(".."), None);
        assert_eq!(safe("."), None);
        assert_eq!(safe(" . .. "), None);
        assert_eq!(safe(""), None);
        assert_eq!(safe("\u{1b}\u{7}\u{0}"), None);
        assert_eq!(safe(".hidden.md").as_deref(), Some("hidden.md"));
        assert_eq!(safe("a\u{0}b\u{1b}[31mc\u{7f}.md").as_deref(), Some("ab[31mc.md"));
        assert_eq!(
            safe("two\nlines\t here .md. ").as_deref(),
            Some("two lines here .md")
        );
        assert_eq!(safe("<>:\"|?*").as_deref(), None);
        for name in ["a/b", "a\\b", "../x", "x/..", "\u{0}", "a\nb"] {
            let out = safe(name).unwrap_or_default();
            assert!(
                !out.contains(['/', '\\']) && !out.chars().any(char::is_control),
                "{out:?}"
            );
            assert!(out != ".." && out != ".", "{out:?}");
        }
    }

    #[test]
    fn long_file_names_are_cut_on_a_char_boundary_keeping_the_extension() {
        let long = format!("{}.md", "é".repeat(150));
        let out = safe_file_name(&long).unwrap();
        assert!(out.len() <= 200, "{}", out.len());
        assert_eq!(out, format!("{}.md", "é".repeat(98)));

        let cjk = format!("{}.markdown", "書".repeat(100));
        let out = safe_file_name(&cjk).unwrap();
        assert_eq!(out, format!("{}.markdown", "書".repeat(63)));

        let no_ext = "x".repeat(300);
        assert_eq!(safe_file_name(&no_ext).unwrap().len(), 200);
        // An "extension" that is really a sentence is cut with the rest.
        let sentence = format!("{}.{}", "a".repeat(150), "b c".repeat(40));
        assert_eq!(safe_file_name(&sentence).unwrap().len(), 200);
        let exact = format!("{}.md", "a".repeat(197));
        assert_eq!(safe_file_name(&exact).unwrap(), exact);
        for n in 190..260 {
            let name = format!("{}.md", "ü".repeat(n / 2) + &"a".repeat(n % 2));
            let out = safe_file_name(&name).unwrap();
            assert!(out.len() <= 200 && out.ends_with(".md"), "{n}: {out}");
        }
    }

    #[test]
    fn writing_never_overwrites_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Dune.md");
        assert_eq!(
            write_file(dir.path(), "Dune.md", "first\n", false).unwrap(),
            Written::Written(path.clone())
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\n");
        assert_eq!(
            write_file(dir.path(), "Dune.md", "second\n", false).unwrap(),
            Written::Skipped(path.clone())
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\n");
        assert_eq!(
            write_file(dir.path(), "Dune.md", "third\n", true).unwrap(),
            Written::Written(path.clone())
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "third\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["Dune.md"], "a temporary file was left behind");

        for bad in ["../escape.md", "a/b.md", "..", "", ".hidden"] {
            let err = write_file(dir.path(), bad, "x", true).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
        assert!(!dir.path().parent().unwrap().join("escape.md").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        std::os::unix::fs::symlink(&target, dir.path().join("note.md")).unwrap();
        let written = write_file(dir.path(), "note.md", "x", false).unwrap();
        assert_eq!(written, Written::Skipped(dir.path().join("note.md")));
        assert!(!target.exists());
    }

    #[cfg(unix)]
    #[test]
    fn notes_get_the_usual_file_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        write_file(dir.path(), "a.md", "x", false).unwrap();
        std::fs::File::create(dir.path().join("b.md")).unwrap();
        let mode = |n: &str| {
            std::fs::metadata(dir.path().join(n))
                .unwrap()
                .permissions()
                .mode()
        };
        assert_eq!(mode("a.md"), mode("b.md"));
    }
}
