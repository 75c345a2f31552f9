//! Query strings: parsed with our error shape (axum's own rejections are plain text),
//! limits checked, and the `next` path of a page rebuilt with the same filters.

use axum::extract::Query;
use axum::http::Uri;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest page.
pub const MAX_LIMIT: u32 = 1000;

/// The query string of `uri` as `T`; 400 (our error shape) when it does not fit.
pub fn parse<T: DeserializeOwned>(uri: &Uri) -> Result<T, ApiError> {
    match Query::<T>::try_from_uri(uri) {
        Ok(Query(t)) => Ok(t),
        Err(e) => Err(ApiError::bad_request(format!(
            "query string: {}",
            std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| e.to_string())
        ))),
    }
}

/// A page size in `1..=MAX_LIMIT` (default [`DEFAULT_LIMIT`]).
pub fn limit(l: Option<u32>) -> Result<u32, ApiError> {
    match l {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad_request(format!(
            "limit {n}: expected 1 to {MAX_LIMIT}"
        ))),
    }
}

/// `path?k=v&...&after=cursor` from the filters that are set (in the order given).
pub fn next_path(path: &str, filters: &[(&str, Option<String>)], after: &str) -> String {
    let mut s = String::from(path);
    let mut sep = '?';
    for (k, v) in filters {
        if let Some(v) = v {
            s.push(sep);
            s.push_str(k);
            s.push('=');
            s.push_str(&encode(v));
            sep = '&';
        }
    }
    s.push(sep);
    s.push_str("after=");
    s.push_str(&encode(after));
    s
}

/// A cursor parameter: empty means none (the first page).
pub fn cursor(after: Option<String>) -> Option<String> {
    after.filter(|a| !a.is_empty())
}

/// Percent-encoding of a query value (everything but RFC 3986 unreserved characters).
pub fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_keeps_the_filters_encoded() {
        let p = next_path(
            "/api/v1/detections",
            &[
                ("from", Some("2025-07-01T00:00:00+02:00".into())),
                ("level", None),
                ("rule", Some("a b&c".into())),
            ],
            "42",
        );
        assert_eq!(
            p,
            "/api/v1/detections?from=2025-07-01T00%3A00%3A00%2B02%3A00&rule=a%20b%26c&after=42"
        );
        assert_eq!(next_path("/x", &[], "é"), "/x?after=%C3%A9");
    }

    #[test]
    fn limits() {
        assert_eq!(limit(None), Ok(DEFAULT_LIMIT));
        assert_eq!(limit(Some(1)), Ok(1));
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(MAX_LIMIT + 1)).is_err());
    }
}
