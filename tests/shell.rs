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
