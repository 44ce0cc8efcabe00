//! How the REST API answers: JSON with an `ETag`, `304` for a matching `If-None-Match`, `201`
//! with `Location`, lists paged with `Link` and `X-Total-Count`, and the `If-Match` check that
//! turns a stale update into `412`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use super::problem::{ApiResult, Problem};

/// The largest page a list answers with.
pub const MAX_PER_PAGE: u64 = 100;
const DEFAULT_PER_PAGE: u64 = 30;

/// The strong validator of a representation: a digest of the exact JSON that is sent.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

fn json_bytes(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

fn matches(list: &HeaderValue, etag: &str) -> bool {
    list.to_str().is_ok_and(|l| {
        l.split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == etag)
    })
}

/// JSON `body` with its `ETag`, answered with `status`.
fn json(status: StatusCode, body: Vec<u8>, etag: HeaderValue) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}

fn etag_header(body: &[u8]) -> HeaderValue {
    HeaderValue::from_str(&etag_of(body)).expect("hex is a header value")
}

/// A read: `200` with the body and its `ETag`, or `304` when the client's copy is current.
pub fn read(headers: &HeaderMap, value: &impl Serialize) -> Response {
    let body = json_bytes(value);
    let tag = etag_header(&body);
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| tag.to_str().is_ok_and(|t| matches(v, t)))
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response();
    }
    json(StatusCode::OK, body, tag)
}

/// An update's precondition: with `If-Match`, the current representation (`current`, awaited
/// only then) must be the one the client read, or the answer is `412` and nothing changes.
pub async fn check_if_match<T: Serialize>(
    headers: &HeaderMap,
    current: impl std::future::Future<Output = service::Result<T>>,
) -> ApiResult<()> {
    let Some(expected) = headers.get(header::IF_MATCH) else {
        return Ok(());
    };
    if matches(expected, &etag_of(&json_bytes(&current.await?))) {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "This object was changed since you read it. Read it again and repeat the change.",
        ))
    }
}

/// `201 Created` with the new object's `Location` and its representation.
pub fn created(location: String, value: &impl Serialize) -> Response {
    let body = json_bytes(value);
    let tag = etag_header(&body);
    let mut res = json(StatusCode::CREATED, body, tag);
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// `202 Accepted`: taken, with nothing the caller may learn from the answer.
pub fn accepted() -> Response {
    StatusCode::ACCEPTED.into_response()
}

/// `204 No Content`: done, nothing to say.
pub fn done() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// `?page=` (1-based) and `?per_page=` (at most [`MAX_PER_PAGE`]).
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// The page, from 1.
    #[param(minimum = 1, default = 1)]
    pub page: Option<u64>,
    /// Items per page, 1 to 100.
    #[param(minimum = 1, maximum = 100, default = 30)]
    pub per_page: Option<u64>,
}

impl Paging {
    /// The page and its size, or a 400 that names the parameter.
    pub fn resolve(self) -> ApiResult<(u64, u64)> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        if page == 0 {
            return Err(Problem::invalid("page", "Pages are counted from 1."));
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(Problem::invalid(
                "per_page",
                format!("Choose between 1 and {MAX_PER_PAGE} items per page."),
            ));
        }
        Ok((page, per_page))
    }
}

/// One page of a list the service answers whole (a short list: members, organizations).
pub fn page_of<T: Clone>(all: &[T], page: u64, per_page: u64) -> domain::dto::Page<T> {
    let start = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let items = all
        .iter()
        .skip(start)
        .take(per_page as usize)
        .cloned()
        .collect();
    domain::dto::Page {
        items,
        total: all.len() as u64,
        page,
        per_page,
    }
}

/// A page as a JSON array, with `Link` (`first`, `prev`, `next`, `last`) and `X-Total-Count`.
pub fn paged<T: Serialize>(
    headers: &HeaderMap,
    path: &str,
    page: domain::dto::Page<T>,
) -> Response {
    let last = page.page_count().max(1);
    let link = |n: u64, rel: &str| {
        format!(
            "<{}?page={n}&per_page={}>; rel=\"{rel}\"",
            uri_path(path),
            page.per_page
        )
    };
    let mut links = vec![link(1, "first")];
    if page.page > 1 {
        links.push(link((page.page - 1).min(last), "prev"));
    }
    if page.page < last {
        links.push(link(page.page + 1, "next"));
    }
    links.push(link(last, "last"));
    let mut res = read(headers, &page.items);
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&links.join(", ")) {
        h.insert(header::LINK, v);
    }
    h.insert("x-total-count", HeaderValue::from(page.total));
    res
}

/// A request path as it may appear in a `Link` header: percent-encoded where it is not a plain
/// path character (axum hands over the path as sent, which is already encoded; this keeps `<`,
/// `>`, quotes and spaces out whatever came in).
fn uri_path(path: &str) -> String {
    path.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "/-._~%!$&'()*+,;=:@".contains(c) {
                c.to_string()
            } else {
                let mut buf = [0u8; 4];
                c.encode_utf8(&mut buf)
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_match_exactly_weakly_or_by_star() {
        let tag = etag_of(b"{}");
        for (header, expected) in [
            (tag.clone(), true),
            (format!("W/{tag}"), true),
            (format!("\"other\", {tag}"), true),
            ("*".to_owned(), true),
            ("\"other\"".to_owned(), false),
            (String::new(), false),
        ] {
            assert_eq!(
                matches(&HeaderValue::from_str(&header).unwrap(), &tag),
                expected,
                "{header}"
            );
        }
    }

    #[test]
    fn paging_is_bounded() {
        let p = |page, per_page| {
            Paging { page, per_page }
                .resolve()
                .map_err(|e| e.errors[0].field.clone())
        };
        assert_eq!(p(None, None), Ok((1, 30)));
        assert_eq!(p(Some(3), Some(100)), Ok((3, 100)));
        assert_eq!(p(Some(0), None), Err("page".to_owned()));
        assert_eq!(p(None, Some(101)), Err("per_page".to_owned()));
        assert_eq!(p(None, Some(0)), Err("per_page".to_owned()));
        let all: Vec<u32> = (1..=5).collect();
        assert_eq!(page_of(&all, 2, 2).items, vec![3, 4]);
        assert_eq!(page_of(&all, 9, 2).items, Vec::<u32>::new());
        assert_eq!(page_of(&all, 1, 2).total, 5);
    }

    #[test]
    fn link_paths_stay_inside_their_brackets() {
        assert_eq!(
            uri_path("/api/v1/orgs/Acme%20Co/changes"),
            "/api/v1/orgs/Acme%20Co/changes"
        );
        assert_eq!(uri_path("/a b/<x>\"y\""), "/a%20b/%3Cx%3E%22y%22");
    }
}
