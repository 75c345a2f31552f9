//! What an EVTX file should hold, and what became of each part: the ledger behind "nothing
//! lost without a word".
//!
//! Before the `evtx` parser runs, [`survey`] reads the 4 KiB file header and the 512-byte
//! header of every 64 KiB chunk slot. A slot is every chunk the file header counts
//! (`chunk_count`) plus every other slot the file reaches (dirty files hold chunks past
//! the count; preallocated logs hold zeroed ones). As records come out, each is put to the
//! chunk it came from; [`Ledger::finish`] then reports, through the sink:
//!
//! - `evtx_chunk_missing`, one per chunk the file header counts that the file ends before.
//!   Its record range is unknown (it lived in the chunk's own header), so it is counted
//!   as a chunk, not as records;
//! - `evtx_chunk_damaged`, one per chunk that is there but unreadable: bad header magic
//!   or string table, all zeros although the file header counts it as in use, or cut
//!   before the end of its header, or left unread after a parser failure;
//! - `evtx_record_damaged`, one per record of a readable chunk (its header gives the
//!   record ids `first..=last`) that neither came out as an event nor was reported by the
//!   parser. A chunk the file ends inside is such a chunk: the records before the cut
//!   are read, each one after it is reported.
//!
//! So, per file: slots read + `evtx_chunk_damaged` + `evtx_chunk_missing` + zeroed slots
//! past the count = slots; and in each readable chunk, the ids in its range are each
//! either an event or one `evtx_record_damaged` error (records read with ids outside
//! the range, which dirty chunks hold, are events and count for nothing else).
//!
//! Limits: records are put to chunks by the chunk header they carry, in the parser's
//! chunk order; two chunks with byte-identical headers next to each other (a copied
//! chunk) are told apart only by that order. A header claiming more records than a chunk
//! can hold gets a warning instead of one error per id.

use std::io::{Read, Seek, SeekFrom};

use evtx::{EvtxChunkHeader, EvtxFileHeader};

use super::sink::Sink;
use super::{Position, ReadErrorKind};

pub(crate) const FILE_HEADER_SIZE: u64 = 4096;
pub(crate) const CHUNK_SIZE: u64 = 65536;
const CHUNK_HEADER_SIZE: usize = 512;
/// Most records a chunk can hold: each takes a 24-byte header and a 4-byte size copy.
const MAX_RECORDS_PER_CHUNK: u64 = (CHUNK_SIZE - CHUNK_HEADER_SIZE as u64) / 28;

/// Enough of a chunk header to tell which chunk a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkKey {
    first_number: u64,
    last_number: u64,
    first_id: u64,
    last_id: u64,
    free_space: u32,
    events_crc: u32,
    header_crc: u32,
}

impl ChunkKey {
    pub fn of(h: &EvtxChunkHeader) -> ChunkKey {
        ChunkKey {
            first_number: h.first_event_record_number,
            last_number: h.last_event_record_number,
            first_id: h.first_event_record_id,
            last_id: h.last_event_record_id,
            free_space: h.free_space_offset,
            events_crc: h.events_checksum,
            header_crc: h.header_chunk_checksum,
        }
    }
}

/// What a chunk slot holds, as surveyed.
#[derive(Debug, Clone)]
pub(crate) enum Slot {
    /// A whole chunk with a readable header: the `evtx` parser reads it.
    Whole(ChunkKey),
    /// A whole chunk whose header the parser will refuse (and report).
    BadHeader,
    /// A whole chunk of zeros: free space, or wiped if the file header counts it.
    Zeroed,
    /// The file ends inside this chunk, `len` bytes in; `header` is its header when all
    /// of it is there, and `bytes` the chunk's bytes until the reader takes them.
    Cut {
        len: u64,
        header: Option<ChunkKey>,
        bytes: Vec<u8>,
    },
    /// The file ends before this chunk.
    Missing,
    /// The survey could not read it.
    Unreadable(String),
}

/// What came out of one slot.
#[derive(Debug, Default)]
struct Tally {
    /// Some record was put to it.
    visited: bool,
    /// Reported as a whole (damaged or missing).
    reported: bool,
    /// Ids read or reported.
    ids: Vec<u64>,
    /// Damage the parser reported without a record id, for the records it cost.
    damage: Vec<String>,
}

/// The slots of one file and what came out of each (see the module docs).
#[derive(Debug)]
pub(crate) struct Ledger {
    pub file_len: u64,
    /// The file header's `chunk_count`.
    pub counted: u64,
    slots: Vec<Slot>,
    tallies: Vec<Tally>,
    /// Whole slots in the parser's reading order (oldest records first).
    order: Vec<usize>,
    /// Index in `order` of the chunk records are being put to.
    cur: usize,
}

/// Surveys the file (see the module docs) and seeks back to its start. `None` when the
/// file header cannot be read: the parser then refuses the file with its own error.
pub(crate) fn survey<R: Read + Seek>(data: &mut R) -> Option<Ledger> {
    let ledger = survey_inner(data);
    data.seek(SeekFrom::Start(0)).ok()?;
    ledger
}

fn survey_inner<R: Read + Seek>(data: &mut R) -> Option<Ledger> {
    let file_len = data.seek(SeekFrom::End(0)).ok()?;
    data.seek(SeekFrom::Start(0)).ok()?;
    let mut block = vec![0u8; FILE_HEADER_SIZE as usize];
    data.read_exact(&mut block).ok()?;
    let header = EvtxFileHeader::from_bytes(&block).ok()?;
    let counted = u64::from(header.chunk_count);
    let reached = (file_len - FILE_HEADER_SIZE).div_ceil(CHUNK_SIZE);
    let n = counted.max(reached);
    let mut slots = Vec::with_capacity(n as usize);
    let mut head = [0u8; CHUNK_HEADER_SIZE];
    for i in 0..n {
        let offset = FILE_HEADER_SIZE + i * CHUNK_SIZE;
        slots.push(survey_slot(data, &mut head, offset, file_len, i < counted));
    }
    let order = parser_order(&slots);
    Some(Ledger {
        file_len,
        counted,
        tallies: slots.iter().map(|_| Tally::default()).collect(),
        slots,
        order,
        cur: 0,
    })
}

/// What slot `offset` holds. Only the 512-byte header is read, except for a chunk the
/// file ends inside (read whole, to be parsed up to the cut) and, among the chunks the
/// file header counts, one whose header is all zeros (read whole, to tell a zeroed chunk
/// from a damaged one). Past the counted chunks a zero header is preallocated space: the
/// parser skips it when it is all zeros and reports it when it is not, so it is not
/// scanned twice (EVTX files are often mostly such space).
fn survey_slot<R: Read + Seek>(
    data: &mut R,
    head_buf: &mut [u8; CHUNK_HEADER_SIZE],
    offset: u64,
    len: u64,
    counted: bool,
) -> Slot {
    if offset >= len {
        return Slot::Missing;
    }
    let avail = (len - offset).min(CHUNK_SIZE);
    let head = (avail as usize).min(CHUNK_HEADER_SIZE);
    let read = |data: &mut R, buf: &mut [u8]| -> std::io::Result<()> {
        data.seek(SeekFrom::Start(offset))?;
        data.read_exact(buf)
    };
    if let Err(e) = read(data, &mut head_buf[..head]) {
        return Slot::Unreadable(format!("cannot read: {e}"));
    }
    let key = EvtxChunkHeader::from_bytes(&head_buf[..head])
        .ok()
        .map(|h| ChunkKey::of(&h));
    if avail < CHUNK_SIZE {
        let mut bytes = vec![0u8; avail as usize];
        bytes[..head].copy_from_slice(&head_buf[..head]);
        if key.is_some() {
            if let Err(e) = data.read_exact(&mut bytes[head..]) {
                return Slot::Unreadable(format!("cannot read: {e}"));
            }
        }
        return Slot::Cut {
            len: avail,
            header: key,
            bytes,
        };
    }
    match key {
        Some(k) => Slot::Whole(k),
        None if head_buf[..head].iter().all(|b| *b == 0) && !counted => Slot::Zeroed,
        None if head_buf[..head].iter().all(|b| *b == 0) => {
            // The parser skips a chunk only when all of it is zeros.
            let mut rest = vec![0u8; CHUNK_SIZE as usize - head];
            match data.read_exact(&mut rest) {
                Ok(()) if rest.iter().all(|b| *b == 0) => Slot::Zeroed,
                Ok(()) => Slot::BadHeader,
                Err(e) => Slot::Unreadable(format!("cannot read: {e}")),
            }
        }
        None => Slot::BadHeader,
    }
}

/// The order the `evtx` parser reads whole chunks in: from the one whose header names the
/// lowest first record id (ties: the first such) to the end, then from the start.
fn parser_order(slots: &[Slot]) -> Vec<usize> {
    let oldest = slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Slot::Whole(k) if k.first_id <= k.last_id => Some((k.first_id, i)),
            _ => None,
        })
        .min()
        .map_or(0, |(_, i)| i);
    let whole = |i: &usize| matches!(slots[*i], Slot::Whole(_) | Slot::BadHeader);
    (oldest..slots.len())
        .chain(0..oldest)
        .filter(whole)
        .collect()
}

impl Ledger {
    /// A ledger of nothing, for a file the survey could not read.
    pub fn empty() -> Ledger {
        Ledger {
            file_len: 0,
            counted: 0,
            slots: Vec::new(),
            tallies: Vec::new(),
            order: Vec::new(),
            cur: 0,
        }
    }

    /// Byte offset of chunk `i` in the file.
    pub fn offset(i: u64) -> u64 {
        FILE_HEADER_SIZE + i * CHUNK_SIZE
    }

    fn key(&self, slot: usize) -> Option<ChunkKey> {
        match self.slots.get(slot)? {
            Slot::Whole(k) => Some(*k),
            Slot::Cut { header, .. } => *header,
            _ => None,
        }
    }

    /// The slot a record from the chunk with header `key` came from: the chunk being read
    /// or, when the parser has moved on, the next one in its order with that header.
    pub fn locate(&mut self, key: ChunkKey) -> Option<usize> {
        let n = self.order.len();
        let at = (0..n)
            .map(|d| (self.cur + d) % n)
            .find(|&k| self.key(self.order[k]) == Some(key))?;
        self.cur = at;
        let slot = self.order[at];
        self.tallies[slot].visited = true;
        Some(slot)
    }

    /// The slot holding record `id`: the chunk being read if its range holds it, else the
    /// first chunk whose range does, else (an id no chunk claims) the chunk being read.
    pub fn locate_id(&mut self, id: u64) -> Option<usize> {
        let holds = |l: &Ledger, slot: usize| {
            l.key(slot)
                .is_some_and(|k| (k.first_id..=k.last_id).contains(&id))
        };
        let current = self.order.get(self.cur).copied();
        if let Some(slot) = current.filter(|&s| holds(self, s)) {
            return Some(slot);
        }
        let slot = (0..self.slots.len())
            .find(|&s| holds(self, s))
            .or(current)?;
        self.tallies[slot].visited = true;
        Some(slot)
    }

    /// The parser moved to chunk `chunk` (it named it in an error).
    pub fn moved_to(&mut self, chunk: u64) -> Option<usize> {
        let slot = usize::try_from(chunk).ok()?;
        if let Some(k) = self.order.iter().position(|&s| s == slot) {
            self.cur = k;
        }
        self.tallies.get_mut(slot)?.visited = true;
        Some(slot)
    }

    /// Record `id` of `slot` came out as an event or was reported.
    pub fn seen(&mut self, slot: Option<usize>, id: u64) {
        if let Some(t) = slot.and_then(|s| self.tallies.get_mut(s)) {
            t.ids.push(id);
        }
    }

    /// Chunk `slot` was reported as a whole.
    pub fn chunk_reported(&mut self, slot: usize) {
        if let Some(t) = self.tallies.get_mut(slot) {
            t.reported = true;
        }
    }

    /// The parser reported damage in `slot` without naming a record: kept, to say why
    /// the records it cost are missing (they are found when the chunk is done).
    pub fn damage(&mut self, slot: usize, message: String) {
        if let Some(t) = self.tallies.get_mut(slot) {
            t.damage.push(message);
        }
    }

    /// The bytes of each slot the file ends inside whose header is there, for the reader
    /// to read itself (the parser skips them).
    pub fn take_cut_chunks(&mut self) -> Vec<(usize, Vec<u8>)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Slot::Cut {
                    header: Some(_),
                    bytes,
                    ..
                } => Some((i, std::mem::take(bytes))),
                _ => None,
            })
            .collect()
    }

    /// Reports every slot and record not accounted for (see the module docs).
    /// `parser_failed`: the parser stopped early, so chunks it did not reach are damaged.
    /// Whole chunks come first, so that a listing cut short still shows them.
    pub fn finish(mut self, sink: &mut Sink<'_>, parser_failed: bool) {
        let mut readable = Vec::new();
        for i in 0..self.slots.len() {
            if self.finish_slot(sink, i, parser_failed) {
                readable.push(i);
            }
        }
        for i in readable {
            if let Some(key) = self.key(i) {
                self.finish_records(sink, i, key);
            }
        }
    }

    /// Reports slot `i` if it is missing or unreadable; returns whether its records are
    /// left to account for.
    fn finish_slot(&mut self, sink: &mut Sink<'_>, i: usize, parser_failed: bool) -> bool {
        let at = Position::Chunk(i as u64);
        let offset = Ledger::offset(i as u64);
        let counted = i < self.counted as usize;
        let len = self.file_len;
        let n = self.counted;
        let damaged = ReadErrorKind::EvtxChunkDamaged;
        let whole_msg = match &self.slots[i] {
            Slot::Missing => Some((
                ReadErrorKind::EvtxChunkMissing,
                format!(
                    "missing (offset {offset}): the file ends at byte {len}, before this chunk; \
                     its header counts {n} chunks"
                ),
            )),
            Slot::Zeroed if counted => Some((
                damaged,
                format!(
                    "all zeros (offset {offset}), although the file header counts {n} chunks \
                     in use"
                ),
            )),
            Slot::Cut {
                len: got,
                header: None,
                ..
            } => Some((
                damaged,
                format!(
                    "cut (offset {offset}): the file ends at byte {len}, {got} bytes into this \
                     chunk, and its header cannot be read"
                ),
            )),
            Slot::Unreadable(why) => Some((damaged, format!("offset {offset}: {why}"))),
            Slot::Whole(_) | Slot::BadHeader
                if parser_failed && !self.tallies[i].visited && !self.tallies[i].reported =>
            {
                Some((
                    damaged,
                    format!("not read (offset {offset}): the EVTX parser failed before it"),
                ))
            }
            _ => None,
        };
        if let Some((kind, msg)) = whole_msg {
            if !self.tallies[i].reported {
                sink.error(at, kind, msg);
            }
            return false;
        }
        !self.tallies[i].reported
    }

    /// One error per id of the chunk's range that neither came out nor was reported.
    fn finish_records(&mut self, sink: &mut Sink<'_>, i: usize, key: ChunkKey) {
        let offset = Ledger::offset(i as u64);
        let t = &mut self.tallies[i];
        let damage = describe_damage(std::mem::take(&mut t.damage));
        if key.first_id > key.last_id {
            if let Some(d) = damage {
                sink.error(
                    Position::Chunk(i as u64),
                    ReadErrorKind::EvtxRecordDamaged,
                    d,
                );
            }
            return;
        }
        let claimed = key.last_id - key.first_id + 1;
        if claimed > MAX_RECORDS_PER_CHUNK {
            tracing::warn!(
                "{}: chunk {i} (offset {offset}): its header claims records {}..={}, more than \
                 a chunk holds; its records are not accounted for one by one",
                sink.name,
                key.first_id,
                key.last_id
            );
            if let Some(d) = damage {
                sink.error(
                    Position::Chunk(i as u64),
                    ReadErrorKind::EvtxRecordDamaged,
                    d,
                );
            }
            return;
        }
        t.ids.sort_unstable();
        t.ids.dedup();
        let ids = std::mem::take(&mut t.ids);
        let why = match (&self.slots[i], &damage) {
            (Slot::Cut { .. }, _) => {
                format!("the file ends at byte {} inside this chunk", self.file_len)
            }
            (_, Some(d)) => d.clone(),
            (_, None) => "the chunk's header counts it, its records end before it".to_string(),
        };
        let mut lost = 0u64;
        for id in key.first_id..=key.last_id {
            if ids.binary_search(&id).is_err() {
                lost += 1;
                sink.error(
                    Position::Record(id),
                    ReadErrorKind::EvtxRecordDamaged,
                    format!("not read (chunk {i}, offset {offset}): {why}"),
                );
            }
        }
        if lost == 0 {
            if let Some(d) = damage {
                // Damage that cost no record of the range (slack, a record outside it).
                sink.error(
                    Position::Chunk(i as u64),
                    ReadErrorKind::EvtxRecordDamaged,
                    d,
                );
            }
        }
    }
}

/// The damage found in a chunk, on one line: the first three, then how many more.
fn describe_damage(mut found: Vec<String>) -> Option<String> {
    let more = found.len().saturating_sub(3);
    found.truncate(3);
    let mut text = found.join("; ");
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    (!text.is_empty()).then_some(text)
}
