use super::Context;
use crate::books::paging::Paging;
use crate::books::query::{Field, Terms};
use crate::books::{SearchParams, Volume};
use crate::cli::{wire, SearchArgs};
use crate::error::UsageError;
use crate::output::Output;

pub fn params(args: &SearchArgs, selector: Option<&str>) -> Result<SearchParams, UsageError> {
    let fields = [
        (Field::Title, &args.title),
        (Field::Author, &args.author),
        (Field::Publisher, &args.publisher),
        (Field::Subject, &args.subject),
        (Field::Isbn, &args.isbn),
        (Field::Lccn, &args.lccn),
        (Field::Oclc, &args.oclc),
    ];
    let terms = Terms {
        words: args.words.clone(),
        fields: fields
            .into_iter()
            .filter_map(|(f, v)| v.clone().map(|v| (f, v)))
            .collect(),
    };
    let q = terms
        .to_q()
        .ok_or_else(|| UsageError::new("empty query: give search words or a field flag such as --title"))?;
    if let Some(lang) = &args.lang {
        if lang.trim().is_empty() || !lang.chars().all(|c| c.is_ascii_alphabetic() || c == '-') {
            return Err(UsageError::new(format!(
                "--lang takes a language code such as en, not {lang:?}"
            )));
        }
    }
    Ok(SearchParams {
        q,
        filter: args.filter.map(wire),
        print_type: args.print_type.map(wire),
        order_by: args.order.map(wire),
        lang: args.lang.clone(),
        download: args.download.map(wire),
        projection: args.projection.map(wire),
        fields: selector.map(str::to_string),
    })
}

pub async fn run(ctx: &Context, args: &SearchArgs, out: &mut Output) -> anyhow::Result<()> {
    let params = params(args, out.fields::<Volume>())?;
    let client = ctx.client()?;
    let paging = Paging {
        limit: Some(usize::try_from(args.limit).unwrap_or(usize::MAX)),
        offset: usize::try_from(args.offset).unwrap_or(usize::MAX),
        jobs: ctx.jobs(),
    };
    super::print_pages(out, paging, |start, max| {
        let (client, params) = (&client, &params);
        async move { client.search(params, start, max).await }
    })
    .await
}
