//! `gbooks cite`: a formatted reference per argument, ready to paste.

use super::{lookup, Context};
use crate::cli::CiteArgs;
use crate::error::{PartialFailure, UsageError};
use crate::output::{cite, Output};

pub async fn run(ctx: &Context, args: &CiteArgs, out: &mut Output) -> anyhow::Result<()> {
    if args.style.trim().eq_ignore_ascii_case("list") {
        out.styles()?;
        return Ok(());
    }
    let style = cite::find_style(&args.style).map_err(|e| UsageError::new(e.to_string()))?;
    let client = ctx.client().await?;
    let mut failed = 0;
    for item in &args.items {
        let found = lookup::volume(&client, item).await;
        match found {
            Ok(Some(v)) => out.reference(item, &v, &style)?,
            Ok(None) => {
                failed += 1;
                crate::messages::tell(&format!(
                    "gbooks: error: {}: no volume carries this ISBN",
                    crate::sanitize::terminal_line(item)
                ));
            }
            Err(e) => {
                failed += 1;
                let line = crate::error::message(&anyhow::Error::new(e));
                crate::messages::tell(&format!(
                    "gbooks: error: {}: {line}",
                    crate::sanitize::terminal_line(item)
                ));
            }
        }
    }
    out.finish_references()?;
    if failed > 0 {
        return Err(PartialFailure(format!("{failed} of {} could not be cited", args.items.len())).into());
    }
    Ok(())
}
