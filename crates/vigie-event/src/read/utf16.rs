//! UTF-16 text (with a byte-order mark) transcoded to UTF-8 on the fly.
//!
//! Windows PowerShell 5.1 writes `ConvertTo-Json > events.json` as UTF-16LE with a BOM,
//! so JSON exported on a Windows host often arrives that way.

use std::io::{self, Read};

/// UTF-16 code units read from `inner` (after its BOM), handed out as UTF-8. Unpaired
/// surrogates and a dangling odd byte become U+FFFD, so the output is always valid UTF-8.
pub(crate) struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    raw: Vec<u8>,
    /// An odd byte left over from the last read.
    carry: Option<u8>,
    /// A high surrogate whose partner has not been read yet.
    high: Option<u16>,
    out: Vec<u8>,
    pos: usize,
    eof: bool,
}

const CHUNK: usize = 64 * 1024;

impl<R: Read> Utf16Reader<R> {
    pub fn new(inner: R, big_endian: bool) -> Self {
        Utf16Reader {
            inner,
            big_endian,
            raw: vec![0; CHUNK],
            carry: None,
            high: None,
            out: Vec::with_capacity(CHUNK * 2),
            pos: 0,
            eof: false,
        }
    }

    /// Reads and decodes one chunk into `out`; false at end of input.
    fn fill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.pos = 0;
        let start = usize::from(self.carry.is_some());
        if let Some(b) = self.carry.take() {
            self.raw[0] = b;
        }
        let n = loop {
            match self.inner.read(&mut self.raw[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            self.eof = true;
            if start == 1 || self.high.take().is_some() {
                push_char(&mut self.out, char::REPLACEMENT_CHARACTER);
            }
            return Ok(!self.out.is_empty());
        }
        let len = start + n;
        let pairs = len / 2;
        if len % 2 == 1 {
            self.carry = Some(self.raw[len - 1]);
        }
        for i in 0..pairs {
            let (a, b) = (self.raw[2 * i], self.raw[2 * i + 1]);
            let unit = if self.big_endian {
                u16::from_be_bytes([a, b])
            } else {
                u16::from_le_bytes([a, b])
            };
            self.unit(unit);
        }
        Ok(true)
    }

    fn unit(&mut self, unit: u16) {
        match unit {
            0xD800..=0xDBFF => {
                if self.high.replace(unit).is_some() {
                    push_char(&mut self.out, char::REPLACEMENT_CHARACTER);
                }
            }
            0xDC00..=0xDFFF => {
                let c = match self.high.take() {
                    Some(h) => {
                        let v =
                            0x10000 + ((u32::from(h) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                        char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER)
                    }
                    None => char::REPLACEMENT_CHARACTER,
                };
                push_char(&mut self.out, c);
            }
            _ => {
                if self.high.take().is_some() {
                    push_char(&mut self.out, char::REPLACEMENT_CHARACTER);
                }
                // Not a surrogate, so always a valid scalar value.
                let c = char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER);
                push_char(&mut self.out, c);
            }
        }
    }
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.out.len() {
            if self.eof || !self.fill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(s: &str, big_endian: bool) -> Vec<u8> {
        s.encode_utf16()
            .flat_map(|u| {
                if big_endian {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                }
            })
            .collect()
    }

    fn decode(bytes: &[u8], big_endian: bool) -> String {
        let mut out = String::new();
        Utf16Reader::new(bytes, big_endian)
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    /// Hands out one byte per read, so code units and surrogate pairs straddle reads.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(slot)) => {
                    *slot = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn pairs_split_across_reads() {
        let s = "a\u{1F600}é\u{10FFFF}z";
        for be in [false, true] {
            let mut out = String::new();
            Utf16Reader::new(Trickle(&encode(s, be)), be)
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(out, s);
        }
    }

    #[test]
    fn damaged_input_is_replaced_not_dropped() {
        // Lone high surrogate, lone low surrogate, odd trailing byte.
        let bytes = [0x00, 0xD8, b'a', 0, 0x00, 0xDC, b'b'];
        assert_eq!(decode(&bytes, false), "\u{FFFD}a\u{FFFD}\u{FFFD}");
    }

    proptest! {
        #[test]
        fn round_trips(s in any::<String>(), be in any::<bool>()) {
            prop_assert_eq!(decode(&encode(&s, be), be), s);
        }

        #[test]
        fn arbitrary_bytes_give_utf8(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            // read_to_string fails on invalid UTF-8, so this checks validity.
            let _ = decode(&bytes, false);
        }
    }
}
