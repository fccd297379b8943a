//! Shell integration: completion scripts and the man page.

use crate::support::*;

#[test]
fn completion_scripts_for_every_shell() {
    let sb = Sandbox::new();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef gbooks"),
        ("fish", "complete -c gbooks"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[gbooks]"),
    ] {
        let out = sb.cmd(NOWHERE).args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = stdout(&out);
        assert!(
            script.contains(marker),
            "{shell}: {}",
            &script[..script.len().min(200)]
        );
        assert!(script.contains("shelves"), "{shell} completes subcommands");
    }
    let out = sb.cmd(NOWHERE).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn man_page_is_roff() {
    let sb = Sandbox::new();
    let out = sb.cmd(NOWHERE).arg("man").output().unwrap();
    assert!(out.status.success());
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH gbooks"),
        "{}",
        &page[..page.len().min(200)]
    );
    assert!(page.contains(".TH gbooks 1"));
    assert!(page.contains("search"));
}

/// Every page `man --dir` writes, by name, as `man -l` renders it; fails
/// on any groff warning.
fn rendered_pages(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let out = std::process::Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&path)
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .env("LC_ALL", "C.UTF-8")
            .output()
            .expect("man (man-db) is installed by .ci/run");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "groff warns about {name}");
        pages.push((name, stdout(&out)));
    }
    pages.sort();
    pages
}

#[test]
fn man_dir_writes_a_page_per_command_that_man_renders_cleanly() {
    let sb = Sandbox::new();
    let dir = sb.dir.path().join("man1");
    let out = sb.cmd(NOWHERE).args(["man", "--dir"]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let pages = rendered_pages(&dir);
    let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    for name in [
        "gbooks.1",
        "gbooks-search.1",
        "gbooks-shelves.1",
        "gbooks-shelves-add.1",
        "gbooks-shelves-clear.1",
        "gbooks-auth-key-set.1",
        "gbooks-config-set.1",
        "gbooks-cache-stats.1",
        "gbooks-man.1",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
    // Every GBOOKS_* variable the code reads is documented on every page.
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
    let vars = gbooks_variables(std::path::Path::new(src));
    assert!(vars.len() >= 8, "{vars:?}");
    for (name, text) in &pages {
        for section in ["SYNOPSIS", "ENVIRONMENT", "FILES", "EXIT STATUS", "SEE ALSO"] {
            assert!(text.contains(section), "{name} has no {section}");
        }
        for var in vars
            .iter()
            .chain(&["PAGER".to_string(), "NO_COLOR".into(), "BROWSER".into()])
        {
            assert!(text.contains(var.as_str()), "{name} does not mention {var}");
        }
        assert!(
            text.contains("config.toml") && text.contains("credentials.json") && text.contains("cache.db")
        );
    }
    let (_, add) = pages.iter().find(|(n, _)| n == "gbooks-shelves-add.1").unwrap();
    assert!(add.contains("gbooks shelves add"), "{add}");
    assert!(
        add.contains("GLOBAL OPTIONS") && add.contains("Output format"),
        "{add}"
    );
}

/// `GBOOKS_…` names in string literals under `dir`.
fn gbooks_variables(dir: &std::path::Path) -> std::collections::BTreeSet<String> {
    let mut found = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(gbooks_variables(&path));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for part in text.split("\"GBOOKS_").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            if part[name.len()..].starts_with('"') {
                found.insert(format!("GBOOKS_{name}"));
            }
        }
    }
    found
}

#[test]
fn man_prints_one_commands_page() {
    let sb = Sandbox::new();
    let out = sb.cmd(NOWHERE).args(["man", "search"]).output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains(".TH gbooks-search 1"), "{}", stdout(&out));
    let out = sb.cmd(NOWHERE).args(["man", "shelves", "add"]).output().unwrap();
    assert!(stdout(&out).contains(".TH gbooks-shelves-add 1"));
    let out = sb.cmd(NOWHERE).args(["man", "serch"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(one_error_line(&out).contains("search, show"), "{}", stderr(&out));
}

#[test]
fn help_ends_with_the_environment_and_short_help_hides_global_options() {
    let sb = Sandbox::new();
    let out = sb.cmd(NOWHERE).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = stdout(&out);
    let env_at = help.find("Environment:").expect("an Environment section");
    assert!(help[env_at..].contains("GBOOKS_API_KEY") && help[env_at..].contains("NO_COLOR"));
    assert!(help.trim_end().ends_with("`gbooks man COMMAND`."), "{help}");
    assert!(help.contains("README"));

    let out = sb.cmd(NOWHERE).args(["search", "-h"]).output().unwrap();
    let short = stdout(&out);
    assert!(
        short.contains("--title") && !short.contains("--api-key"),
        "{short}"
    );
    assert!(!short.contains("Global options"), "{short}");
    let out = sb.cmd(NOWHERE).args(["search", "--help"]).output().unwrap();
    let long = stdout(&out);
    let (own, global) = (
        long.find("--title").unwrap(),
        long.find("Global options:").unwrap(),
    );
    assert!(own < global && long[global..].contains("--api-key"), "{long}");
}
