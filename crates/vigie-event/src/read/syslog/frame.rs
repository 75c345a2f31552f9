//! Syslog over a stream (TCP, TLS): cutting the bytes into messages (RFC 6587).
//!
//! Two framings exist: octet counting (`MSG-LEN SP SYSLOG-MSG`, RFC 6587 §3.4.1, what
//! RFC 5425 mandates) and non-transparent framing (each message ends with LF, §3.4.2,
//! what most RFC 3164 senders do). A connection uses one; the [`Framer`] decides from
//! the first frame (a non-zero number followed by a space: octet counting; anything
//! else: lines) and keeps to it. Every frame is bounded: a larger one is reported and
//! its bytes skipped without being kept, so a sender cannot make a connection hold more
//! than the bound. The result does not depend on how the bytes were split into reads.

/// How a connection frames its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Framing {
    /// `MSG-LEN SP SYSLOG-MSG`.
    OctetCounting,
    /// Messages end with LF (a CR before it is dropped); empty lines are skipped.
    NonTransparent,
}

/// A frame that could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// An octet-counted frame over the bound: its bytes were skipped.
    #[error("frame of {len} bytes is over the limit of {max} bytes: skipped")]
    TooLong { len: usize, max: usize },
    /// A line over the bound: skipped through its LF.
    #[error("line longer than {max} bytes: skipped")]
    LineTooLong { max: usize },
    /// An octet-counting frame that does not start with `MSG-LEN SP`; the bytes up to
    /// the next LF are skipped to find the next frame.
    #[error(
        "expected a frame length (digits, then a space), found `{found}`: skipped to the next line"
    )]
    BadLength { found: String },
    /// The stream ended inside a frame.
    #[error("stream ended inside a frame ({have} of {want} bytes)")]
    Truncated { have: usize, want: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Skip {
    None,
    /// Bytes of an over-long octet-counted frame still to drop.
    Bytes(usize),
    /// Drop through the next LF.
    Line,
}

/// Cuts a byte stream into syslog messages.
#[derive(Debug, Clone)]
pub struct Framer {
    mode: Option<Framing>,
    max: usize,
    buf: Vec<u8>,
    skip: Skip,
    /// How far `buf` has been searched for LF without finding one (lines mode), so a
    /// long line arriving in small reads is not searched again from its start.
    scanned: usize,
}

/// What receives frames: each message's bytes, or why a frame was not taken.
pub type FrameSink<'a> = dyn FnMut(Result<&[u8], FrameError>) + 'a;

/// Most digits of a MSG-LEN taken (10 digits are more than any bound).
const MAX_LEN_DIGITS: usize = 10;

impl Framer {
    /// A framer taking messages up to `max` bytes (see
    /// [`super::DEFAULT_MAX_MESSAGE`]), its framing decided by the first frame.
    pub fn new(max: usize) -> Framer {
        Framer {
            mode: None,
            max: max.max(1),
            buf: Vec::new(),
            skip: Skip::None,
            scanned: 0,
        }
    }

    /// A framer with its framing fixed.
    pub fn with_framing(max: usize, framing: Framing) -> Framer {
        Framer {
            mode: Some(framing),
            ..Framer::new(max)
        }
    }

    /// The framing in use, once decided.
    pub fn framing(&self) -> Option<Framing> {
        self.mode
    }

    /// Bytes held for an unfinished frame.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Takes the next bytes of the stream; calls `out` for every frame they complete.
    pub fn push(&mut self, data: &[u8], out: &mut FrameSink<'_>) {
        self.buf.extend_from_slice(data);
        let mut pos = 0;
        while self.step(&mut pos, out) {}
        self.buf.drain(..pos);
        self.scanned = self.scanned.saturating_sub(pos);
    }

    /// The stream ended: a last line without LF is a message; a cut octet-counted frame
    /// is reported.
    pub fn finish(&mut self, out: &mut FrameSink<'_>) {
        let rest = std::mem::take(&mut self.buf);
        self.scanned = 0;
        if self.skip != Skip::None {
            self.skip = Skip::None;
            return;
        }
        let body = trim_separators(&rest);
        if body.is_empty() {
            return;
        }
        match self.mode {
            Some(Framing::OctetCounting) => {
                let (want, have) = match parse_len(body) {
                    Some(Ok((len, header))) => (len, body.len() - header),
                    _ => (0, body.len()),
                };
                if want == 0 {
                    out(Err(FrameError::BadLength { found: shown(body) }));
                } else {
                    out(Err(FrameError::Truncated { have, want }));
                }
            }
            // Undecided at the end: only digits came, which make a line.
            Some(Framing::NonTransparent) | None => {
                let line = body.strip_suffix(b"\r").unwrap_or(body);
                if line.len() > self.max {
                    out(Err(FrameError::LineTooLong { max: self.max }));
                } else if !line.is_empty() {
                    out(Ok(line));
                }
            }
        }
    }

    /// One step at `*pos`: returns false when more bytes are needed.
    fn step(&mut self, pos: &mut usize, out: &mut FrameSink<'_>) -> bool {
        let buf = &self.buf[*pos..];
        match self.skip {
            Skip::Bytes(n) => {
                let take = n.min(buf.len());
                *pos += take;
                self.skip = if take == n {
                    Skip::None
                } else {
                    Skip::Bytes(n - take)
                };
                return take == n;
            }
            Skip::Line => {
                return match memchr::memchr(b'\n', buf) {
                    Some(i) => {
                        *pos += i + 1;
                        self.skip = Skip::None;
                        true
                    }
                    None => {
                        *pos += buf.len();
                        false
                    }
                };
            }
            Skip::None => {}
        }
        let mode = match self.mode {
            Some(m) => m,
            None => {
                // Separators before the first frame say nothing.
                let lead = buf.len() - trim_separators(buf).len();
                if lead == buf.len() {
                    *pos += lead;
                    return false;
                }
                match parse_len(&buf[lead..]) {
                    None => return false,
                    Some(Ok(_)) => self.mode = Some(Framing::OctetCounting),
                    Some(Err(())) => self.mode = Some(Framing::NonTransparent),
                }
                *pos += lead;
                return true;
            }
        };
        match mode {
            Framing::OctetCounting => self.octet_frame(pos, out),
            Framing::NonTransparent => self.line_frame(pos, out),
        }
    }

    fn octet_frame(&mut self, pos: &mut usize, out: &mut FrameSink<'_>) -> bool {
        let buf = &self.buf[*pos..];
        // Senders that end octet-counted frames with LF too (or pad with NUL).
        let lead = buf.len() - trim_separators(buf).len();
        if lead > 0 {
            *pos += lead;
            return true;
        }
        match parse_len(buf) {
            None => false,
            Some(Err(())) => {
                // What is shown must not depend on how much has arrived.
                if buf.len() < SHOWN && memchr::memchr(b'\n', buf).is_none() {
                    return false;
                }
                out(Err(FrameError::BadLength { found: shown(buf) }));
                self.skip = Skip::Line;
                true
            }
            Some(Ok((len, header))) => {
                if len > self.max {
                    out(Err(FrameError::TooLong { len, max: self.max }));
                    *pos += header;
                    self.skip = Skip::Bytes(len);
                    return true;
                }
                if buf.len() - header < len {
                    return false;
                }
                out(Ok(&buf[header..header + len]));
                *pos += header + len;
                true
            }
        }
    }

    fn line_frame(&mut self, pos: &mut usize, out: &mut FrameSink<'_>) -> bool {
        let buf = &self.buf[*pos..];
        let from = self.scanned.saturating_sub(*pos).min(buf.len());
        match memchr::memchr(b'\n', &buf[from..]) {
            Some(i) => {
                let end = from + i;
                let line = &buf[..end];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.len() > self.max {
                    out(Err(FrameError::LineTooLong { max: self.max }));
                } else if !line.is_empty() {
                    out(Ok(line));
                }
                *pos += end + 1;
                self.scanned = *pos;
                true
            }
            None if buf.len() > self.max + 1 => {
                // `+ 1`: room for the CR of a CRLF line exactly at the bound.
                out(Err(FrameError::LineTooLong { max: self.max }));
                *pos += buf.len();
                self.skip = Skip::Line;
                false
            }
            None => {
                self.scanned = *pos + buf.len();
                false
            }
        }
    }
}

/// How many bytes of a bad frame header an error quotes.
const SHOWN: usize = 20;

/// The first bytes of a bad frame header, up to its line's end.
fn shown(buf: &[u8]) -> String {
    let head = &buf[..buf.len().min(SHOWN)];
    let head = memchr::memchr(b'\n', head).map_or(head, |i| &head[..i]);
    String::from_utf8_lossy(head).into_owned()
}

/// `buf` without leading LF, CR and NUL.
fn trim_separators(buf: &[u8]) -> &[u8] {
    let n = buf
        .iter()
        .take_while(|b| matches!(b, b'\n' | b'\r' | 0))
        .count();
    &buf[n..]
}

/// `MSG-LEN SP` at the start of `buf`: `Some(Ok((len, header bytes)))`, `Some(Err)` when
/// it is not one, `None` when `buf` ends before that can be told.
fn parse_len(buf: &[u8]) -> Option<Result<(usize, usize), ()>> {
    let n = buf.iter().take_while(|b| b.is_ascii_digit()).count();
    if n > MAX_LEN_DIGITS || buf.first() == Some(&b'0') {
        return Some(Err(()));
    }
    match buf.get(n) {
        None => None,
        Some(b' ') if n > 0 => {
            let len = buf[..n]
                .iter()
                .fold(0usize, |a, b| a * 10 + usize::from(b - b'0'));
            Some(Ok((len, n + 1)))
        }
        Some(_) => Some(Err(())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(f: &mut Framer, chunks: &[&[u8]]) -> Vec<Result<String, FrameError>> {
        let mut out = Vec::new();
        let mut take = |r: Result<&[u8], FrameError>| {
            out.push(r.map(|b| String::from_utf8_lossy(b).into_owned()))
        };
        for c in chunks {
            f.push(c, &mut take);
        }
        f.finish(&mut take);
        out
    }

    #[test]
    fn octet_counting() {
        let mut f = Framer::new(100);
        let got = frames(&mut f, &[b"5 hello3 ab", b"c\n10 <13>x y z\n"]);
        assert_eq!(f.framing(), Some(Framing::OctetCounting));
        assert_eq!(
            got,
            vec![
                Ok("hello".into()),
                Ok("abc".into()),
                Ok("<13>x y z\n".into())
            ]
        );
        let mut f = Framer::new(4);
        let got = frames(&mut f, &[b"5 hello2 ok", b"x bad\n2 hi4 abc"]);
        assert_eq!(
            got,
            vec![
                Err(FrameError::TooLong { len: 5, max: 4 }),
                Ok("ok".into()),
                Err(FrameError::BadLength {
                    found: "x bad".into()
                }),
                Ok("hi".into()),
                Err(FrameError::Truncated { have: 3, want: 4 }),
            ]
        );
    }

    #[test]
    fn lines() {
        let mut f = Framer::new(5);
        let got = frames(&mut f, &[b"<13>a\r\n\n", b"<13>toolong\nabc"]);
        assert_eq!(f.framing(), Some(Framing::NonTransparent));
        assert_eq!(
            got,
            vec![
                Ok("<13>a".into()),
                Err(FrameError::LineTooLong { max: 5 }),
                Ok("abc".into())
            ]
        );
        // A digit-led line that is no length: lines.
        let mut f = Framer::new(100);
        let got = frames(&mut f, &[b"2024-01-02T03:04:05Z h a: m\n"]);
        assert_eq!(got, vec![Ok("2024-01-02T03:04:05Z h a: m".into())]);
    }
}
