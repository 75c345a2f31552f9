//! Followed files, with `tail -F` semantics: each file is read to its end, then
//! followed; a rotation (the path now names another file: rename and create) is noticed
//! by the inode changing, and the old file is finished before the new one is read from
//! its start; a truncation (the file is shorter than what was read: `copytruncate`)
//! restarts at 0; a path that does not exist yet is waited for. Each file holds JSON
//! lines or syslog lines, told by its first non-blank byte (`{`: JSON), again for each
//! new file behind the path.
//!
//! Exactly once across restarts: every batch carries the position just past its last
//! line (`{"dev", "inode", "offset", "line"}` in [`IngestBatch::position`]), committed in
//! the same transaction as its events, and a follower submits one batch at a time and
//! waits until it is durable ([`Ingest::submit`]). So the committed position is always
//! the end of the committed lines: a follower started with the store's positions
//! ([`vigie_store::Store::positions`]) resumes exactly there, even after a kill. When the
//! stored inode is no longer at the path (rotated while the service was down), the
//! rotated file is looked for by inode in the same directory and finished first. A
//! failed commit rewinds the follower to the last committed position.
//!
//! A line is an event whose `source` is the path and whose `record` is its line number
//! counted across the files that followed one another at the path (so the event key
//! stays unique through rotations); unreadable lines are `rejected` with that number.
//! An unfinished last line (no LF yet) is left until its LF arrives, or taken when the
//! file is rotated away.
//!
//! Polling, not inotify: the path is checked every [`FollowOptions::poll`] (200 ms) when
//! idle and read again at once while there is more. It sees renames, truncations and
//! files that appear the same way everywhere (NFS, overlay and bind mounts, where inotify
//! misses writes made elsewhere), costs one `stat` per file per poll, and needs no
//! dependency beyond std; inotify would save at most the poll interval of latency.
//!
//! Limits: a file truncated and rewritten past the old offset between two polls is not
//! seen as truncated (as with `tail -F`); lines longer than [`FollowOptions::max_line`]
//! are rejected and skipped.

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use vigie_event::syslog::{parse, ParseOptions};
use vigie_store::InputPosition;

use super::syslog::{count_rejected, RateLimited};
use super::{Ingest, IngestBatch, RawEvent, Rejected, SubmitError};
use crate::metrics::Metrics;

/// Settings of the followers.
#[derive(Debug, Clone, Copy)]
pub struct FollowOptions {
    /// How long an idle follower waits before looking again.
    pub poll: Duration,
    /// Most lines in one batch (also bounded by the queue's capacity).
    pub batch_lines: usize,
    /// Longest line taken; longer ones are rejected and skipped.
    pub max_line: usize,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            poll: Duration::from_millis(200),
            batch_lines: 1000,
            max_line: 1 << 20,
        }
    }
}

/// The `input` of a followed file: `file:` and the path as configured.
pub fn input_name(path: &Path) -> String {
    format!("file:{}", path.display())
}

/// Where a follower is in the files behind one path (the stored position, as JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FilePosition {
    #[serde(default)]
    pub dev: u64,
    pub inode: u64,
    /// Bytes of the file read and committed: the end of a line.
    pub offset: u64,
    /// Lines taken so far at this path, across rotations (the last line's `record`).
    #[serde(default)]
    pub line: u64,
}

/// The running followers.
#[derive(Debug)]
pub struct Followers {
    /// One task per path; aborting one stops it at once (what it submitted is kept or
    /// not as its commit goes, and the next start resumes from what was committed).
    pub handles: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl Followers {
    /// Aborts every follower.
    pub fn abort(&self) {
        self.handles.iter().for_each(JoinHandle::abort);
    }

    /// Stops reading: a batch being submitted is waited for (its commit advances the
    /// position), then each follower ends; after `grace` they are aborted.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        let aborts: Vec<_> = self.handles.iter().map(JoinHandle::abort_handle).collect();
        let all = futures_util::future::join_all(self.handles);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("file followers: not done after {grace:?}, aborted");
            aborts.iter().for_each(tokio::task::AbortHandle::abort);
        }
    }
}

/// Starts one follower per path, each resuming from its position among `positions`
/// (those of `Store::positions()`; others are ignored).
pub fn spawn(
    paths: &[PathBuf],
    ingest: Ingest,
    positions: &[InputPosition],
    metrics: Arc<Metrics>,
    opts: FollowOptions,
) -> Followers {
    let (stop, stop_rx) = watch::channel(false);
    let handles = paths
        .iter()
        .map(|path| {
            let input = input_name(path);
            let resume = positions
                .iter()
                .find(|p| p.input == input)
                .and_then(|p| match serde_json::from_str::<FilePosition>(&p.position) {
                    Ok(pos) => Some(pos),
                    Err(e) => {
                        tracing::warn!(
                            "{input}: stored position `{}` unreadable ({e}): reading from the start",
                            p.position
                        );
                        None
                    }
                });
            let f = Follower::new(path.clone(), resume, opts, ingest.capacity());
            let run = follow(f, ingest.clone(), metrics.clone(), opts, stop_rx.clone());
            tokio::spawn(run)
        })
        .collect();
    Followers { handles, stop }
}

async fn follow(
    mut f: Follower,
    ingest: Ingest,
    metrics: Arc<Metrics>,
    opts: FollowOptions,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = opts.poll;
    let mut rejects = RateLimited::new();
    loop {
        if *stop.borrow() {
            return;
        }
        let Ok((back, step)) = tokio::task::spawn_blocking(move || {
            let step = f.poll();
            (f, step)
        })
        .await
        else {
            return;
        };
        f = back;
        match step {
            Ok(Some(batch)) => match ingest.submit(batch).await {
                Ok(outcome) => {
                    count_rejected(&metrics, &f.input, &outcome, &mut rejects);
                    f.committed();
                    backoff = opts.poll;
                }
                Err(SubmitError::Closed) => return,
                Err(e) => {
                    tracing::warn!("{}: {e}; reading again from the last commit", f.input);
                    f.rewind();
                    pause(backoff, &mut stop).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            },
            Ok(None) => pause(opts.poll, &mut stop).await,
            Err(e) => {
                if f.errors.hit() {
                    tracing::warn!("{}: {e}", f.input);
                }
                f.close();
                pause(opts.poll, &mut stop).await;
            }
        }
    }
}

/// Sleeps `d`, or less when told to stop.
async fn pause(d: Duration, stop: &mut watch::Receiver<bool>) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = super::syslog::stopped(stop) => {}
    }
}

/// Which kind of lines a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lines {
    Json,
    Syslog,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    inode: u64,
}

impl FileId {
    #[cfg(unix)]
    fn of(m: &Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: m.dev(),
            inode: m.ino(),
        }
    }

    #[cfg(not(unix))]
    fn of(_: &Metadata) -> FileId {
        FileId { dev: 0, inode: 0 }
    }
}

/// The file being read.
struct Open {
    file: File,
    id: FileId,
    /// End of the last line taken (not yet necessarily committed).
    offset: u64,
    kind: Option<Lines>,
    /// Inside a line over the limit (already rejected): skip through its LF.
    skipping: bool,
    /// Not at the path any more: taken to its end, then the path is opened again.
    rotated: bool,
}

/// What can be restored when a batch does not commit.
#[derive(Debug, Clone, Copy)]
struct Mark {
    offset: u64,
    line: u64,
    skipping: bool,
    rotated: bool,
}

/// Says "warn" once per stretch of the same trouble.
struct Once {
    said: bool,
}

impl Once {
    fn hit(&mut self) -> bool {
        !std::mem::replace(&mut self.said, true)
    }
}

/// Follows one path (synchronous: run on a blocking thread).
struct Follower {
    path: PathBuf,
    input: String,
    source: Arc<str>,
    opts: FollowOptions,
    batch_max: usize,
    open: Option<Open>,
    /// Lines taken at this path so far.
    line: u64,
    /// The stored position, until the first open.
    resume: Option<FilePosition>,
    /// The state after the last committed batch.
    mark: Option<Mark>,
    waiting: Once,
    errors: Once,
    buf: Vec<u8>,
}

impl Follower {
    fn new(
        path: PathBuf,
        resume: Option<FilePosition>,
        opts: FollowOptions,
        capacity: u64,
    ) -> Follower {
        Follower {
            input: input_name(&path),
            source: Arc::from(path.display().to_string()),
            batch_max: opts.batch_lines.clamp(1, capacity.max(1) as usize),
            line: resume.map_or(0, |p| p.line),
            path,
            opts,
            open: None,
            resume,
            mark: None,
            waiting: Once { said: false },
            errors: Once { said: false },
            buf: Vec::new(),
        }
    }

    fn close(&mut self) {
        self.open = None;
    }

    fn mark(&self) -> Option<Mark> {
        self.open.as_ref().map(|o| Mark {
            offset: o.offset,
            line: self.line,
            skipping: o.skipping,
            rotated: o.rotated,
        })
    }

    /// The batch just submitted is durable.
    fn committed(&mut self) {
        self.mark = self.mark();
        self.errors.said = false;
    }

    /// The batch just submitted was not kept: back to the last commit.
    fn rewind(&mut self) {
        match (self.mark, self.open.as_mut()) {
            (Some(m), Some(o)) => {
                o.offset = m.offset;
                o.skipping = m.skipping;
                o.rotated = m.rotated;
                self.line = m.line;
            }
            // No commit yet in this file: open it again, from the stored position.
            _ => self.open = None,
        }
    }

    /// Reads what is new: a batch to submit, or `None` when there is nothing.
    fn poll(&mut self) -> io::Result<Option<IngestBatch>> {
        if self.open.is_none() && !self.reopen()? {
            return Ok(None);
        }
        if let Some(batch) = self.read_batch()? {
            return Ok(Some(batch));
        }
        // At the end of the file: has it been rotated or truncated?
        let Some(open) = self.open.as_mut() else {
            return Ok(None);
        };
        if open.rotated {
            return self.switch();
        }
        let size = open.file.metadata()?.len();
        if size < open.offset {
            tracing::info!(
                "{}: truncated ({} bytes, {} read): reading from the start",
                self.input,
                size,
                open.offset
            );
            open.offset = 0;
            open.skipping = false;
            open.kind = None;
            return self.read_batch();
        }
        match std::fs::metadata(&self.path) {
            Ok(m) if FileId::of(&m) != open.id => {
                // Finish the old file, its unfinished last line included.
                open.rotated = true;
                match self.read_batch()? {
                    Some(batch) => Ok(Some(batch)),
                    None => self.switch(),
                }
            }
            // Gone (deleted, or renamed with nothing in its place yet): the old file may
            // still be written to; keep reading it until a new one appears.
            _ => Ok(None),
        }
    }

    /// The rotated file is finished: on to the one at the path now.
    fn switch(&mut self) -> io::Result<Option<IngestBatch>> {
        tracing::info!(
            "{}: rotated file finished, following the new one",
            self.input
        );
        self.open = None;
        self.mark = None;
        if self.reopen()? {
            self.read_batch()
        } else {
            Ok(None)
        }
    }

    /// Opens the file at the path, at the stored position when it is the same file.
    /// False when there is no file yet.
    fn reopen(&mut self) -> io::Result<bool> {
        let file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if self.waiting.hit() {
                    tracing::info!("{}: waiting for the file to appear", self.input);
                }
                return Ok(false);
            }
            Err(e) => return Err(e),
        };
        self.waiting.said = false;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::other("is a directory"));
        }
        let id = FileId::of(&meta);
        let mut open = Open {
            file,
            id,
            offset: 0,
            kind: None,
            skipping: false,
            rotated: false,
        };
        if let Some(pos) = self.resume.take() {
            if pos.inode == id.inode && pos.dev == id.dev {
                // Shorter than what was committed: truncated while we were away.
                if meta.len() >= pos.offset {
                    open.offset = pos.offset;
                }
            } else if let Some(old) = self.find_rotated(&pos) {
                tracing::info!(
                    "{}: finishing the rotated file {} first",
                    self.input,
                    old.1.display()
                );
                open = Open {
                    file: old.0,
                    id: FileId {
                        dev: pos.dev,
                        inode: pos.inode,
                    },
                    offset: pos.offset,
                    kind: None,
                    skipping: false,
                    rotated: true,
                };
            }
        }
        self.open = Some(open);
        self.mark = self.mark();
        Ok(true)
    }

    /// The file with the stored inode in the path's directory (rotated while the service
    /// was down), when it still holds at least the committed bytes.
    fn find_rotated(&self, pos: &FilePosition) -> Option<(File, PathBuf)> {
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty());
        let dir = dir.unwrap_or(Path::new("."));
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            let id = FileId::of(&meta);
            if meta.is_file()
                && id.inode == pos.inode
                && id.dev == pos.dev
                && meta.len() >= pos.offset
            {
                let file = File::open(entry.path()).ok()?;
                return Some((file, entry.path()));
            }
        }
        None
    }

    /// Reads whole lines from the offset, up to a batch; `None` when there is none.
    fn read_batch(&mut self) -> io::Result<Option<IngestBatch>> {
        let chunk = self.opts.max_line.saturating_add(2).max(4096);
        let Some(open) = self.open.as_mut() else {
            return Ok(None);
        };
        let start_offset = open.offset;
        let meta = open.file.metadata()?;
        let reference: DateTime<Utc> = meta.modified().map_or_else(|_| Utc::now(), DateTime::from);
        let popts = ParseOptions::at(reference);
        let mut batch = IngestBatch {
            input: self.input.clone(),
            ..IngestBatch::default()
        };
        let mut taken = 0usize;
        'read: while taken < self.batch_max {
            self.buf.resize(chunk, 0);
            open.file.seek(SeekFrom::Start(open.offset))?;
            let n = read_full(&mut open.file, &mut self.buf)?;
            if n == 0 {
                break;
            }
            let data = &self.buf[..n];
            let mut at = 0;
            while let Some(i) = data[at..].iter().position(|b| *b == b'\n') {
                let line = &data[at..at + i];
                at += i + 1;
                if std::mem::take(&mut open.skipping) {
                    open.offset += (i + 1) as u64;
                    continue;
                }
                self.line += 1;
                open.offset += (i + 1) as u64;
                if take_line(
                    line,
                    self.line,
                    &self.source,
                    open,
                    &popts,
                    &mut batch,
                    self.opts.max_line,
                ) {
                    taken += 1;
                }
                if taken >= self.batch_max {
                    break 'read;
                }
            }
            let rest = n - at;
            if n < chunk {
                // At the end of the file: an unfinished line waits for its LF, unless
                // the file was rotated away (nothing more will come).
                if open.rotated && rest > 0 && !open.skipping {
                    self.line += 1;
                    open.offset += rest as u64;
                    take_line(
                        &data[at..],
                        self.line,
                        &self.source,
                        open,
                        &popts,
                        &mut batch,
                        self.opts.max_line,
                    );
                } else if open.rotated && open.skipping {
                    open.offset += rest as u64;
                    open.skipping = false;
                }
                break;
            }
            if at == 0 {
                // A whole chunk without LF: a line over the limit, rejected once.
                if !open.skipping {
                    self.line += 1;
                    batch.rejected.push(Rejected {
                        line: self.line,
                        reason: format!("line longer than {} bytes: skipped", self.opts.max_line),
                    });
                    open.skipping = true;
                    taken += 1;
                }
                open.offset += n as u64;
            }
        }
        if open.offset == start_offset {
            return Ok(None);
        }
        let pos = FilePosition {
            dev: open.id.dev,
            inode: open.id.inode,
            offset: open.offset,
            line: self.line,
        };
        batch.position = Some(InputPosition {
            input: self.input.clone(),
            position: serde_json::to_string(&pos).unwrap_or_default(),
        });
        Ok(Some(batch))
    }
}

/// Reads until `buf` is full or the file ends.
fn read_full(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// JSON lines when the first non-blank byte is `{`, syslog otherwise; `None` while the
/// file holds only blanks.
fn sniff(data: &[u8]) -> Option<Lines> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    match data.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Some(Lines::Json),
        Some(_) => Some(Lines::Syslog),
        None => None,
    }
}

/// One line into the batch; false for a blank line (counted as a line, no event).
fn take_line(
    line: &[u8],
    number: u64,
    source: &Arc<str>,
    open: &mut Open,
    popts: &ParseOptions,
    batch: &mut IngestBatch,
    max: usize,
) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return false;
    }
    if line.len() > max {
        batch.rejected.push(Rejected {
            line: number,
            reason: format!("line longer than {max} bytes: skipped"),
        });
        return true;
    }
    let kind = *open
        .kind
        .get_or_insert_with(|| sniff(line).unwrap_or(Lines::Syslog));
    let document = match kind {
        Lines::Json => match serde_json::from_slice::<Value>(line) {
            Ok(v @ Value::Object(_)) => Ok(v),
            Ok(_) => Err("not a JSON object".to_owned()),
            Err(e) => Err(format!("bad JSON: {e}")),
        },
        Lines::Syslog => parse(line, popts)
            .map(|m| m.to_document())
            .map_err(|e| e.to_string()),
    };
    match document {
        Ok(document) => batch.events.push(RawEvent {
            document: document.into(),
            source: source.clone(),
            record: number,
        }),
        Err(reason) => batch.rejected.push(Rejected {
            line: number,
            reason,
        }),
    }
    true
}
