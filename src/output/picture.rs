//! A cover drawn in the terminal: kitty or iTerm2 inline images, sixel, or
//! coloured half blocks wherever graphics are unknown.

use std::io::Cursor;

use base64::Engine;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader, Limits, RgbImage};

/// How a picture reaches the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Kitty,
    Iterm2,
    Sixel,
    HalfBlocks,
}

#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    #[error("cannot decode the image: {0}")]
    Decode(#[source] image::ImageError),
    #[error("cannot encode the image: {0}")]
    Encode(#[source] image::ImageError),
    #[error("no room to draw a picture")]
    NoRoom,
}

/// Pixels per cell assumed where the terminal's own are unknown: cells are
/// about twice as tall as wide.
const CELL_WIDTH: u32 = 10;
const CELL_HEIGHT: u32 = 20;

/// Images sent to kitty are cut down to twice the assumed cell size (HiDPI
/// screens) so that a large cover does not cost megabytes of escapes.
const KITTY_SCALE: u32 = 2;

/// kitty's limit on one escape's payload.
const KITTY_CHUNK: usize = 4096;

/// Larger images are refused rather than decoded into gigabytes.
const MAX_SIDE: u32 = 16_384;
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// When covers are drawn: `--cover` or `cover` in config.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverMode {
    /// Only where a graphics protocol is known.
    Auto,
    /// Half blocks where none is.
    Always,
    Never,
}

/// The environment variables [`detect`] reads.
pub const TERMINAL_VARIABLES: [&str; 7] = [
    "TERM",
    "TERM_PROGRAM",
    "KITTY_WINDOW_ID",
    "GHOSTTY_RESOURCES_DIR",
    "LC_TERMINAL",
    "TMUX",
    "STY",
];

/// How long a terminal may take to answer whether it has sixel graphics.
pub const QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(300);

/// The protocol a cover beside a volume's details is drawn with, or None
/// for no cover: `auto` only draws with real graphics.
pub fn for_details(mode: CoverMode, env: &dyn Fn(&str) -> Option<String>) -> Option<Protocol> {
    match mode {
        CoverMode::Never => None,
        CoverMode::Auto => Some(choose(env, QUERY_TIMEOUT)).filter(|p| *p != Protocol::HalfBlocks),
        CoverMode::Always => Some(choose(env, QUERY_TIMEOUT)),
    }
}

/// The cells (columns, rows) that [`encode`] fills for this image in a box
/// of `cols` x `rows`.
pub fn cells(image_bytes: &[u8], protocol: Protocol, cols: u16, rows: u16) -> Option<(u16, u16)> {
    let (w, h) = ImageReader::new(Cursor::new(image_bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()?;
    let cells = |v: u32, per: u32, max: u16| u16::try_from(v.div_ceil(per)).unwrap_or(max).clamp(1, max);
    Some(match protocol {
        Protocol::Kitty | Protocol::Iterm2 => fit_cells(w, h, cols, rows),
        Protocol::Sixel => {
            let (cw, ch) = cell_pixels();
            let (pw, ph) = fit_pixels(w, h, u32::from(cols) * cw, u32::from(rows) * ch);
            (cells(pw, cw, cols), cells(ph, ch, rows))
        }
        Protocol::HalfBlocks => {
            let (pw, ph) = fit_pixels(w, h, u32::from(cols), u32::from(rows) * 2);
            (cells(pw, 1, cols), cells(ph, 2, rows))
        }
    })
}

/// A thumbnail exactly `cols` cells wide and one row high, in half blocks,
/// without a newline: a table cell.
pub fn thumbnail(image_bytes: &[u8], cols: u16) -> Result<String, PictureError> {
    if cols == 0 {
        return Err(PictureError::NoRoom);
    }
    let image = decode(image_bytes)?;
    let small = image::imageops::resize(&image.to_rgb8(), u32::from(cols), 2, FilterType::Triangle);
    let text = String::from_utf8_lossy(&half_blocks(&small)).into_owned();
    Ok(text.trim_end_matches('\n').to_string())
}

/// The protocol the environment names, or None when only asking the terminal
/// (sixel) or half blocks remain.
pub fn detect(env: &dyn Fn(&str) -> Option<String>) -> Option<Protocol> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    let term = var("TERM").unwrap_or_default();
    // A multiplexer drops these escapes unless told to pass them through,
    // and the outer terminal's variables leak into it.
    if var("TMUX").is_some() || var("STY").is_some() || term.starts_with("tmux") || term.starts_with("screen")
    {
        return None;
    }
    // TERM and TERM_PROGRAM are set by the terminal itself; the others are
    // inherited by whatever terminal is started from it, so they come last.
    if term == "xterm-kitty" || term == "xterm-ghostty" {
        return Some(Protocol::Kitty);
    }
    match var("TERM_PROGRAM").as_deref() {
        Some("ghostty") => return Some(Protocol::Kitty),
        // WezTerm speaks kitty too, but keeps aspect ratios only with iTerm2's.
        Some("iTerm.app" | "WezTerm") => return Some(Protocol::Iterm2),
        _ => {}
    }
    if var("KITTY_WINDOW_ID").is_some() || var("GHOSTTY_RESOURCES_DIR").is_some() {
        return Some(Protocol::Kitty);
    }
    // iTerm2 sets it, and ssh passes LC_* variables on.
    if var("LC_TERMINAL").as_deref() == Some("iTerm2") {
        return Some(Protocol::Iterm2);
    }
    None
}

/// The protocol for this terminal: the environment's, else sixel when the
/// terminal says it has it, else half blocks. Asking writes a query to the
/// terminal and waits up to `timeout` for the answer.
pub fn choose(env: &dyn Fn(&str) -> Option<String>, timeout: std::time::Duration) -> Protocol {
    if let Some(protocol) = detect(env) {
        return protocol;
    }
    match query_da1(timeout) {
        Ok(Some(reply)) if da1_has_sixel(&reply) => Protocol::Sixel,
        _ => Protocol::HalfBlocks,
    }
}

/// Whether a reply to Primary Device Attributes (`ESC [ c`), such as
/// `ESC [ ? 62 ; 4 ; 22 c`, lists sixel graphics (attribute 4). The first
/// number is the terminal's class; VT200-class replies and later list
/// attributes, a VT100's has one bitmask (a VT132's `?4;6c` is not sixel).
pub fn da1_has_sixel(reply: &[u8]) -> bool {
    let Some(start) = reply.windows(3).rposition(|w| w == b"\x1b[?") else {
        return false;
    };
    let body = &reply[start + 3..];
    let Some(end) = body.iter().position(|&b| b == b'c') else {
        return false;
    };
    let Ok(params) = std::str::from_utf8(&body[..end]) else {
        return false;
    };
    let mut numbers = params.split(';').map(|p| p.parse::<u16>().ok());
    let class = numbers.next().flatten();
    let attributes: Vec<Option<u16>> = numbers.collect();
    match class {
        Some(class) if class >= 62 => attributes.contains(&Some(4)),
        // tmux built with sixel says `?1;2;4c`: a VT100 with options 2, then 4.
        Some(1) => attributes.iter().skip(1).any(|&n| n == Some(4)),
        _ => false,
    }
}

/// Sends `ESC [ c` and reads the reply with the terminal in raw mode, when
/// stdin and stdout are both terminals and we are in the foreground. None:
/// not so, or no reply in `timeout`.
#[cfg(unix)]
pub fn query_da1(timeout: std::time::Duration) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::{IsTerminal, Write};
    use std::os::fd::AsFd;
    use std::time::Instant;

    use rustix::termios::{self, OptionalActions, SpecialCodeIndex};

    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    if !stdin.is_terminal() || !stdout.is_terminal() {
        return Ok(None);
    }
    let fd = stdin.as_fd();
    // Changing a terminal from a background job would stop the job (SIGTTOU).
    if termios::tcgetpgrp(fd)? != rustix::process::getpgrp() {
        return Ok(None);
    }
    let saved = termios::tcgetattr(fd)?;
    let mut raw = saved.clone();
    raw.make_raw();
    // read() returns after a byte or a tenth of a second without one.
    raw.special_codes[SpecialCodeIndex::VMIN] = 0;
    raw.special_codes[SpecialCodeIndex::VTIME] = 1;
    termios::tcsetattr(fd, OptionalActions::Now, &raw)?;

    /// Restores the terminal however the query ends.
    struct Restore<'a>(std::os::fd::BorrowedFd<'a>, termios::Termios);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = termios::tcsetattr(self.0, OptionalActions::Now, &self.1);
        }
    }
    let _restore = Restore(fd, saved);

    let mut out = stdout.lock();
    out.write_all(b"\x1b[c")?;
    out.flush()?;
    let deadline = Instant::now() + timeout;
    let mut reply = Vec::new();
    let mut buf = [0u8; 64];
    // Bounded: a reply is some 30 bytes; keys typed meanwhile may precede it.
    while reply.len() < 512 && Instant::now() < deadline {
        let n = rustix::io::read(fd, &mut buf[..])?;
        reply.extend_from_slice(&buf[..n]);
        if is_complete_da1(&reply) {
            break;
        }
    }
    Ok((!reply.is_empty()).then_some(reply))
}

#[cfg(not(unix))]
pub fn query_da1(_timeout: std::time::Duration) -> std::io::Result<Option<Vec<u8>>> {
    Ok(None)
}

#[cfg(unix)]
fn is_complete_da1(reply: &[u8]) -> bool {
    reply
        .windows(3)
        .rposition(|w| w == b"\x1b[?")
        .is_some_and(|start| reply[start..].contains(&b'c'))
}

/// The escapes that draw an image in a box of about `cols` x `rows` cells,
/// keeping its aspect ratio, followed by a newline.
pub fn encode(image_bytes: &[u8], protocol: Protocol, cols: u16, rows: u16) -> Result<Vec<u8>, PictureError> {
    if cols == 0 || rows == 0 {
        return Err(PictureError::NoRoom);
    }
    let format = image::guess_format(image_bytes).map_err(PictureError::Decode)?;
    let image = decode(image_bytes)?;
    match protocol {
        Protocol::Kitty => {
            let (c, r) = fit_cells(image.width(), image.height(), cols, rows);
            let box_px = (
                u32::from(c) * CELL_WIDTH * KITTY_SCALE,
                u32::from(r) * CELL_HEIGHT * KITTY_SCALE,
            );
            let fits = image.width() <= box_px.0 && image.height() <= box_px.1;
            let png = if format == ImageFormat::Png && fits {
                image_bytes.to_vec()
            } else {
                let (w, h) = fit_pixels(image.width(), image.height(), box_px.0, box_px.1);
                let image = if fits {
                    image
                } else {
                    image.resize_exact(w, h, FilterType::Triangle)
                };
                to_png(&image)?
            };
            Ok(kitty(&png, c, r))
        }
        Protocol::Iterm2 => {
            let (c, r) = fit_cells(image.width(), image.height(), cols, rows);
            // iTerm2 reads JPEG, PNG and GIF itself; WebP is not everywhere.
            let payload = match format {
                ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Gif => image_bytes.to_vec(),
                _ => to_png(&image)?,
            };
            Ok(iterm2(&payload, c, r))
        }
        Protocol::Sixel => {
            let (cw, ch) = cell_pixels();
            let (w, h) = fit_pixels(
                image.width(),
                image.height(),
                u32::from(cols) * cw,
                u32::from(rows) * ch,
            );
            Ok(sixel(&resized(&image, w, h)))
        }
        Protocol::HalfBlocks => {
            // A cell holds two square-ish pixels, one above the other.
            let (w, h) = fit_pixels(
                image.width(),
                image.height(),
                u32::from(cols),
                u32::from(rows) * 2,
            );
            Ok(half_blocks(&resized(&image, w, h)))
        }
    }
}

/// A cell's size in pixels: sixel draws pixels, so a picture meant to fill
/// 12 rows must know how tall a row is. The terminal says so in the window
/// size of stdout (xterm, foot, mlterm); else the assumed 10 x 20.
fn cell_pixels() -> (u32, u32) {
    #[cfg(unix)]
    {
        if let Ok(size) = rustix::termios::tcgetwinsize(std::io::stdout()) {
            let (cols, rows) = (u32::from(size.ws_col), u32::from(size.ws_row));
            let (x, y) = (u32::from(size.ws_xpixel), u32::from(size.ws_ypixel));
            if cols > 0 && rows > 0 && x >= cols && y >= rows {
                return (x / cols, y / rows);
            }
        }
    }
    (CELL_WIDTH, CELL_HEIGHT)
}

fn decode(bytes: &[u8]) -> Result<DynamicImage, PictureError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PictureError::Decode(e.into()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    reader.decode().map_err(PictureError::Decode)
}

fn to_png(image: &DynamicImage) -> Result<Vec<u8>, PictureError> {
    let mut png = Cursor::new(Vec::new());
    image
        .write_to(&mut png, ImageFormat::Png)
        .map_err(PictureError::Encode)?;
    Ok(png.into_inner())
}

fn resized(image: &DynamicImage, w: u32, h: u32) -> RgbImage {
    let rgb = image.to_rgb8();
    if rgb.dimensions() == (w, h) {
        rgb
    } else {
        image::imageops::resize(&rgb, w, h, FilterType::Triangle)
    }
}

/// The largest size with the image's aspect ratio inside `max_w` x `max_h`,
/// at least one pixel each way.
fn fit_pixels(w: u32, h: u32, max_w: u32, max_h: u32) -> (u32, u32) {
    let (w, h, max_w, max_h) = (
        u64::from(w.max(1)),
        u64::from(h.max(1)),
        u64::from(max_w),
        u64::from(max_h),
    );
    // Compare max_w / w with max_h / h without division.
    let (fw, fh) = if max_w * h <= max_h * w {
        (max_w, (h * max_w + w / 2) / w)
    } else {
        ((w * max_h + h / 2) / h, max_h)
    };
    let clamp = |v: u64, max: u64| u32::try_from(v.clamp(1, max.max(1))).unwrap_or(u32::MAX);
    (clamp(fw, max_w), clamp(fh, max_h))
}

/// The cells an image takes inside `cols` x `rows`, a cell being twice as
/// tall as wide.
fn fit_cells(w: u32, h: u32, cols: u16, rows: u16) -> (u16, u16) {
    // In units of half a cell's height, a cell is 1 wide and 2 tall.
    let (units_w, units_h) = fit_pixels(w, h, u32::from(cols), u32::from(rows) * 2);
    let cells = |v: u32, max: u16| u16::try_from(v).unwrap_or(max).clamp(1, max);
    (cells(units_w, cols), cells(units_h.div_ceil(2), rows))
}

/// kitty graphics: PNG data in base64 chunks of 4096, `m=1` on all but the last.
fn kitty(png: &[u8], cols: u16, rows: u16) -> Vec<u8> {
    let data = base64::engine::general_purpose::STANDARD.encode(png);
    let chunks: Vec<&[u8]> = data.as_bytes().chunks(KITTY_CHUNK).collect();
    let mut out = Vec::with_capacity(data.len() + chunks.len() * 16 + 48);
    for (i, chunk) in chunks.iter().enumerate() {
        let more = u8::from(i + 1 < chunks.len());
        if i == 0 {
            // q=2: no answer from the terminal to land in the user's input.
            out.extend_from_slice(format!("\x1b_Gf=100,a=T,c={cols},r={rows},q=2,m={more};").as_bytes());
        } else {
            out.extend_from_slice(format!("\x1b_Gm={more};").as_bytes());
        }
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\x1b\\");
    }
    out.push(b'\n');
    out
}

/// iTerm2's inline image escape; width and height count cells.
fn iterm2(file: &[u8], cols: u16, rows: u16) -> Vec<u8> {
    let data = base64::engine::general_purpose::STANDARD.encode(file);
    let mut out = format!(
        "\x1b]1337;File=inline=1;size={};width={cols};height={rows};preserveAspectRatio=1:",
        file.len()
    )
    .into_bytes();
    out.extend_from_slice(data.as_bytes());
    out.extend_from_slice(b"\x07\n");
    out
}

/// Upper half blocks: the foreground paints the top pixel, the background
/// the one below; one line of text per two rows of pixels.
fn half_blocks(image: &RgbImage) -> Vec<u8> {
    let (w, h) = image.dimensions();
    let mut out = Vec::with_capacity((w as usize * 40 + 8) * (h as usize).div_ceil(2));
    for y in (0..h).step_by(2) {
        for x in 0..w {
            let [r, g, b] = image.get_pixel(x, y).0;
            out.extend_from_slice(format!("\x1b[38;2;{r};{g};{b}m").as_bytes());
            if y + 1 < h {
                let [r, g, b] = image.get_pixel(x, y + 1).0;
                out.extend_from_slice(format!("\x1b[48;2;{r};{g};{b}m").as_bytes());
            } else {
                out.extend_from_slice(b"\x1b[49m");
            }
            out.extend_from_slice("▀".as_bytes());
        }
        out.extend_from_slice(b"\x1b[0m\n");
    }
    out
}

/// The sixel palette: xterm's 6x6x6 colour cube, then 24 greys.
const CUBE: [u8; 6] = [0, 51, 102, 153, 204, 255];
const GREYS: u8 = 24;

fn palette_colour(index: u8) -> [u8; 3] {
    if index < 216 {
        [
            CUBE[usize::from(index / 36)],
            CUBE[usize::from(index / 6 % 6)],
            CUBE[usize::from(index % 6)],
        ]
    } else {
        let level = 8 + 10 * (index - 216);
        [level; 3]
    }
}

/// The nearest palette entry: the closest cube corner or grey.
fn palette_index([r, g, b]: [u8; 3]) -> u8 {
    let step = |v: u8| (u16::from(v) + 25) / 51;
    let cube = (step(r) * 36 + step(g) * 6 + step(b)) as u8;
    let mean = (u16::from(r) + u16::from(g) + u16::from(b)) / 3;
    let grey = 216 + (mean.saturating_sub(3) / 10).min(u16::from(GREYS) - 1) as u8;
    let distance = |i: u8| {
        let p = palette_colour(i);
        [r, g, b]
            .iter()
            .zip(p)
            .map(|(&a, b)| (i32::from(a) - i32::from(b)).pow(2))
            .sum::<i32>()
    };
    if distance(grey) < distance(cube) {
        grey
    } else {
        cube
    }
}

/// A sixel image: raster attributes for square pixels, the palette entries
/// used, then six rows of pixels per band, one pass per colour, run-length
/// encoded.
fn sixel(image: &RgbImage) -> Vec<u8> {
    let (w, h) = image.dimensions();
    let (w, h) = (w as usize, h as usize);
    let indices: Vec<u8> = image.pixels().map(|p| palette_index(p.0)).collect();
    let mut used = [false; 256];
    for &i in &indices {
        used[usize::from(i)] = true;
    }
    let mut out = format!("\x1bPq\"1;1;{w};{h}").into_bytes();
    for (i, _) in used.iter().enumerate().filter(|(_, &u)| u) {
        let [r, g, b] = palette_colour(i as u8).map(|v| (u16::from(v) * 100 + 127) / 255);
        out.extend_from_slice(format!("#{i};2;{r};{g};{b}").as_bytes());
    }
    let mut line = Vec::with_capacity(w);
    for top in (0..h).step_by(6) {
        let band = top..(top + 6).min(h);
        let mut in_band = [false; 256];
        for y in band.clone() {
            for &i in &indices[y * w..(y + 1) * w] {
                in_band[usize::from(i)] = true;
            }
        }
        let colours: Vec<u8> = (0..=255u8).filter(|&i| in_band[usize::from(i)]).collect();
        for (n, &colour) in colours.iter().enumerate() {
            line.clear();
            for x in 0..w {
                let bits = band
                    .clone()
                    .enumerate()
                    .filter(|&(_, y)| indices[y * w + x] == colour)
                    .fold(0u8, |acc, (bit, _)| acc | 1 << bit);
                line.push(b'?' + bits);
            }
            while line.last() == Some(&b'?') {
                line.pop();
            }
            out.extend_from_slice(format!("#{colour}").as_bytes());
            run_length(&line, &mut out);
            // `$` returns to the band's start for the next colour.
            if n + 1 < colours.len() {
                out.push(b'$');
            }
        }
        // `-` goes down to the next band; none after the last.
        if top + 6 < h {
            out.push(b'-');
        }
    }
    out.extend_from_slice(b"\x1b\\\n");
    out
}

/// Sixel's `!<count><char>` for runs long enough to gain from it.
fn run_length(line: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        let run = line[i..].iter().take_while(|&&d| d == c).count();
        if run > 3 {
            out.extend_from_slice(format!("!{run}").as_bytes());
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n(c, run));
        }
        i += run;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/covers");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(std::path::Path::new(FIXTURES).join(name)).unwrap()
    }

    fn env_of<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    /// The data of every kitty escape, joined and decoded.
    fn kitty_payload(out: &str) -> Vec<u8> {
        let data: String = out
            .split("\x1b\\")
            .filter_map(|escape| Some(escape.split_once(';')?.1))
            .collect();
        base64::engine::general_purpose::STANDARD.decode(data).unwrap()
    }

    fn detected(pairs: &[(&str, &str)]) -> Option<Protocol> {
        detect(&env_of(pairs))
    }

    #[test]
    fn detection_reads_the_terminals_variables() {
        use Protocol::*;
        assert_eq!(detected(&[("TERM", "xterm-kitty")]), Some(Kitty));
        assert_eq!(
            detected(&[("TERM", "xterm-256color"), ("KITTY_WINDOW_ID", "1")]),
            Some(Kitty)
        );
        assert_eq!(detected(&[("TERM", "xterm-ghostty")]), Some(Kitty));
        assert_eq!(detected(&[("TERM_PROGRAM", "ghostty")]), Some(Kitty));
        assert_eq!(
            detected(&[("GHOSTTY_RESOURCES_DIR", "/usr/share/ghostty")]),
            Some(Kitty)
        );
        assert_eq!(detected(&[("TERM_PROGRAM", "iTerm.app")]), Some(Iterm2));
        assert_eq!(
            detected(&[("TERM_PROGRAM", "WezTerm"), ("TERM", "xterm-256color")]),
            Some(Iterm2)
        );
        assert_eq!(detected(&[("LC_TERMINAL", "iTerm2")]), Some(Iterm2));
        assert_eq!(detected(&[]), None);
        assert_eq!(
            detected(&[("TERM", "xterm-256color"), ("TERM_PROGRAM", "Apple_Terminal")]),
            None
        );
        assert_eq!(detected(&[("TERM", "foot")]), None);
        assert_eq!(detected(&[("KITTY_WINDOW_ID", "")]), None);
    }

    #[test]
    fn the_running_terminal_wins_over_variables_inherited_from_another() {
        use Protocol::*;
        // WezTerm started from a kitty window.
        assert_eq!(
            detected(&[("KITTY_WINDOW_ID", "3"), ("TERM_PROGRAM", "WezTerm")]),
            Some(Iterm2)
        );
        // kitty started from iTerm2.
        assert_eq!(
            detected(&[("TERM", "xterm-kitty"), ("TERM_PROGRAM", "iTerm.app")]),
            Some(Kitty)
        );
        assert_eq!(
            detected(&[("LC_TERMINAL", "iTerm2"), ("TERM", "xterm-ghostty")]),
            Some(Kitty)
        );
    }

    #[test]
    fn multiplexers_get_no_graphics_escapes() {
        assert_eq!(
            detected(&[("TERM", "xterm-kitty"), ("TMUX", "/tmp/tmux-0/default,1,0")]),
            None
        );
        assert_eq!(
            detected(&[("TERM", "tmux-256color"), ("KITTY_WINDOW_ID", "1")]),
            None
        );
        assert_eq!(
            detected(&[("TERM", "screen-256color"), ("TERM_PROGRAM", "iTerm.app")]),
            None
        );
        assert_eq!(detected(&[("STY", "1.pts-0"), ("LC_TERMINAL", "iTerm2")]), None);
    }

    #[test]
    fn device_attributes_with_4_mean_sixel() {
        // xterm -ti vt340, foot, mlterm, WezTerm.
        assert!(da1_has_sixel(b"\x1b[?63;1;2;4;6;9;15;16;22;28c"));
        assert!(da1_has_sixel(b"\x1b[?62;4;22c"));
        assert!(da1_has_sixel(b"\x1b[?63;1;2;3;4;7;29c"));
        assert!(da1_has_sixel(b"\x1b[?65;4;6;18;22c"));
        assert!(da1_has_sixel(b"\x1b[?62;4c"));
        // tmux built with sixel.
        assert!(da1_has_sixel(b"\x1b[?1;2;4c"));
        // Keys typed before the reply.
        assert!(da1_has_sixel(b"abc\x1b[?62;4;22c"));
        // Plain xterm, VTE, Konsole, a VT100, a VT132.
        assert!(!da1_has_sixel(b"\x1b[?63;1;2;6;9;15;16;22;28c"));
        assert!(!da1_has_sixel(b"\x1b[?65;1;9c"));
        assert!(!da1_has_sixel(b"\x1b[?62;22c"));
        assert!(!da1_has_sixel(b"\x1b[?1;2c"));
        assert!(!da1_has_sixel(b"\x1b[?4;6c"));
        assert!(!da1_has_sixel(b"\x1b[?1;4c"));
        // Attribute 44 is not 4; broken or cut replies are not sixel.
        assert!(!da1_has_sixel(b"\x1b[?62;44;22c"));
        assert!(!da1_has_sixel(b"\x1b[?62;4;22"));
        assert!(!da1_has_sixel(b"\x1b[62;4c"));
        assert!(!da1_has_sixel(b"\x1b[?62;4\xff;22c"));
        assert!(!da1_has_sixel(b""));
    }

    #[cfg(unix)]
    #[test]
    fn a_complete_reply_ends_the_wait() {
        assert!(is_complete_da1(b"\x1b[?62;4;22c"));
        assert!(!is_complete_da1(b"\x1b[?62;4;2"));
        assert!(!is_complete_da1(b"c\x1b[?62"));
    }

    #[test]
    fn aspect_ratios_are_kept_inside_the_box() {
        assert_eq!(fit_pixels(2, 2, 2, 2), (2, 2));
        assert_eq!(fit_pixels(20, 30, 40, 24), (16, 24));
        assert_eq!(fit_pixels(30, 20, 40, 24), (36, 24));
        assert_eq!(fit_pixels(300, 20, 40, 24), (40, 3));
        assert_eq!(fit_pixels(1, 10_000, 40, 24), (1, 24));
        assert_eq!(fit_pixels(0, 0, 40, 24), (24, 24));
        // A 2:3 cover 12 rows high: 24 half-cell pixels by 16, so 16 columns.
        assert_eq!(fit_cells(800, 1200, 80, 12), (16, 12));
        assert_eq!(fit_cells(800, 1200, 10, 12), (10, 8));
        assert_eq!(fit_cells(1, 1000, 80, 12), (1, 12));
        assert_eq!(fit_cells(1000, 1, 80, 12), (80, 1));
    }

    #[test]
    fn kitty_sends_png_in_4096_byte_chunks_and_ends_with_m0() {
        let png = fixture("2x2.png");
        let out = encode(&png, Protocol::Kitty, 16, 12).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("\x1b_Gf=100,a=T,c=16,r=8,q=2,m=0;"), "{text:?}");
        assert!(text.ends_with("\x1b\\\n"));
        // A small PNG goes as it is.
        assert_eq!(kitty_payload(&text), png);

        // Many chunks: every one but the last says more is coming.
        let big: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let out = String::from_utf8(kitty(&big, 5, 6)).unwrap();
        let escapes: Vec<&str> = out
            .trim_end_matches('\n')
            .split("\x1b\\")
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(escapes.len(), 4);
        assert!(escapes[0].starts_with("\x1b_Gf=100,a=T,c=5,r=6,q=2,m=1;"));
        assert!(escapes[1].starts_with("\x1b_Gm=1;"));
        assert!(escapes[2].starts_with("\x1b_Gm=1;"));
        assert!(escapes[3].starts_with("\x1b_Gm=0;"));
        for escape in &escapes {
            let chunk = escape.split_once(';').unwrap().1;
            assert!(chunk.len() <= KITTY_CHUNK && chunk.len() % 4 == 0);
        }
        assert_eq!(escapes[0].split_once(';').unwrap().1.len(), KITTY_CHUNK);
        assert_eq!(kitty_payload(&out), big);
    }

    #[test]
    fn kitty_gets_other_formats_as_png() {
        // 20x30 and 10x15 fill 12 rows with 16 columns, 10x16 with 15.
        for (name, cols) in [("cover.jpg", 16), ("cover.gif", 16), ("cover.webp", 15)] {
            let out = String::from_utf8(encode(&fixture(name), Protocol::Kitty, 80, 12).unwrap()).unwrap();
            let png = kitty_payload(&out);
            assert_eq!(image::guess_format(&png).unwrap(), ImageFormat::Png, "{name}");
            let prefix = format!("\x1b_Gf=100,a=T,c={cols},r=12,");
            assert!(out.starts_with(&prefix), "{name}: {out:.40?}");
        }
    }

    #[test]
    fn kitty_gets_large_images_scaled_down() {
        let big = DynamicImage::ImageRgb8(RgbImage::from_pixel(1000, 1500, image::Rgb([200, 10, 10])));
        let out =
            String::from_utf8(encode(&to_png(&big).unwrap(), Protocol::Kitty, 80, 12).unwrap()).unwrap();
        let small = image::load_from_memory(&kitty_payload(&out)).unwrap();
        // 16 x 12 cells at twice 10 x 20 pixels.
        assert_eq!((small.width(), small.height()), (320, 480));
    }

    #[test]
    fn iterm2_sends_the_file_inline_with_its_size_in_cells() {
        let jpeg = fixture("cover.jpg");
        let out = String::from_utf8(encode(&jpeg, Protocol::Iterm2, 80, 12).unwrap()).unwrap();
        let prefix = format!(
            "\x1b]1337;File=inline=1;size={};width=16;height=12;preserveAspectRatio=1:",
            jpeg.len()
        );
        assert!(out.starts_with(&prefix), "{out:.80?}");
        let payload = out.strip_prefix(&prefix).unwrap().strip_suffix("\x07\n").unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD.decode(payload).unwrap(),
            jpeg
        );

        let webp = encode(&fixture("cover.webp"), Protocol::Iterm2, 80, 12).unwrap();
        let payload = String::from_utf8(webp).unwrap();
        let payload = payload.split_once(':').unwrap().1.strip_suffix("\x07\n").unwrap();
        let png = base64::engine::general_purpose::STANDARD.decode(payload).unwrap();
        assert_eq!(image::guess_format(&png).unwrap(), ImageFormat::Png);
    }

    #[test]
    fn half_blocks_paint_two_pixel_rows_per_line() {
        let out =
            String::from_utf8(encode(&fixture("2x2.png"), Protocol::HalfBlocks, 2, 1).unwrap()).unwrap();
        assert_eq!(
            out,
            "\x1b[38;2;255;0;0m\x1b[48;2;0;0;255m▀\x1b[38;2;0;255;0m\x1b[48;2;255;255;255m▀\x1b[0m\n"
        );
    }

    #[test]
    fn half_blocks_leave_the_background_alone_under_an_odd_last_row() {
        let mut image = RgbImage::from_pixel(2, 3, image::Rgb([1, 2, 3]));
        image.put_pixel(1, 2, image::Rgb([9, 8, 7]));
        let text = String::from_utf8(half_blocks(&image)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[1],
            "\x1b[38;2;1;2;3m\x1b[49m▀\x1b[38;2;9;8;7m\x1b[49m▀\x1b[0m"
        );
    }

    #[test]
    fn half_blocks_fit_the_box() {
        // 20x30 in 80 columns by 12 rows: 24 pixel rows, so 16 columns and 12 lines.
        let out =
            String::from_utf8(encode(&fixture("cover.jpg"), Protocol::HalfBlocks, 80, 12).unwrap()).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 12);
        assert!(lines
            .iter()
            .all(|l| l.matches('▀').count() == 16 && l.ends_with("\x1b[0m")));
    }

    /// Reads a sixel image back into palette colours, per the DEC manual.
    fn decode_sixel(data: &str) -> (usize, usize, Vec<Vec<Option<[u8; 3]>>>) {
        let body = data
            .strip_prefix("\x1bPq\"")
            .unwrap()
            .strip_suffix("\x1b\\\n")
            .unwrap();
        let raster_end = body.find('#').unwrap();
        let raster: Vec<usize> = body[..raster_end]
            .split(';')
            .map(|n| n.parse().unwrap())
            .collect();
        assert_eq!(raster[..2], [1, 1]);
        let (w, h) = (raster[2], raster[3]);
        let mut pixels = vec![vec![None; w]; h];
        let mut palette: HashMap<usize, [u8; 3]> = HashMap::new();
        let bytes = &body.as_bytes()[raster_end..];
        let (mut i, mut x, mut band, mut colour) = (0, 0, 0, 0);
        let number = |i: &mut usize| {
            let start = *i;
            while bytes[*i].is_ascii_digit() {
                *i += 1;
            }
            body[raster_end + start..raster_end + *i]
                .parse::<usize>()
                .unwrap()
        };
        while i < bytes.len() {
            match bytes[i] {
                b'#' => {
                    i += 1;
                    colour = number(&mut i);
                    if bytes.get(i) == Some(&b';') {
                        i += 1;
                        assert_eq!(number(&mut i), 2, "RGB colour space");
                        let mut rgb = [0u8; 3];
                        for v in &mut rgb {
                            i += 1;
                            *v = (number(&mut i) * 255 / 100) as u8;
                        }
                        palette.insert(colour, rgb);
                    }
                }
                b'$' => (x, i) = (0, i + 1),
                b'-' => (x, band, i) = (0, band + 6, i + 1),
                b'!' | b'?'..=b'~' => {
                    let mut run = 1;
                    if bytes[i] == b'!' {
                        i += 1;
                        run = number(&mut i);
                    }
                    let bits = bytes[i] - b'?';
                    for _ in 0..run {
                        for bit in 0..6 {
                            if bits & (1 << bit) != 0 {
                                pixels[band + bit][x] = Some(palette[&colour]);
                            }
                        }
                        x += 1;
                    }
                    i += 1;
                }
                other => panic!("unexpected {:?}", other as char),
            }
        }
        (w, h, pixels)
    }

    #[test]
    fn sixel_draws_each_pixel_in_its_nearest_palette_colour() {
        let mut image = RgbImage::from_pixel(9, 7, image::Rgb([255, 0, 0]));
        image.put_pixel(0, 0, image::Rgb([0, 0, 255]));
        image.put_pixel(8, 6, image::Rgb([128, 128, 128]));
        image.put_pixel(4, 5, image::Rgb([250, 250, 250]));
        let out = String::from_utf8(sixel(&image)).unwrap();
        assert!(out.starts_with("\x1bPq\"1;1;9;7#"), "{out:?}");
        assert!(out.ends_with("\x1b\\\n"));
        let (w, h, pixels) = decode_sixel(&out);
        assert_eq!((w, h), (9, 7));
        for (y, row) in pixels.iter().enumerate() {
            for (x, pixel) in row.iter().enumerate() {
                let expected = match (x, y) {
                    (0, 0) => [0, 0, 255],
                    (8, 6) => [128, 128, 128],
                    (4, 5) => [255, 255, 255],
                    _ => [255, 0, 0],
                };
                let got = pixel.unwrap_or_else(|| panic!("({x},{y}) not painted"));
                let close = got.iter().zip(expected).all(|(&a, b)| a.abs_diff(b) <= 3);
                assert!(close, "({x},{y}): {got:?} for {expected:?}");
            }
        }
        // A row of eight red pixels is one run.
        assert!(out.contains("!8"), "{out:?}");
    }

    #[test]
    fn sixel_through_encode_fits_the_box() {
        let out = String::from_utf8(encode(&fixture("cover.jpg"), Protocol::Sixel, 80, 12).unwrap()).unwrap();
        assert!(out.starts_with("\x1bPq\"1;1;160;240#"), "{:?}", &out[..20]);
        assert!(out.ends_with("\x1b\\\n"));
        let (w, h, pixels) = decode_sixel(&out);
        assert_eq!((w, h), (160, 240));
        assert!(pixels.iter().flatten().all(Option::is_some));
    }

    #[test]
    fn the_palette_maps_its_own_colours_to_themselves() {
        for i in 0..=255u8 {
            if i < 216 + GREYS {
                assert_eq!(palette_index(palette_colour(i)), i, "{i}");
            }
        }
    }

    #[test]
    fn what_cannot_be_drawn_is_an_error() {
        let html = fixture("not-a-cover.html");
        for protocol in [
            Protocol::Kitty,
            Protocol::Iterm2,
            Protocol::Sixel,
            Protocol::HalfBlocks,
        ] {
            assert!(matches!(
                encode(&html, protocol, 80, 12),
                Err(PictureError::Decode(_))
            ));
            assert!(matches!(
                encode(&fixture("2x2.png"), protocol, 0, 12),
                Err(PictureError::NoRoom)
            ));
            let cut = &fixture("cover.jpg")[..40];
            assert!(encode(cut, protocol, 80, 12).is_err(), "{protocol:?}");
        }
    }

    #[test]
    fn a_thumbnail_is_one_row_of_exactly_the_cells_asked() {
        for name in ["cover.jpg", "cover.gif", "cover.webp", "2x2.png", "wide.png"] {
            let cell = thumbnail(&fixture(name), 2).unwrap();
            assert_eq!(cell.matches('▀').count(), 2, "{name}");
            assert!(!cell.contains('\n') && cell.ends_with("\x1b[0m"), "{name}");
        }
        assert_eq!(
            thumbnail(&fixture("2x2.png"), 2).unwrap(),
            "\x1b[38;2;255;0;0m\x1b[48;2;0;0;255m▀\x1b[38;2;0;255;0m\x1b[48;2;255;255;255m▀\x1b[0m"
        );
        assert!(thumbnail(&fixture("not-a-cover.html"), 2).is_err());
    }

    #[test]
    fn cells_say_what_encode_fills() {
        let jpeg = fixture("cover.jpg");
        for protocol in [
            Protocol::Kitty,
            Protocol::Iterm2,
            Protocol::Sixel,
            Protocol::HalfBlocks,
        ] {
            assert_eq!(cells(&jpeg, protocol, 80, 12), Some((16, 12)), "{protocol:?}");
        }
        let out = String::from_utf8(encode(&jpeg, Protocol::HalfBlocks, 80, 12).unwrap()).unwrap();
        assert_eq!(out.lines().count(), 12);
        assert_eq!(cells(b"<html>", Protocol::Kitty, 80, 12), None);
    }

    #[test]
    fn auto_draws_only_with_graphics_and_never_draws_nothing() {
        let kitty = env_of(&[("TERM", "xterm-kitty")]);
        assert_eq!(for_details(CoverMode::Auto, &kitty), Some(Protocol::Kitty));
        assert_eq!(for_details(CoverMode::Always, &kitty), Some(Protocol::Kitty));
        assert_eq!(for_details(CoverMode::Never, &kitty), None);
        let iterm = env_of(&[("TERM_PROGRAM", "iTerm.app")]);
        assert_eq!(for_details(CoverMode::Auto, &iterm), Some(Protocol::Iterm2));
    }

    #[test]
    fn images_too_large_to_decode_are_refused() {
        // A PNG header claiming 20000 x 20000 pixels.
        let big = DynamicImage::ImageLuma8(image::GrayImage::new(1, 1));
        let mut png = to_png(&big).unwrap();
        png[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        assert!(matches!(
            encode(&png, Protocol::HalfBlocks, 80, 12),
            Err(PictureError::Decode(_))
        ));
    }
}
