//! A blocking TAXII 2.1 client (`reqwest::blocking`): discovery, API root, collections,
//! objects (paged), manifest, versions, single object GET and DELETE, add objects and
//! poll their status.
//!
//! Contract:
//! - Every request sends `Accept: application/taxii+json;version=2.1` (the one media
//!   type of TAXII 2.1 resources and envelopes, spelled exactly so: servers such as
//!   medallion compare it literally); a POST sends the same `Content-Type`. Basic auth
//!   when [`ClientOptions::user`] is set.
//! - URLs given to the client are used as they are, with a trailing `/` added when
//!   missing (TAXII URLs end with one); path segments the client appends (collection and
//!   object ids, status ids) are percent-encoded.
//! - Paging ([`Client::objects_all`], [`Client::manifest_all`], [`Client::versions_all`]):
//!   while the answer says `more: true`, the next request carries its `next`; a server
//!   that pages without `next` is followed by `added_after` = the page's
//!   `X-TAXII-Date-Added-Last` header (the specification's other way). A page that
//!   neither says how to go on, nor progresses (an empty page with `more`, the same
//!   `next` or header twice), is an error, never a silent stop or an endless loop. With
//!   `added_after` paging, records that share the boundary page's last `date_added` and
//!   fall on the next page are skipped by the server's strict "after": the client counts
//!   such pages ([`Paged::added_after_pages`]) so callers can say so.
//! - Errors ([`TaxiiClientError`]) name the URL; HTTP errors carry the status and the
//!   TAXII error body's `title` (and `description`) when the server sent one.
//! - No retries: a caller decides. Timeouts: [`ClientOptions::timeout`] per request.

use std::time::{Duration, Instant};

use reqwest::blocking::{RequestBuilder, Response};
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use reqwest::Url;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::types::{
    ApiRoot, Collection, Collections, Discovery, Envelope, Manifest, ManifestRecord, Status,
    Versions, MEDIA_TYPE_TAXII,
};

/// Header naming the `date_added` of a page's first record.
pub const HEADER_DATE_ADDED_FIRST: &str = "X-TAXII-Date-Added-First";
/// Header naming the `date_added` of a page's last record.
pub const HEADER_DATE_ADDED_LAST: &str = "X-TAXII-Date-Added-Last";

/// Bodies larger than this are refused (a hostile or broken server must not exhaust
/// memory): 512 MiB.
pub const MAX_BODY_BYTES: usize = 512 << 20;

/// Pages followed at most by one `*_all` call before it gives up (a server that keeps
/// answering `more: true` with fresh cursors).
pub const MAX_PAGES: u32 = 100_000;

/// What can go wrong talking to a TAXII server.
#[derive(Debug, thiserror::Error)]
pub enum TaxiiClientError {
    #[error("{url}: not a usable TAXII URL: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("HTTP client: {0}")]
    Client(String),
    #[error("{url}: cannot connect: {reason}")]
    Connect { url: String, reason: String },
    #[error("{url}: no answer within {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("{url}: request failed: {reason}")]
    Request { url: String, reason: String },
    #[error("{url}: authentication refused (HTTP 401{}): check the user and password", title_suffix(.title))]
    Unauthorized { url: String, title: Option<String> },
    #[error("{url}: HTTP {status}{}{}", title_suffix(.title), description_suffix(.description))]
    Http {
        url: String,
        status: u16,
        /// The TAXII error message's `title`, when the body was one.
        title: Option<String>,
        description: Option<String>,
    },
    #[error("{url}: the answer is not a TAXII {what}: {reason}")]
    BadBody {
        url: String,
        what: &'static str,
        /// `line L, column C: ...` for JSON errors.
        reason: String,
    },
    #[error("{url}: paging stopped: {reason}")]
    Paging { url: String, reason: String },
    #[error("{url}: objects to add: {reason}")]
    BadObjects { url: String, reason: String },
}

fn title_suffix(title: &Option<String>) -> String {
    match title {
        Some(t) => format!(", {t}"),
        None => String::new(),
    }
}

fn description_suffix(description: &Option<String>) -> String {
    match description {
        Some(d) => format!(": {d}"),
        None => String::new(),
    }
}

impl TaxiiClientError {
    /// The HTTP status when the server answered with an error.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            TaxiiClientError::Unauthorized { .. } => Some(401),
            TaxiiClientError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

type Result<T> = std::result::Result<T, TaxiiClientError>;

/// How to talk to the server.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Basic auth user; no `Authorization` header when `None`.
    pub user: Option<String>,
    pub password: Option<String>,
    /// Per request (connect, send, read the whole answer).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Ignore `HTTP(S)_PROXY` from the environment.
    pub no_proxy: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            user: None,
            password: None,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            no_proxy: false,
        }
    }
}

/// Filters of a GET of objects, a manifest or an object (TAXII 2.1 section 3.4).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectsQuery {
    /// `added_after` (a TAXII timestamp, passed as given).
    pub added_after: Option<String>,
    /// `limit`: records per page (the server may lower it).
    pub limit: Option<u32>,
    /// `match[id]`.
    pub ids: Vec<String>,
    /// `match[type]`.
    pub types: Vec<String>,
    /// `match[version]`: `all`, `first`, `last` or timestamps; the server's default
    /// (`last`) when empty.
    pub versions: Vec<String>,
    /// `match[spec_version]`.
    pub spec_versions: Vec<String>,
}

impl ObjectsQuery {
    /// Every version of every object.
    pub fn all_versions() -> ObjectsQuery {
        ObjectsQuery {
            versions: vec!["all".to_string()],
            ..ObjectsQuery::default()
        }
    }

    fn pairs(&self, next: Option<&str>) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(a) = &self.added_after {
            q.push(("added_after", a.clone()));
        }
        if let Some(l) = self.limit {
            q.push(("limit", l.to_string()));
        }
        for (key, values) in [
            ("match[id]", &self.ids),
            ("match[type]", &self.types),
            ("match[version]", &self.versions),
            ("match[spec_version]", &self.spec_versions),
        ] {
            if !values.is_empty() {
                q.push((key, values.join(",")));
            }
        }
        if let Some(n) = next {
            q.push(("next", n.to_string()));
        }
        q
    }
}

/// One page of a paged resource, with the paging headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub body: T,
    /// The URL asked, query included.
    pub url: String,
    pub date_added_first: Option<String>,
    pub date_added_last: Option<String>,
}

/// Every record of a paged resource, followed to its end.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// Requests made (1 for an unpaged answer).
    pub pages: u32,
    /// Pages reached by `added_after` = the previous page's `X-TAXII-Date-Added-Last`
    /// (the server gave `more` without `next`).
    pub added_after_pages: u32,
    /// `X-TAXII-Date-Added-Last` of the last page that had one (to resume with
    /// `added_after` later).
    pub date_added_last: Option<String>,
}

/// A page's records and how to go on.
struct PageParts<T> {
    items: Vec<T>,
    more: bool,
    next: Option<String>,
}

/// What [`Client::add_objects_and_wait`] ends with.
#[derive(Debug, Clone, PartialEq)]
pub struct AddOutcome {
    /// The last status read (`complete`, or still `pending` when the wait timed out).
    pub status: Status,
    /// Status reads after the POST.
    pub polls: u32,
    /// The wait ended before the status was `complete`.
    pub timed_out: bool,
}

/// A TAXII 2.1 client. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct Client {
    http: reqwest::blocking::Client,
    auth: Option<(String, Option<String>)>,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the password
        f.debug_struct("Client")
            .field("user", &self.auth.as_ref().map(|a| &a.0))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// `url` parsed, with a trailing `/`.
pub fn parse_url(url: &str) -> Result<Url> {
    let mut u = Url::parse(url).map_err(|e| TaxiiClientError::BadUrl {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(TaxiiClientError::BadUrl {
            url: url.to_string(),
            reason: format!("scheme {} (http or https expected)", u.scheme()),
        });
    }
    if u.cannot_be_a_base() {
        return Err(TaxiiClientError::BadUrl {
            url: url.to_string(),
            reason: "not a base URL".to_string(),
        });
    }
    if !u.path().ends_with('/') {
        let p = format!("{}/", u.path());
        u.set_path(&p);
    }
    Ok(u)
}

/// `base` + percent-encoded `segments` + a trailing `/`.
fn join(base: &Url, segments: &[&str]) -> Result<Url> {
    let mut u = base.clone();
    {
        let mut path = u
            .path_segments_mut()
            .map_err(|()| TaxiiClientError::BadUrl {
                url: base.to_string(),
                reason: "not a base URL".to_string(),
            })?;
        path.pop_if_empty();
        path.extend(segments);
        path.push("");
    }
    Ok(u)
}

/// The URL for messages: no user or password in it.
fn display_url(u: &Url) -> String {
    let mut u = u.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl Client {
    pub fn new(opts: &ClientOptions) -> Result<Client> {
        // reqwest is built without a TLS crypto provider (the workspace picks ring):
        // install it for the process (a second install is a no-op).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::blocking::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.connect_timeout)
            .user_agent(concat!(
                "vigie/",
                env!("CARGO_PKG_VERSION"),
                " taxii-client"
            ));
        if opts.no_proxy {
            b = b.no_proxy();
        }
        let http = b
            .build()
            .map_err(|e| TaxiiClientError::Client(e.to_string()))?;
        Ok(Client {
            http,
            auth: opts
                .user
                .as_ref()
                .map(|u| (u.clone(), opts.password.clone())),
            timeout: opts.timeout,
        })
    }

    fn request(&self, rb: RequestBuilder) -> RequestBuilder {
        let rb = rb.header(ACCEPT, MEDIA_TYPE_TAXII);
        match &self.auth {
            Some((u, p)) => rb.basic_auth(u, p.as_ref()),
            None => rb,
        }
    }

    /// Sends, maps transport failures and HTTP errors; the answer's headers and body.
    fn send(&self, rb: RequestBuilder, url: &Url) -> Result<(HeaderMap, Vec<u8>)> {
        let shown = display_url(url);
        tracing::debug!(url = %shown, "TAXII request");
        let resp = self
            .request(rb)
            .send()
            .map_err(|e| self.transport_error(&shown, e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = read_body(resp, &shown, self)?;
        if status.is_success() {
            return Ok((headers, body));
        }
        let (title, description) = error_body(&body);
        if status.as_u16() == 401 {
            return Err(TaxiiClientError::Unauthorized { url: shown, title });
        }
        Err(TaxiiClientError::Http {
            url: shown,
            status: status.as_u16(),
            title,
            description,
        })
    }

    fn transport_error(&self, url: &str, e: reqwest::Error) -> TaxiiClientError {
        if e.is_timeout() {
            TaxiiClientError::Timeout {
                url: url.to_string(),
                seconds: self.timeout.as_secs(),
            }
        } else if e.is_connect() {
            TaxiiClientError::Connect {
                url: url.to_string(),
                reason: error_chain(&e),
            }
        } else {
            TaxiiClientError::Request {
                url: url.to_string(),
                reason: error_chain(&e),
            }
        }
    }

    fn get<T: DeserializeOwned>(
        &self,
        url: &Url,
        query: &[(&str, String)],
        what: &'static str,
    ) -> Result<Page<T>> {
        let mut full = url.clone();
        if !query.is_empty() {
            full.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let (headers, body) = self.send(self.http.get(full.clone()), &full)?;
        let shown = display_url(&full);
        let body = parse_body(&body, &shown, what)?;
        Ok(Page {
            body,
            url: shown,
            date_added_first: header(&headers, HEADER_DATE_ADDED_FIRST),
            date_added_last: header(&headers, HEADER_DATE_ADDED_LAST),
        })
    }

    /// `GET` a discovery URL (usually `https://host/taxii2/`).
    pub fn discovery(&self, url: &str) -> Result<Discovery> {
        let u = parse_url(url)?;
        Ok(self.get(&u, &[], "discovery resource")?.body)
    }

    /// `GET {api_root}`.
    pub fn api_root(&self, api_root: &str) -> Result<ApiRoot> {
        let u = parse_url(api_root)?;
        Ok(self.get(&u, &[], "API root resource")?.body)
    }

    /// `GET {api_root}collections/`: every collection the server lists (none: empty).
    pub fn collections(&self, api_root: &str) -> Result<Vec<Collection>> {
        let u = join(&parse_url(api_root)?, &["collections"])?;
        let c: Collections = self.get(&u, &[], "collections resource")?.body;
        Ok(c.collections)
    }

    /// `GET {api_root}collections/{id}/`.
    pub fn collection(&self, api_root: &str, id: &str) -> Result<Collection> {
        let u = join(&parse_url(api_root)?, &["collections", id])?;
        Ok(self.get(&u, &[], "collection resource")?.body)
    }

    /// One page of `GET .../collections/{id}/objects/` (`next` from the previous page).
    pub fn objects_page(
        &self,
        api_root: &str,
        collection: &str,
        query: &ObjectsQuery,
        next: Option<&str>,
    ) -> Result<Page<Envelope>> {
        let u = join(
            &parse_url(api_root)?,
            &["collections", collection, "objects"],
        )?;
        self.get(&u, &query.pairs(next), "envelope")
    }

    /// Every object of a collection that `query` selects, every page followed.
    pub fn objects_all(
        &self,
        api_root: &str,
        collection: &str,
        query: &ObjectsQuery,
    ) -> Result<Paged<Value>> {
        let u = join(
            &parse_url(api_root)?,
            &["collections", collection, "objects"],
        )?;
        self.follow(&u, query, "envelope", |e: Envelope| PageParts {
            items: e.objects,
            more: e.more.unwrap_or(false),
            next: e.next,
        })
    }

    /// One page of `GET .../collections/{id}/manifest/`.
    pub fn manifest_page(
        &self,
        api_root: &str,
        collection: &str,
        query: &ObjectsQuery,
        next: Option<&str>,
    ) -> Result<Page<Manifest>> {
        let u = join(
            &parse_url(api_root)?,
            &["collections", collection, "manifest"],
        )?;
        self.get(&u, &query.pairs(next), "manifest resource")
    }

    /// The whole manifest `query` selects, every page followed.
    pub fn manifest_all(
        &self,
        api_root: &str,
        collection: &str,
        query: &ObjectsQuery,
    ) -> Result<Paged<ManifestRecord>> {
        let u = join(
            &parse_url(api_root)?,
            &["collections", collection, "manifest"],
        )?;
        self.follow(&u, query, "manifest resource", |m: Manifest| PageParts {
            items: m.objects,
            more: m.more.unwrap_or(false),
            next: m.next,
        })
    }

    /// Every version `query` selects of one object (`GET .../objects/{id}/`), paged.
    pub fn object_all(
        &self,
        api_root: &str,
        collection: &str,
        object_id: &str,
        query: &ObjectsQuery,
    ) -> Result<Paged<Value>> {
        let u = join(
            &parse_url(api_root)?,
            &["collections", collection, "objects", object_id],
        )?;
        self.follow(&u, query, "envelope", |e: Envelope| PageParts {
            items: e.objects,
            more: e.more.unwrap_or(false),
            next: e.next,
        })
    }

    /// The versions of one object (`GET .../objects/{id}/versions/`), paged. Only
    /// `added_after`, `limit` and `spec_versions` of `query` apply.
    pub fn versions_all(
        &self,
        api_root: &str,
        collection: &str,
        object_id: &str,
        query: &ObjectsQuery,
    ) -> Result<Paged<String>> {
        let u = join(
            &parse_url(api_root)?,
            &["collections", collection, "objects", object_id, "versions"],
        )?;
        let q = ObjectsQuery {
            added_after: query.added_after.clone(),
            limit: query.limit,
            spec_versions: query.spec_versions.clone(),
            ..ObjectsQuery::default()
        };
        self.follow(&u, &q, "versions resource", |v: Versions| PageParts {
            items: v.versions,
            more: v.more.unwrap_or(false),
            next: v.next,
        })
    }

    /// `DELETE .../objects/{id}/` (with `match[version]` / `match[spec_version]` of
    /// `query`).
    pub fn delete_object(
        &self,
        api_root: &str,
        collection: &str,
        object_id: &str,
        query: &ObjectsQuery,
    ) -> Result<()> {
        let mut u = join(
            &parse_url(api_root)?,
            &["collections", collection, "objects", object_id],
        )?;
        let q = ObjectsQuery {
            versions: query.versions.clone(),
            spec_versions: query.spec_versions.clone(),
            ..ObjectsQuery::default()
        }
        .pairs(None);
        if !q.is_empty() {
            u.query_pairs_mut()
                .extend_pairs(q.iter().map(|(k, v)| (*k, v.as_str())));
        }
        self.send(self.http.delete(u.clone()), &u)?;
        Ok(())
    }

    /// `POST .../collections/{id}/objects/` of one envelope: the server's status.
    pub fn add_objects(
        &self,
        api_root: &str,
        collection: &str,
        objects: &[Value],
    ) -> Result<Status> {
        let u = join(
            &parse_url(api_root)?,
            &["collections", collection, "objects"],
        )?;
        let body = envelope_bytes(objects).map_err(|reason| TaxiiClientError::BadObjects {
            url: display_url(&u),
            reason,
        })?;
        let rb = self
            .http
            .post(u.clone())
            .header(CONTENT_TYPE, MEDIA_TYPE_TAXII)
            .body(body);
        let (_, answer) = self.send(rb, &u)?;
        parse_body(&answer, &display_url(&u), "status resource")
    }

    /// `GET {api_root}status/{id}/`.
    pub fn status(&self, api_root: &str, status_id: &str) -> Result<Status> {
        let u = join(&parse_url(api_root)?, &["status", status_id])?;
        Ok(self.get(&u, &[], "status resource")?.body)
    }

    /// Add objects, then read the status every `poll` until it is `complete` or `wait`
    /// has passed (then the last status, `timed_out`).
    pub fn add_objects_and_wait(
        &self,
        api_root: &str,
        collection: &str,
        objects: &[Value],
        poll: Duration,
        wait: Duration,
    ) -> Result<AddOutcome> {
        let start = Instant::now();
        let mut status = self.add_objects(api_root, collection, objects)?;
        let mut polls = 0;
        while status.status != "complete" {
            if start.elapsed() >= wait {
                return Ok(AddOutcome {
                    status,
                    polls,
                    timed_out: true,
                });
            }
            std::thread::sleep(poll.min(wait.saturating_sub(start.elapsed())));
            status = self.status(api_root, &status.id)?;
            polls += 1;
        }
        Ok(AddOutcome {
            status,
            polls,
            timed_out: false,
        })
    }

    /// Follows a paged resource to its end (see the module's paging contract).
    fn follow<B: DeserializeOwned, T>(
        &self,
        url: &Url,
        query: &ObjectsQuery,
        what: &'static str,
        parts: impl Fn(B) -> PageParts<T>,
    ) -> Result<Paged<T>> {
        let mut out = Paged {
            items: Vec::new(),
            pages: 0,
            added_after_pages: 0,
            date_added_last: None,
        };
        let mut q = query.clone();
        let mut next: Option<String> = None;
        loop {
            let page: Page<B> = self.get(url, &q.pairs(next.as_deref()), what)?;
            out.pages += 1;
            if page.date_added_last.is_some() {
                out.date_added_last = page.date_added_last.clone();
            }
            let p = parts(page.body);
            let empty = p.items.is_empty();
            out.items.extend(p.items);
            if !p.more {
                return Ok(out);
            }
            let stop = |reason: String| TaxiiClientError::Paging {
                url: page.url.clone(),
                reason,
            };
            if empty {
                return Err(stop(
                    "the server said more: true on an empty page".to_string(),
                ));
            }
            if out.pages >= MAX_PAGES {
                return Err(stop(format!("more than {MAX_PAGES} pages")));
            }
            match (p.next, page.date_added_last) {
                (Some(n), _) => {
                    if next.as_deref() == Some(n.as_str()) {
                        // medallion keeps one `next` for a whole read: the same cursor
                        // is fine as long as pages bring records (checked above)
                        tracing::trace!(next = %n, "same next cursor");
                    }
                    next = Some(n);
                }
                (None, Some(last)) => {
                    if q.added_after.as_deref() == Some(last.as_str()) {
                        return Err(stop(format!(
                            "more: true without next, and {HEADER_DATE_ADDED_LAST} {last} \
                             is the added_after already asked (no progress)"
                        )));
                    }
                    next = None;
                    q.added_after = Some(last);
                    out.added_after_pages += 1;
                }
                (None, None) => {
                    return Err(stop(format!(
                        "more: true without next nor an {HEADER_DATE_ADDED_LAST} header"
                    )))
                }
            }
        }
    }
}

/// The answer's body, at most [`MAX_BODY_BYTES`].
fn read_body(resp: Response, url: &str, client: &Client) -> Result<Vec<u8>> {
    use std::io::Read;
    if let Some(len) = resp.content_length() {
        if len > MAX_BODY_BYTES as u64 {
            return Err(TaxiiClientError::Request {
                url: url.to_string(),
                reason: format!("answer of {len} bytes (limit {MAX_BODY_BYTES})"),
            });
        }
    }
    let mut body = Vec::new();
    let mut limited = resp.take(MAX_BODY_BYTES as u64 + 1);
    limited.read_to_end(&mut body).map_err(|e| {
        // a read error wraps reqwest's own (timeouts included)
        let inner = e
            .get_ref()
            .and_then(|i| i.downcast_ref::<reqwest::Error>())
            .map(|re| re.is_timeout())
            .unwrap_or(false);
        if inner || e.kind() == std::io::ErrorKind::TimedOut {
            TaxiiClientError::Timeout {
                url: url.to_string(),
                seconds: client.timeout.as_secs(),
            }
        } else {
            TaxiiClientError::Request {
                url: url.to_string(),
                reason: format!("reading the answer: {e}"),
            }
        }
    })?;
    if body.len() > MAX_BODY_BYTES {
        return Err(TaxiiClientError::Request {
            url: url.to_string(),
            reason: format!("answer longer than {MAX_BODY_BYTES} bytes"),
        });
    }
    Ok(body)
}

/// A JSON body as `T`; an empty body is `{}` (medallion answers an empty envelope so).
fn parse_body<T: DeserializeOwned>(body: &[u8], url: &str, what: &'static str) -> Result<T> {
    let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(text).map_err(|e| TaxiiClientError::BadBody {
        url: url.to_string(),
        what,
        reason: if e.is_data() || e.is_syntax() || e.is_eof() {
            format!("line {}, column {}: {e}", e.line(), e.column())
        } else {
            e.to_string()
        },
    })
}

/// `title` and `description` of a TAXII error message body, when it is one.
fn error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return (None, None);
    };
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    };
    (s("title"), s("description"))
}

/// The causes of a reqwest error, joined (its Display alone hides "connection refused").
fn error_chain(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = c.source();
    }
    parts.join(": ")
}

/// `{"objects": [...]}` as bytes.
fn envelope_bytes(objects: &[Value]) -> std::result::Result<Vec<u8>, String> {
    if objects.is_empty() {
        return Err("no objects".to_string());
    }
    serde_json::to_vec(&serde_json::json!({ "objects": objects })).map_err(|e| e.to_string())
}

/// Objects split into envelopes whose JSON stays under `max_bytes` (an API root's
/// `max_content_length`), in order. An object alone over the limit is an error naming
/// its index and id.
pub fn batches(objects: &[Value], max_bytes: u64) -> std::result::Result<Vec<Vec<Value>>, String> {
    // `{"objects":[` + `]}` and a comma per object
    const OVERHEAD: u64 = 14;
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut cur: Vec<Value> = Vec::new();
    let mut size = OVERHEAD;
    for (i, o) in objects.iter().enumerate() {
        let n = serde_json::to_vec(o).map_err(|e| e.to_string())?.len() as u64 + 1;
        if n + OVERHEAD > max_bytes {
            return Err(format!(
                "object {i} ({}) is {n} bytes, over the server's max_content_length {max_bytes}",
                o.get("id").and_then(Value::as_str).unwrap_or("no id")
            ));
        }
        if size + n > max_bytes && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
            size = OVERHEAD;
        }
        size += n;
        cur.push(o.clone());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// The version of a STIX object as TAXII servers key it: `modified`, else `created`,
/// else `None` (an SCO: the server's `date_added` stands for it).
pub fn object_version(obj: &Value) -> Option<&str> {
    obj.get("modified")
        .or_else(|| obj.get("created"))
        .and_then(Value::as_str)
}

/// A record the pull left out of the bundle, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// The page's URL.
    pub url: String,
    /// JSON pointer of the object in that page (`/objects/3`).
    pub pointer: String,
    pub reason: String,
}

/// What [`pull_collection`] read from one collection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PulledCollection {
    /// Every object version, in the server's order (`date_added`), deduplicated on
    /// (id, version).
    pub objects: Vec<Value>,
    /// Distinct object ids.
    pub ids: u64,
    pub pages: u32,
    pub added_after_pages: u32,
    pub date_added_last: Option<String>,
    /// Records seen twice (same id and version, e.g. on a page boundary).
    pub duplicates: u64,
    pub skipped: Vec<Skipped>,
}

/// Every version of every object of a collection (`match[version]=all` plus `query`'s
/// other filters), validated enough to go in a bundle: an object without a string `id`
/// and `type` is skipped and recorded.
pub fn pull_collection(
    client: &Client,
    api_root: &str,
    collection: &str,
    query: &ObjectsQuery,
) -> Result<PulledCollection> {
    let mut q = query.clone();
    if q.versions.is_empty() {
        q.versions = vec!["all".to_string()];
    }
    let paged = client.objects_all(api_root, collection, &q)?;
    let url = join(
        &parse_url(api_root)?,
        &["collections", collection, "objects"],
    )?;
    let shown = display_url(&url);
    let mut out = PulledCollection {
        pages: paged.pages,
        added_after_pages: paged.added_after_pages,
        date_added_last: paged.date_added_last,
        ..PulledCollection::default()
    };
    let mut seen: std::collections::HashSet<(String, Option<String>)> = Default::default();
    let mut ids: std::collections::HashSet<String> = Default::default();
    for (i, o) in paged.items.into_iter().enumerate() {
        let id = o.get("id").and_then(Value::as_str).map(str::to_string);
        let ty = o.get("type").and_then(Value::as_str);
        let reason = match (&id, ty) {
            _ if !o.is_object() => Some("not a JSON object"),
            (None, _) => Some("no string id"),
            (_, None) => Some("no string type"),
            _ => None,
        };
        if let Some(reason) = reason {
            out.skipped.push(Skipped {
                url: shown.clone(),
                // the index over the whole read (pages concatenated)
                pointer: format!("/objects/{i}"),
                reason: reason.to_string(),
            });
            continue;
        }
        let Some(id) = id else { continue };
        let key = (id.clone(), object_version(&o).map(str::to_string));
        if !seen.insert(key) {
            out.duplicates += 1;
            continue;
        }
        ids.insert(id);
        out.objects.push(o);
    }
    out.ids = ids.len() as u64;
    Ok(out)
}

/// A STIX 2.1 bundle of `objects`; its id is a UUIDv5 of the API root, the collection
/// and the objects (the same read gives the same bundle).
pub fn bundle(api_root: &str, collection: &str, objects: Vec<Value>) -> Value {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(api_root.as_bytes());
    h.update([0]);
    h.update(collection.as_bytes());
    for o in &objects {
        h.update([0]);
        h.update(o.to_string().as_bytes());
    }
    let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, &h.finalize());
    serde_json::json!({
        "type": "bundle",
        "id": format!("bundle--{id}"),
        "objects": objects,
    })
}

/// What [`push_objects`] ends with: one status per envelope sent.
#[derive(Debug, Clone, PartialEq)]
pub struct PushOutcome {
    pub statuses: Vec<AddOutcome>,
    pub max_content_length: u64,
}

impl PushOutcome {
    pub fn total(&self) -> u64 {
        self.statuses.iter().map(|s| s.status.total_count).sum()
    }
    pub fn successes(&self) -> u64 {
        self.statuses.iter().map(|s| s.status.success_count).sum()
    }
    pub fn failures(&self) -> u64 {
        self.statuses.iter().map(|s| s.status.failure_count).sum()
    }
    pub fn pendings(&self) -> u64 {
        self.statuses.iter().map(|s| s.status.pending_count).sum()
    }
    pub fn timed_out(&self) -> bool {
        self.statuses.iter().any(|s| s.timed_out)
    }
}

/// Adds `objects` to a collection in envelopes under the API root's
/// `max_content_length`, waiting for each status as
/// [`Client::add_objects_and_wait`] does (`wait` for each envelope).
pub fn push_objects(
    client: &Client,
    api_root: &str,
    collection: &str,
    objects: &[Value],
    poll: Duration,
    wait: Duration,
) -> Result<PushOutcome> {
    let root = client.api_root(api_root)?;
    let url = join(
        &parse_url(api_root)?,
        &["collections", collection, "objects"],
    )?;
    let parts = batches(objects, root.max_content_length).map_err(|reason| {
        TaxiiClientError::BadObjects {
            url: display_url(&url),
            reason,
        }
    })?;
    let mut statuses = Vec::with_capacity(parts.len());
    for part in &parts {
        statuses.push(client.add_objects_and_wait(api_root, collection, part, poll, wait)?);
    }
    Ok(PushOutcome {
        statuses,
        max_content_length: root.max_content_length,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_get_a_slash_and_encoded_segments() {
        let u = parse_url("http://127.0.0.1:5000/api1").unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:5000/api1/");
        let c = join(&u, &["collections", "a b/c", "objects"]).unwrap();
        assert_eq!(
            c.as_str(),
            "http://127.0.0.1:5000/api1/collections/a%20b%2Fc/objects/"
        );
        assert!(matches!(
            parse_url("ftp://x/"),
            Err(TaxiiClientError::BadUrl { .. })
        ));
        assert!(matches!(
            parse_url("not a url"),
            Err(TaxiiClientError::BadUrl { .. })
        ));
    }

    #[test]
    fn query_pairs_in_taxii_spelling() {
        let q = ObjectsQuery {
            added_after: Some("2024-01-01T00:00:00Z".into()),
            limit: Some(5),
            versions: vec!["all".into()],
            types: vec!["indicator".into(), "malware".into()],
            ..ObjectsQuery::default()
        };
        let p = q.pairs(Some("abc"));
        assert_eq!(
            p,
            vec![
                ("added_after", "2024-01-01T00:00:00Z".to_string()),
                ("limit", "5".to_string()),
                ("match[type]", "indicator,malware".to_string()),
                ("match[version]", "all".to_string()),
                ("next", "abc".to_string()),
            ]
        );
    }

    #[test]
    fn error_bodies_give_title_and_description() {
        let (t, d) = error_body(
            br#"{"title": "ProcessingError", "http_status": "403", "description": "Forbidden"}"#,
        );
        assert_eq!(t.as_deref(), Some("ProcessingError"));
        assert_eq!(d.as_deref(), Some("Forbidden"));
        assert_eq!(error_body(b"<html>"), (None, None));
        let e = TaxiiClientError::Http {
            url: "http://h/x/".into(),
            status: 403,
            title: t,
            description: d,
        };
        assert_eq!(
            e.to_string(),
            "http://h/x/: HTTP 403, ProcessingError: Forbidden"
        );
    }

    #[test]
    fn bad_bodies_name_line_and_column() {
        let e = parse_body::<Envelope>(b"{\n \"objects\": 3}", "http://h/", "envelope")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("http://h/: the answer is not a TAXII envelope: line 2, column"),
            "{e}"
        );
        let empty: Envelope = parse_body(b"", "http://h/", "envelope").unwrap();
        assert!(empty.objects.is_empty());
    }

    #[test]
    fn batches_respect_the_limit_and_the_order() {
        let objs: Vec<Value> = (0..10)
            .map(|i| json!({"id": format!("indicator--{i}"), "pad": "x".repeat(50)}))
            .collect();
        let b = batches(&objs, 200).unwrap();
        assert!(b.len() > 1);
        let flat: Vec<&Value> = b.iter().flatten().collect();
        assert_eq!(flat.len(), 10);
        for (i, o) in flat.iter().enumerate() {
            assert_eq!(o["id"], json!(format!("indicator--{i}")));
        }
        for batch in &b {
            assert!(envelope_bytes(batch).unwrap().len() as u64 <= 200);
        }
        assert!(batches(&objs, 40).unwrap_err().contains("indicator--0"));
    }

    #[test]
    fn display_url_hides_credentials() {
        let u = Url::parse("http://u:secret@h/x/").unwrap();
        assert_eq!(display_url(&u), "http://h/x/");
    }
}
