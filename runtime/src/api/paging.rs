//! Pages of a listing: how many items a client may ask for, and the opaque cursor that
//! resumes after the last one. Every listing resource reads them the same way.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::{Error, Result};
use domain::{ImageId, SearchCursor};

pub const DEFAULT_PAGE: usize = 20;
pub const MAX_PAGE: usize = 100;

/// A page size from the query: 1 to 100, default 20.
pub fn page_limit(requested: Option<usize>) -> Result<usize> {
    match requested {
        None => Ok(DEFAULT_PAGE),
        Some(limit) if (1..=MAX_PAGE).contains(&limit) => Ok(limit),
        Some(_) => Err(Error::invalid("invalid_limit", format!("limit must be between 1 and {MAX_PAGE}"))),
    }
}

/// Cursors are opaque to clients: the last image id of the page, encoded.
pub fn encode_cursor(id: ImageId) -> String {
    URL_SAFE_NO_PAD.encode(id.to_string())
}

fn invalid_cursor() -> Error {
    Error::invalid("invalid_cursor", "cursor must be a next_cursor returned by this API")
}

fn decoded(cursor: &str) -> Result<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid_cursor())?;
    String::from_utf8(bytes).map_err(|_| invalid_cursor())
}

pub fn decode_cursor(cursor: Option<&str>) -> Result<Option<ImageId>> {
    cursor.map(|cursor| ImageId::parse(&decoded(cursor)?).map_err(|_| invalid_cursor())).transpose()
}

/// A search's cursor: the last image id of the page and, where the photo has one, the time
/// a search in time order resumes at (`<id>~<taken key>`), encoded.
pub fn encode_search_cursor(cursor: &SearchCursor) -> String {
    match &cursor.taken_key {
        Some(taken_key) => URL_SAFE_NO_PAD.encode(format!("{}~{taken_key}", cursor.id)),
        None => encode_cursor(cursor.id),
    }
}

pub fn decode_search_cursor(cursor: Option<&str>) -> Result<Option<SearchCursor>> {
    cursor
        .map(|cursor| {
            let text = decoded(cursor)?;
            let (id, taken_key) = match text.split_once('~') {
                Some((id, taken_key)) if domain::taken::key_date(taken_key).is_some() => (id, Some(taken_key.to_owned())),
                Some(_) => return Err(invalid_cursor()),
                None => (text.as_str(), None),
            };
            Ok(SearchCursor { id: ImageId::parse(id).map_err(|_| invalid_cursor())?, taken_key })
        })
        .transpose()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "super::extract::limit_value")]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// A cursor is the client's text: refused or read, never a panic; ours round-trip.
        #[test]
        fn any_cursor_is_read_or_refused_cleanly(cursor in ".{0,120}") {
            let _ = decode_cursor(Some(&cursor));
            let _ = decode_search_cursor(Some(&cursor));
            let _ = decode_search_cursor(Some(&URL_SAFE_NO_PAD.encode(&cursor)));
        }
    }

    #[test]
    fn cursors_round_trip() {
        let id = ImageId::new();
        assert_eq!(decode_cursor(Some(&encode_cursor(id))).unwrap(), Some(id));
        for taken_key in [None, Some("2024-06-01T18:30:00".to_owned())] {
            let cursor = SearchCursor { id, taken_key };
            assert_eq!(decode_search_cursor(Some(&encode_search_cursor(&cursor))).unwrap(), Some(cursor));
        }
        let forged = URL_SAFE_NO_PAD.encode(format!("{id}~not a time"));
        assert!(decode_search_cursor(Some(&forged)).is_err());
    }
}
