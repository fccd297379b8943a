use super::Context;
use crate::cli::ShowArgs;
use crate::cover::Size;
use crate::error::UsageError;
use crate::output::Output;

pub async fn run(ctx: &Context, args: &ShowArgs, out: &mut Output) -> anyhow::Result<()> {
    let id = args.volume_id.trim();
    if id.is_empty() {
        return Err(UsageError::new("empty volume id").into());
    }
    let client = ctx.client().await?;
    let volume = client.volume(id, args.projection.map(Into::into)).await?;
    if !out.wants_picture() {
        out.volume(&volume)?;
        return Ok(());
    }
    // A cover that cannot be had is left out, without a word: the details
    // are what was asked for. Small is plenty for a dozen rows.
    let cover = match ctx.covers() {
        Ok(fetcher) => fetcher.best(&volume, Size::Small).await.ok(),
        Err(_) => None,
    };
    out.volume_with_cover(&volume, cover.as_ref().map(|c| c.bytes.as_slice()))?;
    Ok(())
}
