use super::Context;
use crate::cli::{wire, ShowArgs};
use crate::error::UsageError;
use crate::output::Output;

pub async fn run(ctx: &Context, args: &ShowArgs, out: &mut Output) -> anyhow::Result<()> {
    let id = args.volume_id.trim();
    if id.is_empty() {
        return Err(UsageError::new("empty volume id").into());
    }
    let client = ctx.client()?;
    let projection = args.projection.map(wire);
    let volume = client.volume(id, projection.as_deref()).await?;
    out.volume(&volume)?;
    Ok(())
}
