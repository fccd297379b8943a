use super::Context;
use crate::books::paging::Paging;
use crate::books::query::{Field, Terms};
use crate::books::{Download, Filter, Order, PrintType, Projection};
use crate::books::{SearchParams, Volume};
use crate::cli::{self, SearchArgs};
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
        filter: args.filter.map(Into::into),
        print_type: args.print_type.map(Into::into),
        order_by: args.order.map(Into::into),
        lang: args.lang.clone(),
        download: args.download.map(Into::into),
        projection: args.projection.map(Into::into),
        fields: selector.map(str::to_string),
    })
}

pub async fn run(ctx: &Context, args: &SearchArgs, out: &mut Output) -> anyhow::Result<()> {
    let params = params(args, out.fields::<Volume>())?;
    let client = ctx.client().await?;
    let paging = Paging {
        limit: Some(usize::try_from(args.limit).unwrap_or(usize::MAX)),
        offset: usize::try_from(args.offset).unwrap_or(usize::MAX),
        jobs: ctx.jobs(),
    };
    super::print_pages(ctx, out, paging, |start, max| {
        let (client, params) = (&client, &params);
        async move { client.search(params, start, max).await }
    })
    .await
}

// What the user typed, as the client's typed parameters.

impl From<cli::Filter> for Filter {
    fn from(f: cli::Filter) -> Filter {
        match f {
            cli::Filter::Partial => Filter::Partial,
            cli::Filter::Full => Filter::Full,
            cli::Filter::FreeEbooks => Filter::FreeEbooks,
            cli::Filter::PaidEbooks => Filter::PaidEbooks,
            cli::Filter::Ebooks => Filter::Ebooks,
        }
    }
}

impl From<cli::PrintType> for PrintType {
    fn from(p: cli::PrintType) -> PrintType {
        match p {
            cli::PrintType::All => PrintType::All,
            cli::PrintType::Books => PrintType::Books,
            cli::PrintType::Magazines => PrintType::Magazines,
        }
    }
}

impl From<cli::Order> for Order {
    fn from(o: cli::Order) -> Order {
        match o {
            cli::Order::Relevance => Order::Relevance,
            cli::Order::Newest => Order::Newest,
        }
    }
}

impl From<cli::Download> for Download {
    fn from(d: cli::Download) -> Download {
        match d {
            cli::Download::Epub => Download::Epub,
        }
    }
}

impl From<cli::Projection> for Projection {
    fn from(p: cli::Projection) -> Projection {
        match p {
            cli::Projection::Full => Projection::Full,
            cli::Projection::Lite => Projection::Lite,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum as _;

    use super::*;

    /// The wire value is the flag's own spelling: the two must not drift.
    #[test]
    fn typed_parameters_match_the_flags() {
        let name = |v: clap::builder::PossibleValue| v.get_name().to_string();
        for f in cli::Filter::value_variants() {
            assert_eq!(Filter::from(*f).as_str(), name(f.to_possible_value().unwrap()));
        }
        for p in cli::PrintType::value_variants() {
            assert_eq!(PrintType::from(*p).as_str(), name(p.to_possible_value().unwrap()));
        }
        for o in cli::Order::value_variants() {
            assert_eq!(Order::from(*o).as_str(), name(o.to_possible_value().unwrap()));
        }
        for d in cli::Download::value_variants() {
            assert_eq!(Download::from(*d).as_str(), name(d.to_possible_value().unwrap()));
        }
        for p in cli::Projection::value_variants() {
            assert_eq!(
                Projection::from(*p).as_str(),
                name(p.to_possible_value().unwrap())
            );
        }
    }
}
