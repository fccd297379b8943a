//! Shell integration: completion scripts and the man pages, made from the
//! same clap definition as the parser, so they never drift from it.

use std::path::Path;

use anyhow::Context as _;
use clap::CommandFactory;

use crate::cli::{Cli, ManArgs, ENVIRONMENT};
use crate::error::UsageError;
use crate::output::Output;

pub fn completions(shell: clap_complete::Shell, out: &mut Output) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "gbooks", &mut script);
    out.raw(&script)?;
    Ok(())
}

/// `gbooks man [COMMAND...]` prints one page; `--dir DIR` writes them all.
pub fn man(args: &ManArgs, out: &mut Output) -> anyhow::Result<()> {
    let mut top = Cli::command().disable_help_subcommand(true);
    top.build();
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let written = write_pages(&top, dir)?;
        crate::messages::status(&format!("Wrote {written} man pages to {}.", dir.display()));
        return Ok(());
    }
    let mut cmd = &top;
    for name in &args.command {
        cmd = cmd.find_subcommand(name).ok_or_else(|| {
            let known: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
            UsageError::new(format!(
                "no man page for {:?}: the commands are {}",
                args.command.join(" "),
                known.join(", ")
            ))
        })?;
    }
    out.raw(&page(cmd)?)?;
    Ok(())
}

/// Writes `cmd`'s page and its subcommands' pages; how many.
fn write_pages(cmd: &clap::Command, dir: &Path) -> anyhow::Result<usize> {
    let mut written = 0;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        written += write_pages(sub, dir)?;
    }
    let path = dir.join(clap_mangen::Man::new(cmd.clone()).get_filename());
    std::fs::write(&path, page(cmd)?).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(written + 1)
}

/// One page: clap's sections, then what a man page reader looks for.
fn page(cmd: &clap::Command) -> anyhow::Result<Vec<u8>> {
    // Global options are hidden from -h, not from the man page.
    let shown = cmd.clone().mut_args(|a| a.hide_short_help(false));
    let man = clap_mangen::Man::new(shown)
        .manual("gbooks manual")
        .source(concat!("gbooks ", env!("CARGO_PKG_VERSION")));
    let mut roff = Vec::new();
    man.render_title(&mut roff)?;
    man.render_name_section(&mut roff)?;
    man.render_synopsis_section(&mut roff)?;
    man.render_description_section(&mut roff)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut roff)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut roff)?;
    }
    roff.extend_from_slice(COMMON_SECTIONS.as_bytes());
    for (name, what) in ENVIRONMENT {
        roff.extend_from_slice(format!(".TP\n.B {name}\n{}\n", escape(what)).as_bytes());
    }
    let mut see_also = vec![".BR gbooks (1)".to_string()];
    see_also.extend(cmd.get_subcommands().filter(|s| !s.is_hide_set()).map(|s| {
        let name = clap_mangen::Man::new(s.clone()).get_filename();
        format!(".BR {} (1)", name.trim_end_matches(".1"))
    }));
    if cmd.get_name() == "gbooks" {
        see_also.remove(0);
    }
    roff.extend_from_slice(b".SH \"SEE ALSO\"\n");
    for (i, line) in see_also.iter().enumerate() {
        let comma = if i + 1 < see_also.len() { " ," } else { "" };
        roff.extend_from_slice(format!("{line}{comma}\n").as_bytes());
    }
    roff.extend_from_slice(b"and README.md in the source.\n");
    Ok(roff)
}

/// Backslashes and a leading dot or quote would be read as roff.
fn escape(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    if text.starts_with(['.', '\'']) {
        format!("\\&{text}")
    } else {
        text
    }
}

const COMMON_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
.B 0
Success.
.TP
.B 1
Failure: the API or the network failed, or a file could not be read or written (such as a missing \-\-client\-secret file); for isbn, some ISBN was not found.
.TP
.B 2
Usage: a bad flag, argument, value or config.toml.
.TP
.B 3
Not found: no such volume or shelf.
.TP
.B 4
Authentication: not logged in, the login expired or was revoked, or the API key was refused.
.TP
.B 130
Interrupted by Ctrl\-C.
.SH FILES
.TP
.I ~/.config/gbooks/config.toml
Settings: api_key, format, country, cache_ttl, token_store, pager.
Edit it with
.BR "gbooks config" .
The directory is GBOOKS_CONFIG_DIR when set.
.TP
.I ~/.config/gbooks/credentials.json
The login, readable only by you, when no keyring is used.
.TP
.I ~/.config/gbooks/api_key
The API key stored by
.BR "gbooks auth key set" ,
readable only by you, when no keyring is used.
.TP
.I ~/.config/gbooks/client_secret.json
Your OAuth client, copied there by
.BR "gbooks login \-\-client\-secret" .
.TP
.I ~/.cache/gbooks/cache.db
The SQLite cache of public answers; GBOOKS_CACHE_DIR moves it.
.SH ENVIRONMENT
"#;
