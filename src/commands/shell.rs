//! Shell integration: completion scripts and the man page, made from the
//! same clap definition as the parser, so they never drift from it.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::output::Output;

pub fn completions(shell: clap_complete::Shell, out: &mut Output) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "gbooks", &mut script);
    out.raw(&script)?;
    Ok(())
}

pub fn man(out: &mut Output) -> anyhow::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    out.raw(&page)?;
    Ok(())
}
