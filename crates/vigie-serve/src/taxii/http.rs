//! TAXII's HTTP conventions: media types (`Accept` → 406, `Content-Type` → 415), error
//! messages (a TAXII error resource with the HTTP status), and the JSON answers.
//!
//! `Accept`: TAXII resources are served as `application/taxii+json;version=2.1`; the
//! object endpoints (envelopes) also as `application/stix+json;version=2.1` when that is
//! what the client asks for. A missing `Accept`, `*/*`, `application/*` and a media type
//! without `version` (meaning the latest, 2.1) are accepted; any other version or type is
//! 406. A POST's `Content-Type` must be one of the two (version 2.1 or none): else 415.

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use vigie_intel::taxii::{TaxiiError, MEDIA_TYPE_STIX, MEDIA_TYPE_TAXII};

use crate::api::error::ApiError;

/// `X-TAXII-Date-Added-First`.
pub const DATE_ADDED_FIRST: HeaderName = HeaderName::from_static("x-taxii-date-added-first");
/// `X-TAXII-Date-Added-Last`.
pub const DATE_ADDED_LAST: HeaderName = HeaderName::from_static("x-taxii-date-added-last");

/// The media types a response may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Taxii,
    Stix,
}

impl Media {
    pub fn as_str(self) -> &'static str {
        match self {
            Media::Taxii => MEDIA_TYPE_TAXII,
            Media::Stix => MEDIA_TYPE_STIX,
        }
    }
}

/// A TAXII error answer.
#[derive(Debug, Clone)]
pub struct Error {
    pub status: StatusCode,
    pub title: String,
    pub description: Option<String>,
    /// `WWW-Authenticate` (401).
    pub challenge: bool,
}

impl Error {
    pub fn new(status: StatusCode, title: &str, description: impl Into<String>) -> Error {
        Error {
            status,
            title: title.to_string(),
            description: Some(description.into()),
            challenge: false,
        }
    }

    pub fn bad_request(d: impl Into<String>) -> Error {
        Error::new(StatusCode::BAD_REQUEST, "Bad request", d)
    }

    pub fn not_found(d: impl Into<String>) -> Error {
        Error::new(StatusCode::NOT_FOUND, "Not found", d)
    }

    pub fn forbidden(d: impl Into<String>) -> Error {
        Error::new(StatusCode::FORBIDDEN, "Forbidden", d)
    }

    pub fn internal(d: impl Into<String>) -> Error {
        Error::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error", d)
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Error {
        let title = match e.status {
            StatusCode::UNAUTHORIZED => "Unauthorized",
            StatusCode::FORBIDDEN => "Forbidden",
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::PAYLOAD_TOO_LARGE => "Request entity too large",
            StatusCode::BAD_REQUEST => "Bad request",
            StatusCode::SERVICE_UNAVAILABLE => "Service unavailable",
            _ => "Error",
        };
        Error {
            status: e.status,
            title: title.to_string(),
            description: Some(e.message),
            challenge: e.challenge,
        }
    }
}

impl From<vigie_store::StoreError> for Error {
    fn from(e: vigie_store::StoreError) -> Error {
        tracing::error!(error = %e, "TAXII: store error answered 500");
        Error::internal(e.to_string())
    }
}

impl From<super::filter::ParamError> for Error {
    fn from(e: super::filter::ParamError) -> Error {
        Error::bad_request(e.to_string())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let body = TaxiiError {
            title: self.title,
            description: self.description,
            error_id: None,
            error_code: None,
            http_status: Some(self.status.as_u16().to_string()),
            external_details: None,
            details: None,
        };
        let mut r = json(self.status, Media::Taxii, &body);
        if self.challenge {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"vigie\", Bearer realm=\"vigie\""),
            );
        }
        r
    }
}

/// A JSON answer with a TAXII media type.
pub fn json<T: Serialize>(status: StatusCode, media: Media, body: &T) -> Response {
    let bytes = match serde_json::to_vec(body) {
        Ok(b) => b,
        Err(e) => return Error::internal(format!("serialising the answer: {e}")).into_response(),
    };
    let mut r = (status, bytes).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.as_str()),
    );
    r
}

/// One media range of a header: `type/subtype` (lowercase) and its `version` parameter.
fn ranges(v: &str) -> Vec<(String, Option<String>)> {
    v.split(',')
        .filter_map(|part| {
            let mut it = part.split(';');
            let mt = it.next()?.trim().to_ascii_lowercase();
            if mt.is_empty() {
                return None;
            }
            let mut version = None;
            let mut q_zero = false;
            for p in it {
                if let Some((k, val)) = p.split_once('=') {
                    let k = k.trim().to_ascii_lowercase();
                    let val = val.trim().trim_matches('"').to_string();
                    if k == "version" {
                        version = Some(val);
                    } else if k == "q" && val.parse::<f32>().is_ok_and(|q| q == 0.0) {
                        q_zero = true;
                    }
                }
            }
            (!q_zero).then_some((mt, version))
        })
        .collect()
}

fn version_ok(v: &Option<String>) -> bool {
    v.as_deref().is_none_or(|v| v == "2.1")
}

/// What to answer with, given `Accept`: `stix_ok` for the object endpoints (envelopes).
/// 406 (a TAXII error) when nothing acceptable is asked for.
pub fn negotiate(headers: &HeaderMap, stix_ok: bool) -> Result<Media, Error> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Ok(Media::Taxii);
    };
    let text = accept.to_str().unwrap_or("");
    let asked = ranges(text);
    if asked.is_empty() {
        return Ok(Media::Taxii);
    }
    for (mt, version) in &asked {
        match mt.as_str() {
            "application/taxii+json" if version_ok(version) => return Ok(Media::Taxii),
            "application/stix+json" if stix_ok && version_ok(version) => return Ok(Media::Stix),
            "*/*" | "application/*" => return Ok(Media::Taxii),
            _ => {}
        }
    }
    let offered = if stix_ok {
        format!("{MEDIA_TYPE_TAXII} or {MEDIA_TYPE_STIX}")
    } else {
        MEDIA_TYPE_TAXII.to_string()
    };
    Err(Error::new(
        StatusCode::NOT_ACCEPTABLE,
        "Not acceptable",
        format!("Accept `{text}`: this resource is served as {offered}"),
    ))
}

/// A POST's `Content-Type`: one of the two TAXII 2.1 media types, else 415.
pub fn check_content_type(headers: &HeaderMap) -> Result<(), Error> {
    let text = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ok = ranges(text).first().is_some_and(|(mt, v)| {
        matches!(
            mt.as_str(),
            "application/taxii+json" | "application/stix+json"
        ) && version_ok(v)
    });
    if ok {
        return Ok(());
    }
    Err(Error::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Unsupported media type",
        format!(
            "Content-Type `{text}`: expected {MEDIA_TYPE_TAXII} (an envelope) or {MEDIA_TYPE_STIX}"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: HeaderName, v: &'static str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(name, HeaderValue::from_static(v));
        m
    }

    #[test]
    fn accept_negotiation() {
        let ok = |v: &'static str, stix: bool| negotiate(&h(header::ACCEPT, v), stix).ok();
        assert_eq!(negotiate(&HeaderMap::new(), false).ok(), Some(Media::Taxii));
        assert_eq!(
            ok("application/taxii+json;version=2.1", false),
            Some(Media::Taxii)
        );
        assert_eq!(
            ok("application/taxii+json; version=2.1", false),
            Some(Media::Taxii)
        );
        assert_eq!(ok("application/taxii+json", false), Some(Media::Taxii));
        assert_eq!(
            ok("application/stix+json;version=2.1", true),
            Some(Media::Stix)
        );
        assert_eq!(ok("*/*", false), Some(Media::Taxii));
        assert_eq!(ok("application/stix+json;version=2.1", false), None);
        assert_eq!(ok("application/taxii+json;version=2.0", false), None);
        assert_eq!(ok("application/json", true), None);
        assert_eq!(ok("text/html, application/taxii+json;q=0", true), None);
        let e = negotiate(&h(header::ACCEPT, "text/html"), false).err();
        assert_eq!(e.map(|e| e.status), Some(StatusCode::NOT_ACCEPTABLE));
    }

    #[test]
    fn content_types() {
        let ct = |v: &'static str| check_content_type(&h(header::CONTENT_TYPE, v)).is_ok();
        assert!(ct("application/taxii+json;version=2.1"));
        assert!(ct("application/stix+json;version=2.1"));
        assert!(ct("application/taxii+json"));
        assert!(!ct("application/json"));
        assert!(!ct("application/taxii+json;version=2.0"));
        assert!(check_content_type(&HeaderMap::new()).is_err());
    }
}
