//! The command line as clap sees it. Nothing here acts: `config` turns these
//! into settings and `commands` do the work.

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "gbooks",
    version,
    about = "Search Google Books and manage your shelves from the terminal",
    after_help = "Exit codes: 0 success, 1 failure, 2 usage, 3 not found, 4 authentication, 130 interrupted.\n--help shows the global options and the environment.",
    after_long_help = long_help_footer()
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags that every command takes, before or after its name.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Output format [default: table, or `format` in config.toml]
    #[arg(
        long,
        global = true,
        hide_short_help = true,
        value_enum,
        value_name = "FORMAT"
    )]
    pub format: Option<Format>,

    /// Shorthand for --format json
    #[arg(long, global = true, hide_short_help = true, conflicts_with = "format")]
    pub json: bool,

    /// API key for public data (else GBOOKS_API_KEY, else api_key in config.toml)
    #[arg(long, global = true, hide_short_help = true, value_name = "KEY")]
    pub api_key: Option<String>,

    /// Seconds to wait for each attempt of a request
    #[arg(long, global = true, hide_short_help = true, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<f64>,

    /// Two-letter country for availability and prices, e.g. US
    #[arg(long, global = true, hide_short_help = true, value_name = "CC")]
    pub country: Option<String>,

    /// How long cached answers stay fresh, e.g. 30m or 7d [default: 24h, or cache_ttl in config.toml]
    #[arg(long, global = true, hide_short_help = true, value_name = "DURATION", value_parser = parse_ttl)]
    pub cache_ttl: Option<std::time::Duration>,

    /// Neither read nor write the local cache
    #[arg(long, global = true, hide_short_help = true)]
    pub no_cache: bool,

    /// Log each request to stderr
    #[arg(short, long, global = true, hide_short_help = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Never page long output (else GBOOKS_PAGER, pager in config.toml, PAGER, or less -FRX)
    #[arg(long, global = true, hide_short_help = true)]
    pub no_pager: bool,

    /// Print only data and errors: no progress, warnings or notes
    #[arg(short, long, global = true, hide_short_help = true)]
    pub quiet: bool,

    /// When to colour tables (auto: on a terminal unless NO_COLOR, CLICOLOR=0 or TERM=dumb; CLICOLOR_FORCE=1 forces it)
    #[arg(long, global = true, hide_short_help = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Where the login is kept [default: auto, or GBOOKS_TOKEN_STORE, or token_store in config.toml]
    #[arg(long, global = true, hide_short_help = true, value_enum, value_name = "STORE")]
    pub token_store: Option<TokenStore>,

    /// How many requests run at once, 1 to 32 (ISBN lookups, pages of long lists)
    #[arg(long, global = true, hide_short_help = true, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u8).range(1..=32))]
    pub jobs: u8,

    /// When `show` draws the cover, and search tables thumbnails (always: half blocks where no graphics are known) [default: auto, or cover in config.toml]
    #[arg(long, global = true, value_enum, value_name = "WHEN", hide_short_help = true)]
    pub cover: Option<CoverChoice>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CoverChoice {
    /// Only on a terminal that can draw images (kitty, iTerm2, sixel)
    Auto,
    /// Also as Unicode half blocks elsewhere; thumbnails in search and shelf tables
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CoverSize {
    Small,
    Medium,
    Large,
    /// The largest real cover: extraLarge or large when shaped like a cover, else the thumbnail enlarged
    Best,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenStore {
    /// The keyring when one answers, else the file
    Auto,
    /// The OS keyring (Secret Service, Keychain, Credential Manager)
    Keyring,
    /// credentials.json in the config dir, readable only by you
    File,
}

fn parse_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() && v <= 86_400.0 => Ok(v),
        _ => Err("expected a number of seconds greater than 0".into()),
    }
}

/// Parses a time to live such as `30m`, `7d` or `1h 30m`.
pub fn parse_ttl(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("expected a duration such as 30m, 12h or 7d ({e})"))
}

/// `startIndex` is a uint32 for the API.
fn offset_range() -> clap::builder::RangedU64ValueParser<u64> {
    clap::value_parser!(u64).range(0..=u64::from(u32::MAX))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
    /// BibTeX @book entries
    Bibtex,
    /// BibLaTeX @book entries
    Biblatex,
    /// RIS records
    Ris,
    /// A CSL-JSON array, for pandoc, Zotero and citeproc
    CslJson,
    /// gbooks cite: a plain reference
    Text,
    /// gbooks cite: a reference with <i> and <b>
    Html,
    /// gbooks cite: a reference with *emphasis*
    Markdown,
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
    /// Print a formatted reference (APA, MLA, Chicago, IEEE, Harvard) for volumes or ISBNs
    Cite(CiteArgs),
    /// Find one book from its title, author or ISBN, ranked with reasons
    Identify(IdentifyArgs),
    /// Download the cover of volumes (by id or ISBN)
    Cover(CoverArgs),
    /// List and change bookshelves (yours after `gbooks login`, or anyone's public ones)
    Shelves(ShelvesArgs),
    /// Open a volume's Google Books page in the browser
    Open {
        /// The volume id, e.g. AbyoDwAAQBAJ
        volume_id: String,
    },
    /// Log in with your Google account (opens a browser)
    Login(LoginArgs),
    /// Revoke and delete the stored login
    Logout,
    /// Inspect the login
    Auth(AuthArgs),
    /// Look at or empty the local cache of answers
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff), or write them all with --dir
    Man(ManArgs),
    /// Read and change config.toml
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print, e.g. `search` or `shelves add` [default: gbooks itself]
    #[arg(value_name = "COMMAND", conflicts_with = "dir")]
    pub command: Vec<String>,
    /// Write gbooks.1 and one gbooks-<command>.1 per command into DIR
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print one setting's value as config.toml has it
    Get { key: String },
    /// Set a setting in config.toml, keeping its comments
    Set { key: String, value: String },
    /// Remove a setting from config.toml
    Unset { key: String },
    /// Every setting, its value, and where it comes from (flag, environment, file, default)
    List,
    /// Print where config.toml is
    Path,
}

/// The variables gbooks reads, for `--help` and the man pages.
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "GBOOKS_API_KEY",
        "API key for public data (below --api-key, above the stored key and config.toml)",
    ),
    (
        "GBOOKS_CONFIG_DIR",
        "Directory of config.toml, the login and the OAuth client [default: ~/.config/gbooks]",
    ),
    (
        "GBOOKS_CACHE_DIR",
        "Directory of the cache [default: ~/.cache/gbooks]",
    ),
    (
        "GBOOKS_TOKEN_STORE",
        "Where the login and key are kept: auto, keyring or file",
    ),
    (
        "GBOOKS_CLIENT_SECRET_FILE",
        "The OAuth client file [default: client_secret.json in the config dir]",
    ),
    (
        "GBOOKS_PAGER",
        "Pager for long output; empty for none (above pager in config.toml and PAGER)",
    ),
    (
        "GBOOKS_API_BASE",
        "Base URL of the Books API [default: https://www.googleapis.com/books/v1]",
    ),
    (
        "GBOOKS_REVOKE_URL",
        "Google's token revocation endpoint, for logout",
    ),
    (
        "PAGER",
        "Pager when neither GBOOKS_PAGER nor pager in config.toml is set [default: less -FRX]",
    ),
    ("BROWSER", "Browser for login and open"),
    ("NO_COLOR", "Any value: no colour (see no-color.org)"),
    ("CLICOLOR_FORCE", "Not 0: colour even when not on a terminal"),
    ("CLICOLOR", "0: no colour"),
    ("TERM", "dumb: no colour"),
    (
        "HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY",
        "Proxy for requests, and hosts that bypass it",
    ),
    (
        "XDG_CONFIG_HOME, XDG_CACHE_HOME",
        "Base directories for the config and the cache",
    ),
];

fn long_help_footer() -> String {
    footer("More: the README, `gbooks man` (or `man gbooks`) and `gbooks man COMMAND`.")
}

/// Exit codes, the environment and where to read more: the end of every
/// `--help`, the top one's and each subcommand's.
fn footer(more: &str) -> String {
    let mut text = String::from(
        "Exit codes: 0 success, 1 failure (including file-system errors), 2 usage, 3 not found, 4 authentication, 130 interrupted.\n\nEnvironment:\n",
    );
    for (name, what) in ENVIRONMENT {
        text.push_str(&format!("  {name}\n          {what}\n"));
    }
    text.push('\n');
    text.push_str(more);
    text
}

impl Cli {
    /// Parses the process's arguments with the footer on every subcommand's
    /// `--help` as well; `-h` keeps each command's short note.
    pub fn try_parse_args() -> Result<Cli, clap::Error> {
        Cli::parse_with_footers(std::env::args_os().collect())
    }

    /// The same for `args`. The footers are written only when long help
    /// may be shown (`--help`, or `help`): every run would otherwise
    /// format them for some forty commands before doing anything.
    fn parse_with_footers(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
        use clap::{CommandFactory, FromArgMatches};
        let mut command = Cli::command();
        let long_help = args
            .iter()
            .skip(1)
            .take_while(|a| *a != "--")
            .any(|a| a == "--help" || a == "help");
        if long_help {
            let names: Vec<String> = command
                .get_subcommands()
                .map(|c| c.get_name().to_owned())
                .collect();
            for name in names {
                command = command.mut_subcommand(name.clone(), |c| with_footer(c, &name));
            }
        }
        let mut matches = command.try_get_matches_from_mut(args)?;
        Cli::from_arg_matches_mut(&mut matches).map_err(|e| e.format(&mut command))
    }
}

fn with_footer(command: clap::Command, path: &str) -> clap::Command {
    let more = format!(
        "More: the README, `gbooks man {path}` and `man gbooks-{}`.",
        path.replace(' ', "-")
    );
    let mut text = command
        .get_after_help()
        .map(|note| format!("{note}\n\n"))
        .unwrap_or_default();
    text.push_str(&footer(&more));
    let mut command = command.after_long_help(text);
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    for name in names {
        let path = format!("{path} {name}");
        command = command.mut_subcommand(name, |c| with_footer(c, &path));
    }
    command
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Print where the cache file is
    Path,
    /// Count the cached answers, their size and the oldest one
    Stats,
    /// Remove every cached answer
    Clear,
}

#[derive(Debug, Args)]
#[command(after_help = "With login, --timeout SECS is how long to wait for the browser (default 300).")]
pub struct LoginArgs {
    /// Do not open a browser; also accept the redirect address pasted on stdin
    #[arg(long)]
    pub no_browser: bool,
    /// Google's OAuth client file (a Desktop app's client_secret.json); copied to the config dir
    #[arg(long, value_name = "FILE")]
    pub client_secret: Option<std::path::PathBuf>,
    /// Listen on this port of 127.0.0.1 instead of a free one
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
}

#[derive(Debug, Args)]
pub struct AuthArgs {
    #[command(subcommand)]
    pub command: AuthCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Whether you are logged in, where, and until when (exit 4 when not)
    Status,
    /// Print a valid access token, e.g. for curl -H "Authorization: Bearer $(gbooks auth token)"
    Token,
    /// Same as gbooks login
    Login(LoginArgs),
    /// Same as gbooks logout
    Logout,
    /// Keep the API key in the keyring (or the private file) instead of config.toml
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Read a key (typed without echo, or piped on stdin), check it and store it
    Set,
    /// Delete the stored key
    Remove,
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
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = offset_range())]
    pub offset: u64,
    #[command(flatten)]
    pub notes: NotesArgs,
    /// Also save each listed volume's cover in DIR (as `gbooks cover --dir DIR`)
    #[arg(long, value_name = "DIR", help_heading = "Options")]
    pub covers: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "ISBNs are looked up and checked against the volume found; anything else is a volume id.\nExit status: 0 when every cover was saved, 3 when none was because no usable cover exists, 1 otherwise."
)]
pub struct CoverArgs {
    /// Volume ids (e.g. AbyoDwAAQBAJ) or ISBNs
    #[arg(value_name = "ID_OR_ISBN", required = true)]
    pub targets: Vec<String>,
    /// Write the cover to FILE, `-` for stdout (one argument only)
    #[arg(short, long, value_name = "FILE", conflicts_with = "dir")]
    pub output: Option<std::path::PathBuf>,
    /// Write each cover to DIR as <ID>.<ext>, or <ISBN>.<ext> for an ISBN [default: .]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
    /// Which of the volume's images to get
    #[arg(long, value_enum, default_value_t = CoverSize::Best)]
    pub size: CoverSize,
    /// Replace files that exist
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The volume id, e.g. AbyoDwAAQBAJ
    pub volume_id: String,
    /// How much of the volume the API returns
    #[arg(long, value_enum)]
    pub projection: Option<Projection>,
    #[command(flatten)]
    pub notes: NotesArgs,
}

/// Volumes through a template of your own, to stdout or one file each.
#[derive(Debug, Args, Default, Clone)]
#[command(next_help_heading = "Templates")]
pub struct NotesArgs {
    /// Render each volume through this Jinja-style template (- for stdin)
    #[arg(long, value_name = "FILE")]
    pub template: Option<std::path::PathBuf>,
    /// Write one file per volume into DIR instead of stdout (needs --template and --filename)
    #[arg(long, value_name = "DIR", requires_all = ["template", "filename"])]
    pub output_dir: Option<std::path::PathBuf>,
    /// The name of each file, itself a template, e.g. '{{ authors[0] }} - {{ title }}.md'
    #[arg(long, value_name = "TEMPLATE", requires = "output_dir")]
    pub filename: Option<String>,
    /// Replace files that exist already in --output-dir
    #[arg(long, requires = "output_dir")]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Formats: --format text (the default), markdown or html; --json gives {input, id, style, reference} objects; bibtex, biblatex, ris and csl-json give the entries instead."
)]
pub struct CiteArgs {
    /// Volume ids or ISBNs (ISBNs are matched against the volume's own identifiers)
    #[arg(value_name = "ISBN_OR_ID", required = true)]
    pub items: Vec<String>,
    /// apa, mla, chicago, ieee, harvard, or `list` to name them
    #[arg(long, value_name = "STYLE", default_value = "apa")]
    pub style: String,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ShelvesArgs {
    #[command(subcommand)]
    pub action: Option<ShelvesCommand>,
    /// A user's public shelves instead of your own
    #[arg(long, value_name = "USER_ID")]
    pub user: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ShelvesCommand {
    /// List shelves (the default)
    List {
        /// A user's public shelves instead of your own
        #[arg(long, value_name = "USER_ID")]
        user: Option<String>,
    },
    /// List the volumes on a shelf
    Show {
        /// A shelf id, or a name such as "to read" or favorites
        shelf: String,
        /// A user's public shelf instead of your own
        #[arg(long, value_name = "USER_ID")]
        user: Option<String>,
        /// How many volumes to show [default: the whole shelf]
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        limit: Option<u64>,
        /// Skip this many volumes first
        #[arg(long, default_value_t = 0, value_name = "N", value_parser = offset_range())]
        offset: u64,
        #[command(flatten)]
        notes: NotesArgs,
        /// Also save each listed volume's cover in DIR
        #[arg(long, value_name = "DIR", help_heading = "Options")]
        covers: Option<std::path::PathBuf>,
    },
    /// Add a volume to one of your shelves
    Add { shelf: String, volume_id: String },
    /// Remove a volume from one of your shelves
    Remove { shelf: String, volume_id: String },
    /// Move a volume to a position on one of your shelves (0 is the top)
    Move {
        shelf: String,
        volume_id: String,
        #[arg(value_parser = clap::value_parser!(u32))]
        position: u32,
    },
    /// Remove every volume from one of your shelves
    Clear {
        shelf: String,
        /// Do not ask for confirmation (needed when not on a terminal)
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Debug, Args)]
#[command(
    after_help = "With no ISBN, or just `-`, ISBNs are read from stdin. Blank lines and # comments are skipped.\nExit status: 0 when every ISBN was found, 1 otherwise (after printing every result)."
)]
pub struct IsbnArgs {
    /// ISBN-10 or ISBN-13, hyphens and spaces allowed
    #[arg(value_name = "ISBN")]
    pub isbns: Vec<String>,
    #[command(flatten)]
    pub notes: NotesArgs,

    /// Also save each found volume's cover in DIR as <ISBN>.<ext>
    #[arg(long, value_name = "DIR", help_heading = "Options")]
    pub covers: Option<std::path::PathBuf>,

    /// When no volume carries the ISBN, take the best one Google returned anyway
    #[arg(long)]
    pub loose: bool,

    /// Replace each volume found with its full record (one more request per hit)
    #[arg(long)]
    pub full: bool,

    /// Write JSON Lines to FILE (atomically, at the end); an existing FILE is resumed
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,

    /// At most N requests per second across the run, e.g. 5 or 0.5
    #[arg(long, value_name = "N", value_parser = parse_rate)]
    pub rate: Option<f64>,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (1.0 / 3600.0..=10_000.0).contains(&v) => Ok(v),
        _ => Err("expected a number of requests per second, from 0.001 to 10000".into()),
    }
}

#[derive(Debug, Args)]
#[command(
    after_help = "At least one of --title and --isbn is needed.\nExit status: 0 with candidates, 3 when --best finds none scoring 50 or more."
)]
pub struct IdentifyArgs {
    /// The title, with or without its subtitle
    #[arg(long, short = 't', value_name = "T")]
    pub title: Option<String>,
    /// The author (the first one's surname is what counts)
    #[arg(long, short = 'a', value_name = "A")]
    pub author: Option<String>,
    /// An ISBN-10 or ISBN-13
    #[arg(long, short = 'i', value_name = "I")]
    pub isbn: Option<String>,
    /// The publisher
    #[arg(long, value_name = "P")]
    pub publisher: Option<String>,
    /// The language as a two-letter code, e.g. en (scored, never a filter)
    #[arg(long, value_name = "CODE")]
    pub lang: Option<String>,
    /// The year of publication
    #[arg(long, value_name = "Y", value_parser = clap::value_parser!(u16).range(1..=9999))]
    pub year: Option<u16>,
    /// Print only the best candidate, as `show` does
    #[arg(long)]
    pub best: bool,
    #[command(flatten)]
    pub notes: NotesArgs,
    /// Also save the cover of each candidate listed in DIR
    #[arg(long, value_name = "DIR", help_heading = "Options")]
    pub covers: Option<std::path::PathBuf>,
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn ttl_takes_human_durations() {
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_ttl(" 1h 30m "), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_ttl("0s"), Ok(Duration::ZERO));
        for bad in ["", "10", "7 days ago", "-1h", "soon"] {
            assert!(parse_ttl(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
