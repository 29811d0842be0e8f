//! The web gallery: the files of `runtime/gallery/`, embedded at build time (memory-serve:
//! compressed, with ETags), served by the same router as the API, so that one artifact serves
//! everything. Every response carries a Content-Security-Policy: scripts and styles only from
//! here (no inline script), images and uploads only from here and the photo bucket.

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS};
use axum::response::Response;

use crate::error::{Error, Result};
use domain::PhotoStore;

/// The gallery's files; `/` is its page.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    memory_serve::load!().index_file(Some("/index.html")).into_router()
}

/// The policy, given where presigned photo URLs point (`scheme://host[:port]`).
pub fn content_security_policy(photo_origin: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: {photo_origin}; \
         connect-src 'self' {photo_origin}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// Where the bucket's presigned URLs point: read off one, so that it is right for AWS's
/// virtual-hosted names and for any endpoint alike.
pub async fn photo_origin(photos: &dyn PhotoStore) -> Result<String> {
    let url = photos.presign_get("origin-probe", std::time::Duration::from_secs(60)).await?;
    let (scheme, rest) = url.split_once("://").ok_or_else(|| Error::Internal(format!("a presigned URL without a scheme: {url}")))?;
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    Ok(format!("{scheme}://{host}"))
}

/// Adds the security headers to every response, the API's and the gallery's.
pub fn secure(policy: HeaderValue) -> impl Fn(Response) -> std::future::Ready<Response> + Clone {
    move |mut response: Response| {
        let headers = response.headers_mut();
        headers.insert(CONTENT_SECURITY_POLICY, policy.clone());
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        // Presigned URLs are credentials: never sent on as a referrer.
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        // HTTPS only from the first visit on (API Gateway serves only HTTPS; browsers ignore the
        // header over plain HTTP, as `smart-album serve` answers on 127.0.0.1).
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
        // API answers carry tokens and presigned URLs: no cache keeps them. The gallery's files
        // keep the caching memory-serve gives them (they hold no secret).
        if !headers.contains_key(CACHE_CONTROL) {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        std::future::ready(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_no_inline_script_and_only_the_bucket_besides_here() {
        let policy = content_security_policy("https://b.s3.eu-west-1.amazonaws.com");
        assert!(policy.contains("script-src 'self';"));
        assert!(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"));
        assert!(policy.contains("img-src 'self' data: https://b.s3.eu-west-1.amazonaws.com;"));
    }
}
