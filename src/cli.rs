//! The command line as clap sees it. Nothing here acts: `config` turns these
//! into settings and `commands` do the work.

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "gbooks",
    version,
    about = "Search Google Books and manage your shelves from the terminal",
    after_help = "Exit codes: 0 success, 1 failure, 2 usage, 3 not found, 4 authentication, 130 interrupted."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags that every command takes, before or after its name.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Output format [default: table, or `format` in config.toml]
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,

    /// Shorthand for --format json
    #[arg(long, global = true, conflicts_with = "format")]
    pub json: bool,

    /// API key for public data (else GBOOKS_API_KEY, else api_key in config.toml)
    #[arg(long, global = true, value_name = "KEY")]
    pub api_key: Option<String>,

    /// Seconds to wait for each attempt of a request
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<f64>,

    /// Two-letter country for availability and prices, e.g. US
    #[arg(long, global = true, value_name = "CC")]
    pub country: Option<String>,

    /// Log each request to stderr
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// How many requests run at once, 1 to 32 (ISBN lookups, pages of long lists)
    #[arg(long, global = true, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u8).range(1..=32))]
    pub jobs: u8,
}

fn parse_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() && v <= 86_400.0 => Ok(v),
        _ => Err("expected a number of seconds greater than 0".into()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once; boxing would only add noise
pub enum Command {
    /// Search for volumes
    Search(SearchArgs),
    /// Show one volume in detail
    Show(ShowArgs),
    /// Look up books by ISBN, from arguments or one a line on stdin
    Isbn(IsbnArgs),
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Search words, with Google's syntax (intitle:, inauthor:, "phrases", -exclude)
    #[arg(value_name = "WORDS")]
    pub words: Vec<String>,
    /// Words in the title
    #[arg(long, value_name = "T")]
    pub title: Option<String>,
    /// Words in the author's name
    #[arg(long, value_name = "A")]
    pub author: Option<String>,
    /// Words in the publisher's name
    #[arg(long, value_name = "P")]
    pub publisher: Option<String>,
    /// A subject category
    #[arg(long, value_name = "S")]
    pub subject: Option<String>,
    /// An ISBN
    #[arg(long, value_name = "I")]
    pub isbn: Option<String>,
    /// A Library of Congress Control Number
    #[arg(long, value_name = "L")]
    pub lccn: Option<String>,
    /// An OCLC number
    #[arg(long, value_name = "O")]
    pub oclc: Option<String>,
    /// Restrict by viewability or ebook availability
    #[arg(long, value_enum)]
    pub filter: Option<Filter>,
    /// Books, magazines or both
    #[arg(long, value_enum)]
    pub print_type: Option<PrintType>,
    /// Sort order
    #[arg(long, value_enum)]
    pub order: Option<Order>,
    /// Only volumes in this language (ISO 639-1, e.g. en)
    #[arg(long, value_name = "CODE")]
    pub lang: Option<String>,
    /// Only volumes with this download format
    #[arg(long, value_enum)]
    pub download: Option<Download>,
    /// How much of each volume the API returns
    #[arg(long, value_enum)]
    pub projection: Option<Projection>,
    /// How many volumes to show; above 40 it pages
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub limit: u64,
    /// Skip this many results first
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub offset: u64,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The volume id, e.g. AbyoDwAAQBAJ
    pub volume_id: String,
    /// How much of the volume the API returns
    #[arg(long, value_enum)]
    pub projection: Option<Projection>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "With no ISBN, or just `-`, ISBNs are read from stdin. Blank lines and # comments are skipped.\nExit status: 0 when every ISBN was found, 1 otherwise (after printing every result)."
)]
pub struct IsbnArgs {
    /// ISBN-10 or ISBN-13, hyphens and spaces allowed
    #[arg(value_name = "ISBN")]
    pub isbns: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Filter {
    Partial,
    Full,
    FreeEbooks,
    PaidEbooks,
    Ebooks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrintType {
    All,
    Books,
    Magazines,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Order {
    Relevance,
    Newest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Download {
    Epub,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Projection {
    Full,
    Lite,
}

/// The wire value of a clap enum: its kebab-case name, which is what the API takes.
pub fn wire<T: ValueEnum>(value: T) -> String {
    value
        .to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}
