//! Covers: which of a volume's image links to try for a size, whether what
//! came back is a real cover, and how it lands on disk.

use std::io::{self, Cursor, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use md5::{Digest, Md5};
use serde_json::Value;
use url::Url;

use crate::books::Volume;
use crate::cache::Cache;
use crate::http::{self, Http};
use crate::isbn::Isbn;

/// A download larger than this is not a cover.
pub const MAX_COVER_BYTES: usize = 10 * 1024 * 1024;

/// MD5 of the images Google serves instead of an error when it has no
/// cover (calibre's `DUMMY_IMAGE_MD5`).
pub const PLACEHOLDERS: [[u8; 16]; 2] = [
    md5_hex("0de4383ebad0adad5eeb8975cd796657"),
    md5_hex("a64fa89d7ebc97075c1d363fc5fea71f"),
];

/// The width asked of Google's image server for a thumbnail link, as
/// calibre-web does; `edge=curl` is dropped so the cover has no page curl.
const ENLARGED_WIDTH: &str = "fife=w800";

/// The size the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Size {
    Small,
    Medium,
    Large,
    #[default]
    Best,
}

/// The keys of `volumeInfo.imageLinks`, smallest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Link {
    SmallThumbnail,
    Thumbnail,
    Small,
    Medium,
    Large,
    ExtraLarge,
}

impl Link {
    #[cfg(test)]
    pub const ALL: [Link; 6] = [
        Link::SmallThumbnail,
        Link::Thumbnail,
        Link::Small,
        Link::Medium,
        Link::Large,
        Link::ExtraLarge,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Link::SmallThumbnail => "smallThumbnail",
            Link::Thumbnail => "thumbnail",
            Link::Small => "small",
            Link::Medium => "medium",
            Link::Large => "large",
            Link::ExtraLarge => "extraLarge",
        }
    }
}

/// One URL to try, in the order [`candidates`] gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub url: Url,
    /// The link the URL comes from.
    pub link: Link,
    /// The thumbnail link asked for at 800 pixels wide.
    pub enlarged: bool,
    /// Whether the image must be shaped like a cover ([`is_cover_shaped`]):
    /// the two largest links do not always serve the front cover.
    pub check_aspect: bool,
}

/// What to try, in order: a step names a link, or the enlarged thumbnail.
#[derive(Clone, Copy)]
enum Step {
    Link(Link),
    Enlarged,
}

/// Each size: the links that match it, then smaller ones nearest first, then
/// larger ones. The enlarged thumbnail is about as wide as `large`.
fn steps(size: Size) -> &'static [Step] {
    use Link::*;
    use Step::{Enlarged, Link as L};
    match size {
        Size::Small => &[
            L(Small),
            L(Thumbnail),
            L(SmallThumbnail),
            L(Medium),
            L(Large),
            L(ExtraLarge),
        ],
        Size::Medium => &[
            L(Medium),
            L(Small),
            L(Thumbnail),
            L(SmallThumbnail),
            L(Large),
            L(ExtraLarge),
        ],
        Size::Large => &[
            L(Large),
            Enlarged,
            L(Medium),
            L(Small),
            L(Thumbnail),
            L(SmallThumbnail),
            L(ExtraLarge),
        ],
        Size::Best => &[
            L(ExtraLarge),
            L(Large),
            Enlarged,
            L(Medium),
            L(Small),
            L(Thumbnail),
            L(SmallThumbnail),
        ],
    }
}

/// The URLs to try for a volume's cover, best first; empty when it has none.
pub fn candidates(volume: &Volume, size: Size) -> Vec<Candidate> {
    let links = volume
        .raw()
        .get("volumeInfo")
        .and_then(|info| info.get("imageLinks"))
        .unwrap_or(&Value::Null);
    candidates_from_links(links, size)
}

/// [`candidates`] from a `volumeInfo.imageLinks` object. Links that are not
/// http(s) URLs are ignored; Google's are upgraded to https.
pub fn candidates_from_links(links: &Value, size: Size) -> Vec<Candidate> {
    let url_of = |link: Link| {
        let text = links.get(link.key())?.as_str()?;
        let url = Url::parse(text).ok()?;
        matches!(url.scheme(), "http" | "https").then(|| force_https(url))
    };
    let mut out: Vec<Candidate> = Vec::new();
    for step in steps(size) {
        let candidate = match *step {
            Step::Link(link) => url_of(link).map(|url| Candidate {
                url,
                link,
                enlarged: false,
                check_aspect: matches!(link, Link::Large | Link::ExtraLarge),
            }),
            Step::Enlarged => [Link::Thumbnail, Link::SmallThumbnail]
                .into_iter()
                .find_map(|link| Some((link, url_of(link)?)))
                .filter(|(_, url)| url.host_str().is_some_and(is_google_host))
                .map(|(link, url)| Candidate {
                    url: enlarge(&url),
                    link,
                    enlarged: true,
                    check_aspect: false,
                }),
        };
        if let Some(c) = candidate {
            if !out.iter().any(|seen| seen.url == c.url) {
                out.push(c);
            }
        }
    }
    out
}

/// A thumbnail URL asking Google for an 800-pixel-wide image without the page
/// curl: `edge` is dropped, `fife=w800` replaces any `fife`, the rest
/// (`zoom` included) is kept byte for byte.
pub fn enlarge(url: &Url) -> Url {
    let query = url.query().unwrap_or("");
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| {
            let name = p.split('=').next().unwrap_or("");
            !p.is_empty() && name != "edge" && name != "fife"
        })
        .collect();
    params.push(ENLARGED_WIDTH);
    let mut out = url.clone();
    out.set_query(Some(&params.join("&")));
    out
}

/// Google's book image hosts: `books.google.com`, its country variants
/// (`books.google.de`, `books.google.co.uk`, `books.google.com.au`) and
/// `books.googleusercontent.com`. All serve https; other hosts may not.
pub fn is_google_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    if host == "books.googleusercontent.com" {
        return true;
    }
    let Some(tld) = host.strip_prefix("books.google.") else {
        return false;
    };
    let country = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_lowercase());
    match tld.split_once('.') {
        None => tld == "com" || country(tld),
        Some((second, cc)) => (second == "co" || second == "com") && country(cc),
    }
}

/// The API's image links are `http://`; Google's hosts are fetched over https.
pub fn force_https(mut url: Url) -> Url {
    if url.scheme() == "http" && url.host_str().is_some_and(is_google_host) {
        // http -> https between special schemes cannot fail.
        let _ = url.set_scheme("https");
    }
    url
}

/// The image formats a cover may come in, told by their magic numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl ImageKind {
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpg",
            ImageKind::Png => "png",
            ImageKind::Gif => "gif",
            ImageKind::Webp => "webp",
        }
    }
}

/// The format of an image by its first bytes; Content-Type is not trusted.
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageKind::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageKind::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(ImageKind::Gif)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(ImageKind::Webp)
    } else {
        None
    }
}

/// Why a download is not a cover.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("the image is {size} bytes, more than the {MAX_COVER_BYTES} a cover may have")]
    TooLarge { size: usize },
    #[error("not a JPEG, PNG, GIF or WebP image")]
    NotAnImage,
    #[error("Google's placeholder image, not a cover")]
    Placeholder,
    #[error("the image's size cannot be read")]
    Unreadable,
    #[error("a {width}x{height} image is not shaped like a cover")]
    NotCoverShaped { width: u32, height: u32 },
}

/// Checks downloaded bytes: size, format by magic number, and not one of
/// `placeholders` (MD5 digests; [`PLACEHOLDERS`] outside tests).
pub fn check(bytes: &[u8], placeholders: &[[u8; 16]]) -> Result<ImageKind, Rejected> {
    if bytes.len() > MAX_COVER_BYTES {
        return Err(Rejected::TooLarge { size: bytes.len() });
    }
    let kind = sniff(bytes).ok_or(Rejected::NotAnImage)?;
    let digest: [u8; 16] = Md5::digest(bytes).into();
    if placeholders.contains(&digest) {
        return Err(Rejected::Placeholder);
    }
    Ok(kind)
}

/// [`check`], then the shape when the candidate asks for it.
pub fn accept(candidate: &Candidate, bytes: &[u8], placeholders: &[[u8; 16]]) -> Result<ImageKind, Rejected> {
    let kind = check(bytes, placeholders)?;
    if candidate.check_aspect {
        let (width, height) = dimensions(bytes).ok_or(Rejected::Unreadable)?;
        if !is_cover_shaped(width, height) {
            return Err(Rejected::NotCoverShaped { width, height });
        }
    }
    Ok(kind)
}

/// Width and height in pixels, read from the header without decoding.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()
}

/// A book cover is taller than wide: height / width between 1.2 and 1.7.
pub fn is_cover_shaped(width: u32, height: u32) -> bool {
    // In integers: 1.2 w <= h <= 1.7 w.
    let (w, h) = (u64::from(width), u64::from(height));
    w > 0 && 12 * w <= 10 * h && 10 * h <= 17 * w
}

/// `<ID>.<ext>`, or None for an id with anything but ASCII letters, digits,
/// `-` and `_`: ids come from the network and must not name a path.
pub fn file_name_for_id(id: &str, kind: ImageKind) -> Option<String> {
    let safe = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    (!id.is_empty() && id.len() <= 64 && id.bytes().all(safe)).then(|| format!("{id}.{}", kind.extension()))
}

/// `<ISBN>.<ext>`, the ISBN in the digits-only form it was given in.
pub fn file_name_for_isbn(isbn: &Isbn, kind: ImageKind) -> String {
    format!("{}.{}", isbn.as_str(), kind.extension())
}

/// Why a cover could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("{} exists; use --force to replace it", .0.display())]
    Exists(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// Writes `bytes` to `path` all at once: a temporary file in the same
/// directory, synced, then renamed over it, so that no reader ever sees half
/// a cover. An existing file is only replaced when `force` is set.
pub fn save(path: &Path, bytes: &[u8], force: bool) -> Result<(), SaveError> {
    let io_error = |source| SaveError::Io {
        path: path.to_path_buf(),
        source,
    };
    if !force && path.symlink_metadata().is_ok() {
        return Err(SaveError::Exists(path.to_path_buf()));
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".gbooks-cover-").suffix(".part");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // An ordinary file, as the umask allows; tempfile's default is 0600.
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(io_error)?;
    tmp.write_all(bytes).map_err(io_error)?;
    tmp.as_file().sync_all().map_err(io_error)?;
    let persisted = if force {
        tmp.persist(path)
    } else {
        // Refuses atomically should the file have appeared meanwhile.
        tmp.persist_noclobber(path)
    };
    persisted.map(drop).map_err(|e| match e.error.kind() {
        io::ErrorKind::AlreadyExists if !force => SaveError::Exists(path.to_path_buf()),
        _ => io_error(e.error),
    })
}

/// Redirects followed for one image; Google's content links may bounce once.
const MAX_REDIRECTS: usize = 5;

/// Why a volume has no cover to save.
#[derive(Debug, thiserror::Error)]
pub enum CoverError {
    #[error("no usable cover: the volume has no image links")]
    NoLinks,
    /// Every link was tried; what each gave.
    #[error("no usable cover ({0})")]
    Unusable(String),
    /// A link could not be fetched, and none before it was usable.
    #[error("{0}")]
    Http(#[from] http::Error),
}

/// A cover that passed the checks.
#[derive(Debug, Clone)]
pub struct Cover {
    pub bytes: Vec<u8>,
    pub kind: ImageKind,
    /// The link it came from, and whether that was the enlarged thumbnail.
    pub link: Link,
    pub enlarged: bool,
}

/// What one URL gave.
enum Got {
    Image(Vec<u8>),
    Refused(String),
}

/// Downloads covers through the run's HTTP client (no credentials, a capped
/// body) and keeps them in the cache, so a re-run downloads nothing.
#[derive(Clone)]
pub struct Fetcher {
    http: Http,
    cache: Option<Arc<Cache>>,
}

impl Fetcher {
    pub fn new(http: Http, cache: Option<Arc<Cache>>) -> Fetcher {
        Fetcher { http, cache }
    }

    /// The first usable cover of `volume` for `size`.
    pub async fn best(&self, volume: &Volume, size: Size) -> Result<Cover, CoverError> {
        self.first_usable(&candidates(volume, size), &PLACEHOLDERS).await
    }

    /// A small image for a table cell: the smallest link, not enlarged.
    pub async fn thumbnail(&self, volume: &Volume) -> Result<Cover, CoverError> {
        let mut list = candidates(volume, Size::Small);
        list.retain(|c| !c.enlarged);
        list.sort_by_key(|c| c.link);
        list.truncate(2);
        self.first_usable(&list, &PLACEHOLDERS).await
    }

    /// Tries each candidate in turn; a refused image moves on to the next.
    pub async fn first_usable(
        &self,
        list: &[Candidate],
        placeholders: &[[u8; 16]],
    ) -> Result<Cover, CoverError> {
        if list.is_empty() {
            return Err(CoverError::NoLinks);
        }
        let mut refused = Vec::new();
        let mut unreachable = None;
        for candidate in list {
            let why = match self.get(&candidate.url).await {
                Ok(Got::Image(bytes)) => match accept(candidate, &bytes, placeholders) {
                    Ok(kind) => {
                        return Ok(Cover {
                            bytes,
                            kind,
                            link: candidate.link,
                            enlarged: candidate.enlarged,
                        })
                    }
                    Err(rejected) => rejected.to_string(),
                },
                Ok(Got::Refused(why)) => why,
                Err(http::Error::BodyTooLarge { .. }) => Rejected::TooLarge {
                    size: MAX_COVER_BYTES + 1,
                }
                .to_string(),
                Err(e) => {
                    let why = e.to_string();
                    unreachable.get_or_insert(e);
                    why
                }
            };
            let name = if candidate.enlarged {
                format!("{} enlarged", candidate.link.key())
            } else {
                candidate.link.key().to_string()
            };
            tracing::info!("cover {name}: {why}");
            refused.push(format!("{name}: {why}"));
        }
        match unreachable {
            Some(e) => Err(CoverError::Http(e)),
            None => Err(CoverError::Unusable(refused.join("; "))),
        }
    }

    /// The body at `url`, from the cache or the network, redirects followed.
    /// Only images are cached: an error page must not stick.
    async fn get(&self, url: &Url) -> Result<Got, http::Error> {
        if let Some(bytes) = self.cache.as_ref().and_then(|c| c.cover_get(url.as_str())) {
            tracing::info!("GET {} -> cached", http::redact_url(url));
            return Ok(Got::Image(bytes));
        }
        let mut at = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let reply = self.http.get_bounded(&at, MAX_COVER_BYTES).await?;
            match reply.status {
                200..=299 => {
                    if let (Some(cache), Some(_)) = (&self.cache, sniff(&reply.body)) {
                        cache.cover_put(url.as_str(), &reply.body);
                    }
                    return Ok(Got::Image(reply.body));
                }
                300..=399 => {
                    let next = reply.location.as_deref().and_then(|l| at.join(l).ok());
                    match next.filter(|u| matches!(u.scheme(), "http" | "https")) {
                        Some(next) => at = force_https(next),
                        None => {
                            return Ok(Got::Refused(format!(
                                "HTTP {} without a usable Location",
                                reply.status
                            )))
                        }
                    }
                }
                status => return Ok(Got::Refused(format!("HTTP {status}"))),
            }
        }
        Ok(Got::Refused("too many redirects".into()))
    }
}

/// 32 hex digits to 16 bytes, at compile time.
const fn md5_hex(hex: &str) -> [u8; 16] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lower-case hex digit"),
        }
    }
    let bytes = hex.as_bytes();
    assert!(bytes.len() == 32, "an MD5 is 32 hex digits");
    let mut out = [0u8; 16];
    let mut i = 0;
    while i < 16 {
        out[i] = nibble(bytes[2 * i]) << 4 | nibble(bytes[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/covers");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(Path::new(FIXTURES).join(name)).unwrap()
    }

    const ALL_LINKS: &str = include_str!("../tests/fixtures/covers/volume_all_links.json");

    /// The links of the recorded volume AbyoDwAAQBAJ, which has all six.
    fn all_links() -> Value {
        let volume: Value = serde_json::from_str(ALL_LINKS).unwrap();
        volume["volumeInfo"]["imageLinks"].clone()
    }

    fn link_url(link: Link) -> String {
        format!(
            "http://books.google.com/books/content?id=X&printsec=frontcover&img=1&zoom={}&edge=curl&source=gbs_api",
            link as u8
        )
    }

    fn links_of(set: &[Link]) -> Value {
        let map = set
            .iter()
            .map(|&l| (l.key().to_string(), Value::String(link_url(l))));
        Value::Object(map.collect())
    }

    fn picked(links: &Value, size: Size) -> Vec<(Link, bool)> {
        candidates_from_links(links, size)
            .into_iter()
            .map(|c| (c.link, c.enlarged))
            .collect()
    }

    #[test]
    fn best_goes_from_largest_to_smallest_with_the_enlarged_thumbnail_after_large() {
        use Link::*;
        let expected = vec![
            (ExtraLarge, false),
            (Large, false),
            (Thumbnail, true),
            (Medium, false),
            (Small, false),
            (Thumbnail, false),
            (SmallThumbnail, false),
        ];
        assert_eq!(picked(&links_of(&Link::ALL), Size::Best), expected);
        assert_eq!(picked(&all_links(), Size::Best), expected);
        // A search result: the enlarged thumbnail comes first.
        assert_eq!(
            picked(&links_of(&[SmallThumbnail, Thumbnail]), Size::Best),
            vec![(Thumbnail, true), (Thumbnail, false), (SmallThumbnail, false)]
        );
        // Without a thumbnail the small one is enlarged.
        assert_eq!(
            picked(&links_of(&[SmallThumbnail]), Size::Best),
            vec![(SmallThumbnail, true), (SmallThumbnail, false)]
        );
        assert_eq!(Size::default(), Size::Best);
    }

    #[test]
    fn each_size_prefers_its_own_link_then_smaller_then_larger() {
        use Link::*;
        let all = links_of(&Link::ALL);
        let order = |size| picked(&all, size);
        assert_eq!(
            order(Size::Small),
            [Small, Thumbnail, SmallThumbnail, Medium, Large, ExtraLarge].map(|l| (l, false))
        );
        assert_eq!(
            order(Size::Medium),
            [Medium, Small, Thumbnail, SmallThumbnail, Large, ExtraLarge].map(|l| (l, false))
        );
        assert_eq!(order(Size::Large)[..2], [(Large, false), (Thumbnail, true)]);
        assert_eq!(order(Size::Large).last(), Some(&(ExtraLarge, false)));
        assert_eq!(
            picked(&links_of(&[Thumbnail, Large]), Size::Medium)[0],
            (Thumbnail, false)
        );
    }

    #[test]
    fn every_combination_of_links_gives_a_sound_list_for_every_size() {
        for mask in 0u8..64 {
            let present: Vec<Link> = Link::ALL
                .into_iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, l)| l)
                .collect();
            let links = links_of(&present);
            for size in [Size::Small, Size::Medium, Size::Large, Size::Best] {
                let list = candidates_from_links(&links, size);
                let context = format!("{present:?} {size:?}");
                // Every present link is tried once, plus at most the enlarged thumbnail.
                let plain: Vec<Link> = list.iter().filter(|c| !c.enlarged).map(|c| c.link).collect();
                let mut sorted = plain.clone();
                sorted.sort();
                assert_eq!(sorted, present, "{context}");
                let enlarged: Vec<&Candidate> = list.iter().filter(|c| c.enlarged).collect();
                let can_enlarge =
                    present.contains(&Link::Thumbnail) || present.contains(&Link::SmallThumbnail);
                let wants_big = matches!(size, Size::Large | Size::Best);
                assert_eq!(enlarged.len(), usize::from(can_enlarge && wants_big), "{context}");
                for c in &list {
                    assert_eq!(c.url.scheme(), "https", "{context}");
                    assert_eq!(
                        c.check_aspect,
                        matches!(c.link, Link::Large | Link::ExtraLarge) && !c.enlarged
                    );
                    assert_eq!(
                        c.url.query().unwrap().contains("fife=w800"),
                        c.enlarged,
                        "{context}"
                    );
                }
                // The first candidate is the biggest link for best, the asked one when present.
                if let Some(first) = list.first() {
                    let expected = match size {
                        Size::Best => present.iter().copied().filter(|l| *l >= Link::Large).max(),
                        Size::Large => present.contains(&Link::Large).then_some(Link::Large),
                        Size::Medium => present.contains(&Link::Medium).then_some(Link::Medium),
                        Size::Small => present.contains(&Link::Small).then_some(Link::Small),
                    };
                    if let Some(expected) = expected {
                        assert_eq!((first.link, first.enlarged), (expected, false), "{context}");
                    } else if wants_big && can_enlarge {
                        assert!(first.enlarged, "{context}");
                    }
                } else {
                    assert!(present.is_empty(), "{context}");
                }
            }
        }
    }

    #[test]
    fn a_volume_without_image_links_has_no_candidates() {
        let volume = Volume::from_value(json!({"id": "x", "volumeInfo": {"title": "t"}})).unwrap();
        assert!(candidates(&volume, Size::Best).is_empty());
        let odd = json!({"thumbnail": 3, "small": "not a url", "medium": "ftp://books.google.com/a", "large": null});
        assert!(candidates_from_links(&odd, Size::Best).is_empty());
    }

    #[test]
    fn candidates_read_the_volume_json() {
        let volume: Volume = serde_json::from_str(ALL_LINKS).unwrap();
        let list = candidates(&volume, Size::Best);
        assert_eq!(list.len(), 7);
        assert_eq!(list[0].link, Link::ExtraLarge);
        assert!(list[0]
            .url
            .as_str()
            .starts_with("https://books.google.com/books/publisher/content?id=AbyoDwAAQBAJ"));
    }

    #[test]
    fn only_google_hosts_are_upgraded_to_https() {
        let upgraded = |s: &str| force_https(Url::parse(s).unwrap()).scheme().to_string();
        for host in [
            "books.google.com",
            "BOOKS.GOOGLE.COM",
            "books.google.de",
            "books.google.co.uk",
            "books.google.com.au",
            "books.googleusercontent.com",
        ] {
            assert_eq!(
                upgraded(&format!("http://{host}/books/content?id=1")),
                "https",
                "{host}"
            );
        }
        for host in [
            "example.com",
            "covers.openlibrary.org",
            "books.google.evil.com",
            "books.google.com.evil.net",
            "google.com",
            "notbooks.google.com",
            "books.googleusercontent.com.example",
            "127.0.0.1",
        ] {
            assert_eq!(upgraded(&format!("http://{host}/a.jpg")), "http", "{host}");
        }
        assert_eq!(upgraded("https://example.com/a.jpg"), "https");
        let links = json!({"thumbnail": "http://example.com/a.jpg", "small": "http://books.google.com/b"});
        let list = candidates_from_links(&links, Size::Best);
        let urls: Vec<&str> = list.iter().map(|c| c.url.as_str()).collect();
        // A foreign thumbnail is neither upgraded nor enlarged.
        assert_eq!(urls, ["https://books.google.com/b", "http://example.com/a.jpg"]);
    }

    #[test]
    fn enlarging_drops_the_curl_asks_for_800_pixels_and_keeps_the_rest() {
        let url = Url::parse(
            "https://books.google.com/books/content?id=otPZCwAAQBAJ&printsec=frontcover&img=1&zoom=1&edge=curl&source=gbs_api",
        )
        .unwrap();
        assert_eq!(
            enlarge(&url).as_str(),
            "https://books.google.com/books/content?id=otPZCwAAQBAJ&printsec=frontcover&img=1&zoom=1&source=gbs_api&fife=w800"
        );
        let again = enlarge(&enlarge(&url));
        assert_eq!(again, enlarge(&url));
        let odd = Url::parse("https://books.google.com/c?edge&fife=w100-h100&imgtk=A_b-C&&x=1").unwrap();
        assert_eq!(
            enlarge(&odd).as_str(),
            "https://books.google.com/c?imgtk=A_b-C&x=1&fife=w800"
        );
        let bare = Url::parse("https://books.google.com/c").unwrap();
        assert_eq!(enlarge(&bare).as_str(), "https://books.google.com/c?fife=w800");
    }

    #[test]
    fn cover_shape_is_height_over_width_between_1_2_and_1_7() {
        assert!(is_cover_shaped(128, 192));
        assert!(is_cover_shaped(100, 120));
        assert!(is_cover_shaped(100, 170));
        assert!(!is_cover_shaped(100, 119));
        assert!(!is_cover_shaped(100, 171));
        assert!(!is_cover_shaped(300, 200));
        assert!(!is_cover_shaped(0, 0));
        assert!(!is_cover_shaped(0, 10));
        assert!(is_cover_shaped(u32::MAX / 3 * 2, u32::MAX));
    }

    #[test]
    fn the_aspect_check_reads_the_header_and_applies_to_large_links_only() {
        let url = Url::parse("https://books.google.com/c").unwrap();
        let large = Candidate {
            url,
            link: Link::Large,
            enlarged: false,
            check_aspect: true,
        };
        let thumb = Candidate {
            link: Link::Thumbnail,
            check_aspect: false,
            ..large.clone()
        };
        let wide = fixture("wide.png");
        assert_eq!(dimensions(&wide), Some((30, 20)));
        assert_eq!(
            accept(&large, &wide, &PLACEHOLDERS),
            Err(Rejected::NotCoverShaped {
                width: 30,
                height: 20
            })
        );
        assert_eq!(accept(&thumb, &wide, &PLACEHOLDERS), Ok(ImageKind::Png));
        let cover = fixture("cover.jpg");
        assert_eq!(dimensions(&cover), Some((20, 30)));
        assert_eq!(accept(&large, &cover, &PLACEHOLDERS), Ok(ImageKind::Jpeg));
        // Right magic number, broken header.
        let truncated = &cover[..4];
        assert_eq!(
            accept(&large, truncated, &PLACEHOLDERS),
            Err(Rejected::Unreadable)
        );
    }

    #[test]
    fn sniffing_goes_by_magic_numbers() {
        assert_eq!(sniff(&fixture("cover.jpg")), Some(ImageKind::Jpeg));
        assert_eq!(sniff(&fixture("2x2.png")), Some(ImageKind::Png));
        assert_eq!(sniff(&fixture("cover.gif")), Some(ImageKind::Gif));
        assert_eq!(sniff(&fixture("cover.webp")), Some(ImageKind::Webp));
        assert_eq!(sniff(&fixture("not-a-cover.html")), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEB"), None);
        let exts: Vec<&str> = [ImageKind::Jpeg, ImageKind::Png, ImageKind::Gif, ImageKind::Webp]
            .map(ImageKind::extension)
            .to_vec();
        assert_eq!(exts, ["jpg", "png", "gif", "webp"]);
    }

    #[test]
    fn checks_reject_html_placeholders_and_oversized_bodies() {
        let html = fixture("not-a-cover.html");
        assert_eq!(check(&html, &PLACEHOLDERS), Err(Rejected::NotAnImage));
        assert_eq!(check(b"", &PLACEHOLDERS), Err(Rejected::NotAnImage));

        let cover = fixture("cover.jpg");
        assert_eq!(check(&cover, &PLACEHOLDERS), Ok(ImageKind::Jpeg));
        let hash: [u8; 16] = Md5::digest(&cover).into();
        assert_eq!(check(&cover, &[hash]), Err(Rejected::Placeholder));
        assert_eq!(check(&fixture("cover.gif"), &[hash]), Ok(ImageKind::Gif));

        assert_eq!(MAX_COVER_BYTES, 10 * 1024 * 1024);
        let mut big = cover.clone();
        big.resize(MAX_COVER_BYTES, 0);
        assert_eq!(check(&big, &PLACEHOLDERS), Ok(ImageKind::Jpeg));
        big.push(0);
        assert_eq!(
            check(&big, &PLACEHOLDERS),
            Err(Rejected::TooLarge {
                size: MAX_COVER_BYTES + 1
            })
        );
    }

    #[test]
    fn the_placeholder_digests_are_calibres() {
        let hex = |d: &[u8; 16]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(&PLACEHOLDERS[0]), "0de4383ebad0adad5eeb8975cd796657");
        assert_eq!(hex(&PLACEHOLDERS[1]), "a64fa89d7ebc97075c1d363fc5fea71f");
    }

    /// A placeholder (its digest injected) is refused and the next link
    /// tried; redirects are followed; the second time comes from the cache.
    #[tokio::test]
    async fn the_fetcher_skips_placeholders_follows_redirects_and_caches() {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};

        let server = MockServer::start().await;
        let placeholder = fixture("cover.gif");
        let digest: [u8; 16] = Md5::digest(&placeholder).into();
        let routes: [(&str, ResponseTemplate, u64); 3] = [
            ("/grey", ResponseTemplate::new(200).set_body_bytes(placeholder), 1),
            (
                "/moved",
                ResponseTemplate::new(302).insert_header("location", "/real"),
                1,
            ),
            (
                "/real",
                ResponseTemplate::new(200).set_body_bytes(fixture("cover.jpg")),
                1,
            ),
        ];
        for (at, reply, times) in routes {
            Mock::given(method("GET"))
                .and(path(at))
                .respond_with(reply)
                .expect(times)
                .mount(&server)
                .await;
        }
        let candidate = |p: &str, link| Candidate {
            url: Url::parse(&format!("{}{p}", server.uri())).unwrap(),
            link,
            enlarged: false,
            check_aspect: false,
        };
        let list = [
            candidate("/grey", Link::Large),
            candidate("/moved", Link::Thumbnail),
        ];
        let dir = tempfile::tempdir().unwrap();
        let cache =
            Cache::open_with(dir.path(), std::time::Duration::from_secs(60), 1 << 20, |_| {}).unwrap();
        let fetcher = Fetcher::new(
            Http::new(std::time::Duration::from_secs(5)).unwrap(),
            Some(Arc::new(cache)),
        );
        for _ in 0..2 {
            let cover = fetcher.first_usable(&list, &[digest]).await.unwrap();
            assert_eq!((cover.kind, cover.link), (ImageKind::Jpeg, Link::Thumbnail));
            assert_eq!(cover.bytes, fixture("cover.jpg"));
        }
        // With only the placeholder, there is no usable cover, and it says why.
        let err = fetcher.first_usable(&list[..1], &[digest]).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "no usable cover (large: Google's placeholder image, not a cover)"
        );
        assert!(matches!(
            fetcher.first_usable(&[], &[digest]).await,
            Err(CoverError::NoLinks)
        ));
        server.verify().await;
    }

    #[tokio::test]
    async fn an_unreachable_host_is_a_transport_error_not_a_missing_cover() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let list = [Candidate {
            url: Url::parse(&format!("http://127.0.0.1:{port}/x.jpg")).unwrap(),
            link: Link::Thumbnail,
            enlarged: false,
            check_aspect: false,
        }];
        let fetcher = Fetcher::new(Http::new(std::time::Duration::from_secs(5)).unwrap(), None);
        let err = fetcher.first_usable(&list, &PLACEHOLDERS).await.unwrap_err();
        assert!(
            matches!(err, CoverError::Http(http::Error::Transport { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn file_names_come_from_the_id_or_the_isbn() {
        assert_eq!(
            file_name_for_id("OT-dEAAAQBAJ", ImageKind::Jpeg).as_deref(),
            Some("OT-dEAAAQBAJ.jpg")
        );
        assert_eq!(
            file_name_for_id("a_b", ImageKind::Webp).as_deref(),
            Some("a_b.webp")
        );
        for bad in [
            "",
            "../etc/passwd",
            "a/b",
            "a.b",
            ".hidden",
            "a b",
            "é",
            &"x".repeat(65),
        ] {
            assert_eq!(file_name_for_id(bad, ImageKind::Png), None, "{bad:?}");
        }
        let isbn = Isbn::parse("ISBN 978-0-306-40615-7").unwrap();
        assert_eq!(file_name_for_isbn(&isbn, ImageKind::Png), "9780306406157.png");
        let isbn10 = Isbn::parse("0-8044-2957-x").unwrap();
        assert_eq!(file_name_for_isbn(&isbn10, ImageKind::Gif), "080442957X.gif");
    }

    #[test]
    fn saving_refuses_to_replace_unless_forced_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("X.jpg");
        save(&path, b"first", false).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");

        let err = save(&path, b"second", false).unwrap_err();
        assert!(matches!(&err, SaveError::Exists(p) if p == &path), "{err:?}");
        assert!(
            err.to_string()
                .ends_with("X.jpg exists; use --force to replace it"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"first");

        save(&path, b"second", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");

        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["X.jpg"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o600, 0o600);
            assert_eq!(mode & 0o133, 0, "{mode:o}");
        }
    }

    #[test]
    fn saving_reports_a_missing_directory_and_a_dangling_link() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("X.jpg");
        assert!(matches!(save(&path, b"x", true), Err(SaveError::Io { .. })));
        #[cfg(unix)]
        {
            let link = dir.path().join("link.jpg");
            std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
            assert!(matches!(save(&link, b"x", false), Err(SaveError::Exists(_))));
            assert!(!dir.path().join("nowhere").exists());
        }
    }
}
