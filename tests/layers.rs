//! The import rule of ARCHITECTURE.md, checked from the source: every
//! `crate::` (and `super::`) path between files is an edge; the edges must
//! go downward and never close a loop. `cargo test --test tests layers --
//! --nocapture` lists them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Higher may import lower; equal ranks only within one top-level module.
const RANKS: &[(&str, u8)] = &[
    ("main", 20),
    ("lib", 19),
    ("commands", 18),
    ("error", 17),
    ("config", 16),
    ("cli", 14),
    ("output", 14),
    ("browser", 14),
    ("identify", 13),
    ("cover", 13),
    ("progress", 12),
    ("pager", 12),
    ("auth", 11),
    ("cache", 11),
    ("isbn", 10),
    ("throttle", 10),
    ("books", 5),
    ("http", 4),
    ("preconnect", 3),
    ("secret", 1),
    ("sanitize", 1),
    ("messages", 2),
];

/// Only these may import `error.rs`.
const ERROR_USERS: &[&str] = &["main", "commands"];

fn rank(top: &str) -> Option<u8> {
    RANKS.iter().find(|(name, _)| *name == top).map(|(_, r)| *r)
}

/// `books::paging` for src/books/paging.rs, `books` for src/books/mod.rs.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The identifiers right after `prefix` (`crate::a`, `crate::{a, b::c}`).
fn heads_after(text: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `mycrate::` is not `crate::`
        }
        expand(Vec::new(), rest, &mut found);
    }
    found.retain(|p| !p.is_empty());
    found
}

/// `books::{paging::Paging, self}` after `crate::`: each path in full.
fn expand(prefix: Vec<String>, text: &str, found: &mut Vec<Vec<String>>) {
    if let Some(group) = text.strip_prefix('{') {
        let end = matching_brace(group);
        for item in split_top(&group[..end]) {
            expand(prefix.clone(), item, found);
        }
        return;
    }
    let head = path_idents(text);
    let consumed: usize = head.iter().map(|s| s.len() + 2).sum();
    let mut path: Vec<String> = prefix;
    path.extend(head.into_iter().filter(|s| s != "self"));
    match text.get(consumed..) {
        Some(rest) if rest.starts_with('{') => expand(path, rest, found),
        _ => found.push(path),
    }
}

fn matching_brace(text: &str) -> usize {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    text.len()
}

fn split_top(text: &str) -> Vec<&str> {
    let (mut items, mut depth, mut start) = (Vec::new(), 0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(text[start..].trim());
    items
}

/// `a::b::C` -> ["a", "b", "C"], up to the first non-path character.
fn path_idents(text: &str) -> Vec<String> {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    text[..end]
        .split("::")
        .take_while(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Source without comments, so that prose naming a module is no edge.
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every file's imports, as module paths of files.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    // The file a path lands in: the longest module prefix that is a file.
    let file_of = |path: &[String]| -> Option<String> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|p| modules.contains(p))
            .map(|p| p.join("::"))
    };
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        let name = match module.as_slice() {
            [only] if only == "lib" || only == "main" => only.clone(),
            _ => module.join("::"),
        };
        let text = code(&std::fs::read_to_string(file).unwrap());
        let mut targets = BTreeSet::new();
        let mut add = |path: Vec<String>| {
            if let Some(target) = file_of(&path) {
                if target != name {
                    targets.insert(target);
                }
            }
        };
        let own = if name == "main" { "gbooks::" } else { "crate::" };
        for path in heads_after(&text, own) {
            add(path);
        }
        // `super::x` from books/paging.rs is books::x (or books itself).
        let parent: Vec<String> = module[..module.len().saturating_sub(1)].to_vec();
        for path in heads_after(&text, "super::") {
            if path.first().is_some_and(|p| p == "super") {
                continue;
            }
            let full: Vec<String> = parent.iter().cloned().chain(path).collect();
            // From a test module `super` is the file itself: no edge.
            if !full.is_empty() {
                add(full);
            }
        }
        graph.insert(name, targets);
    }
    graph
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

#[test]
fn imports_only_go_downward_and_never_loop() {
    let graph = edges();
    let mut problems = Vec::new();
    for (from, targets) in &graph {
        for to in targets {
            println!("{from} -> {to}");
            let (a, b) = (top(from), top(to));
            if a == b {
                continue;
            }
            match (rank(a), rank(b)) {
                (Some(ra), Some(rb)) if ra > rb => {}
                (None, _) | (_, None) => problems.push(format!("{from} -> {to}: a module with no rank")),
                _ => problems.push(format!("{from} -> {to}: goes up or sideways")),
            }
            if b == "error" && !ERROR_USERS.contains(&a) {
                problems.push(format!("{from} -> {to}: only main and commands use error.rs"));
            }
        }
    }
    problems.extend(cycles(&graph));
    assert!(
        problems.is_empty(),
        "import rule broken:\n{}",
        problems.join("\n")
    );
}

/// Files that import each other, directly or around a loop.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
        found: &mut Vec<String>,
    ) {
        marks.insert(node.to_string(), Mark::Open);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next.as_str()).copied().unwrap_or(Mark::New) {
                Mark::New => visit(next, graph, marks, stack, found),
                Mark::Open => {
                    let start = stack.iter().position(|n| n == next).unwrap_or(0);
                    found.push(format!("cycle: {} -> {next}", stack[start..].join(" -> ")));
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(node.to_string(), Mark::Done);
    }
    let mut marks = BTreeMap::new();
    let mut found = Vec::new();
    for node in graph.keys() {
        if marks.get(node.as_str()).copied().unwrap_or(Mark::New) == Mark::New {
            visit(node, graph, &mut marks, &mut Vec::new(), &mut found);
        }
    }
    found
}

#[test]
fn the_checker_sees_groups_and_loops() {
    let paths = heads_after("use crate::{books::{self, Client}, secret::Secret};", "crate::");
    assert_eq!(
        paths,
        vec![
            vec!["books".to_string()],
            vec!["books".to_string(), "Client".to_string()],
            vec!["secret".to_string(), "Secret".to_string()]
        ]
    );
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycles(&g).len(), 1);
}
