use super::Context;
use crate::cli::ShowArgs;
use crate::error::UsageError;
use crate::output::Output;

pub async fn run(ctx: &Context, args: &ShowArgs, out: &mut Output) -> anyhow::Result<()> {
    let id = args.volume_id.trim();
    if id.is_empty() {
        return Err(UsageError::new("empty volume id").into());
    }
    let client = ctx.client().await?;
    let volume = client.volume(id, args.projection.map(Into::into)).await?;
    out.volume(&volume)?;
    Ok(())
}
