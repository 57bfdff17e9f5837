//! Pipedrive as it answers (shared/crm/README.md §3): the `{success, data,
//! additional_data}` envelope, v2 lists paged by `next_cursor` (null at the
//! end), v1 lists paged by `start` (`more_items_in_collection`, under
//! `additional_data.pagination` or directly under `additional_data`), ids
//! as integers, times in UTC; a deal's changelog (v1, old → new value
//! pairs, paged by `next_cursor`); the error envelope and the rate-limit
//! headers. Wire shapes only.

use crate::source::http::{header_duration, header_number, Refusal, Vendor};
use crate::source::paging::{with_param, Listing};
use crate::source::wire::Field;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::time::Duration;
use url::Url;

#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(default)]
    pub error: Option<String>,
    /// v1 may send `null` instead of `[]` when there are no rows.
    #[serde(default = "none")]
    pub data: Option<Vec<T>>,
    #[serde(default)]
    pub additional_data: Option<Additional>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Debug, Default, Deserialize)]
pub struct Additional {
    #[serde(default)]
    pub next_cursor: Field,
    #[serde(default)]
    pub pagination: Option<Pagination>,
    /// Some v1 lists put the paging keys here, without `pagination`: the
    /// official client's `GetLeadsResponse` has `additional_data {start,
    /// limit, more_items_in_collection}` (pipedrive/client-nodejs,
    /// `get-fields-response-all-of-additional-data.ts`).
    #[serde(default)]
    pub more_items_in_collection: Field,
    #[serde(default)]
    pub next_start: Field,
}

impl Additional {
    /// Whether the page says more items follow, and where they start.
    fn more(&self) -> (Option<bool>, Option<u64>) {
        let p = self.pagination.as_ref();
        let more = p
            .and_then(|p| p.more_items_in_collection.flag())
            .or_else(|| self.more_items_in_collection.flag());
        let start = |f: &Field| f.text().and_then(|n| n.parse().ok());
        let next = p
            .and_then(|p| start(&p.next_start))
            .or_else(|| start(&self.next_start));
        (more, next)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Pagination {
    #[serde(default)]
    pub more_items_in_collection: Field,
    #[serde(default)]
    pub next_start: Field,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Paging {
    /// API v2: `cursor`.
    Cursor,
    /// API v1: `start` and `limit` (the URL must carry `limit`).
    Offset,
    /// Not paged: one answer holds the whole list (v1 users).
    Whole,
}

pub struct List<T> {
    pub object: &'static str,
    pub url: Url,
    pub paging: Paging,
    pub record: PhantomData<fn() -> T>,
}

impl<T> List<T> {
    pub fn new(object: &'static str, url: Url, paging: Paging) -> List<T> {
        List {
            object,
            url,
            paging,
            record: PhantomData,
        }
    }
}

fn param(url: &Url, key: &str) -> Option<u64> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
}

impl<T: DeserializeOwned + Send> Listing for List<T> {
    type Page = Envelope<T>;
    type Record = T;

    fn object(&self) -> &str {
        self.object
    }

    fn first(&self) -> Url {
        self.url.clone()
    }

    fn next(&self, page: &Envelope<T>, url: &Url) -> Option<Url> {
        match self.paging {
            Paging::Cursor => {
                let cursor = page.additional_data.as_ref()?.next_cursor.text()?;
                Some(with_param(url, "cursor", &cursor))
            }
            Paging::Offset => {
                let rows = page.data.as_ref().map_or(0, Vec::len) as u64;
                let (more, next) = page
                    .additional_data
                    .as_ref()
                    .map_or((None, None), Additional::more);
                // A page silent about more items is the last one only when
                // it is shorter than asked: a full one may have a next.
                let more = more.unwrap_or_else(|| param(url, "limit").is_some_and(|l| rows >= l));
                if !more {
                    return None;
                }
                let next = next.unwrap_or(param(url, "start").unwrap_or(0) + rows);
                Some(with_param(url, "start", &next.to_string()))
            }
            Paging::Whole => None,
        }
    }

    fn records(&self, page: Envelope<T>) -> Result<Vec<T>, String> {
        if page.success == Some(false) {
            return Err(page.error.unwrap_or_else(|| "success: false".into()));
        }
        Ok(page.data.unwrap_or_default())
    }
}

#[derive(Debug, Deserialize)]
pub struct User {
    pub id: Field,
    #[serde(default)]
    pub name: Field,
    #[serde(default)]
    pub email: Field,
    #[serde(default)]
    pub active_flag: Field,
}

#[derive(Debug, Deserialize)]
pub struct Stage {
    pub id: Field,
    #[serde(default)]
    pub name: Field,
    #[serde(default)]
    pub pipeline_id: Field,
    #[serde(default)]
    pub order_nr: Field,
    /// Percent, 0–100.
    #[serde(default)]
    pub deal_probability: Field,
}

#[derive(Debug, Deserialize)]
pub struct Deal {
    pub id: Field,
    #[serde(default)]
    pub title: Field,
    #[serde(default, alias = "user_id")]
    pub owner_id: Field,
    #[serde(default)]
    pub value: Field,
    #[serde(default)]
    pub currency: Field,
    /// open, won, lost or deleted.
    #[serde(default)]
    pub status: Field,
    #[serde(default)]
    pub is_deleted: Field,
    #[serde(default)]
    pub stage_id: Field,
    #[serde(default)]
    pub pipeline_id: Field,
    #[serde(default)]
    pub add_time: Field,
    #[serde(default)]
    pub won_time: Field,
    #[serde(default)]
    pub lost_time: Field,
    #[serde(default)]
    pub close_time: Field,
    #[serde(default)]
    pub expected_close_date: Field,
    #[serde(default)]
    pub custom_fields: HashMap<String, Field>,
}

#[derive(Debug, Deserialize)]
pub struct Activity {
    pub id: Field,
    /// The activity type's key string (call, meeting, email, task, …).
    #[serde(default, rename = "type")]
    pub kind: Field,
    #[serde(default, alias = "user_id")]
    pub owner_id: Field,
    #[serde(default)]
    pub due_date: Field,
    #[serde(default)]
    pub due_time: Field,
    /// "HH:MM".
    #[serde(default)]
    pub duration: Field,
    #[serde(default)]
    pub done: Field,
    #[serde(default)]
    pub marked_as_done_time: Field,
    #[serde(default)]
    pub add_time: Field,
    #[serde(default)]
    pub lead_id: Field,
    /// An integer, or null when the activity is on no deal.
    #[serde(default)]
    pub deal_id: Field,
}

/// One row of `GET /api/v1/deals/{id}/changelog` (§3.9): a field's value
/// changed from `old_value` to `new_value` at `time` (UTC, "YYYY-MM-DD
/// HH:MM:SS").
#[derive(Debug, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub field_key: Field,
    #[serde(default)]
    pub old_value: Field,
    #[serde(default)]
    pub new_value: Field,
    #[serde(default)]
    pub time: Field,
}

#[derive(Debug, Deserialize)]
pub struct Lead {
    pub id: Field,
    #[serde(default)]
    pub owner_id: Field,
    #[serde(default)]
    pub add_time: Field,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_info: Option<String>,
}

fn message(body: &[u8]) -> Option<String> {
    let e: ErrorBody = serde_json::from_slice(body).ok()?;
    match (e.error, e.error_info) {
        (Some(m), Some(i)) if !i.is_empty() => Some(format!("{m} ({i})")),
        (Some(m), _) => Some(m),
        (None, i) => i,
    }
}

/// A 429 without Retry-After: wait until the 2-second window resets.
fn refusal(status: StatusCode, headers: &HeaderMap, _body: &[u8]) -> Option<Refusal> {
    (status == StatusCode::TOO_MANY_REQUESTS).then(|| {
        Refusal::Throttled(header_duration(
            headers,
            "x-ratelimit-reset",
            Duration::from_secs(1),
        ))
    })
}

/// The window is used up: pause every request until it resets.
fn pace(headers: &HeaderMap) -> Option<Duration> {
    if header_number(headers, "x-ratelimit-remaining")? > 0.0 {
        return None;
    }
    header_duration(headers, "x-ratelimit-reset", Duration::from_secs(1))
}

pub static VENDOR: Vendor = Vendor {
    name: "pipedrive",
    token_help: "the personal API token of a user who can see every deal, activity and lead (docs/connectors.md)",
    message,
    refusal,
    pace,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn list(paging: Paging, url: &str) -> List<Deal> {
        List::new("deals", Url::parse(url).unwrap(), paging)
    }

    #[test]
    fn v2_pages_by_cursor_until_it_is_null() {
        let l = list(
            Paging::Cursor,
            "https://acme.pipedrive.com/api/v2/deals?limit=500",
        );
        let p: Envelope<Deal> = serde_json::from_str(
            r#"{"success":true,"data":[{"id":4211}],"additional_data":{"next_cursor":"eyJmaWVsZCI6ImlkIn0"}}"#,
        )
        .unwrap();
        assert_eq!(
            l.next(&p, &l.url).unwrap().query(),
            Some("limit=500&cursor=eyJmaWVsZCI6ImlkIn0")
        );
        let end: Envelope<Deal> = serde_json::from_str(
            r#"{"success":true,"data":[],"additional_data":{"next_cursor":null}}"#,
        )
        .unwrap();
        assert!(l.next(&end, &l.url).is_none());
    }

    #[test]
    fn v1_pages_by_start_and_data_may_be_null() {
        let l = list(
            Paging::Offset,
            "https://acme.pipedrive.com/api/v1/leads?limit=2&start=0",
        );
        let p: Envelope<Deal> = serde_json::from_str(
            r#"{"success":true,"data":[{"id":1},{"id":2}],"additional_data":{"pagination":{"start":0,"limit":2,"more_items_in_collection":true}}}"#,
        )
        .unwrap();
        assert_eq!(l.next(&p, &l.url).unwrap().query(), Some("limit=2&start=2"));
        let end: Envelope<Deal> = serde_json::from_str(
            r#"{"success":true,"data":null,"additional_data":{"pagination":{"start":2,"limit":2,"more_items_in_collection":false}}}"#,
        )
        .unwrap();
        assert!(l.next(&end, &l.url).is_none());
        assert!(l.records(end).unwrap().is_empty());
    }

    #[test]
    fn v1_paging_keys_may_sit_directly_under_additional_data() {
        let l = list(
            Paging::Offset,
            "https://acme.pipedrive.com/api/v1/leads?limit=2&start=4",
        );
        let p: Envelope<Deal> = serde_json::from_str(
            r#"{"success":true,"data":[{"id":5},{"id":6}],"additional_data":{"start":4,"limit":2,"more_items_in_collection":true}}"#,
        )
        .unwrap();
        assert_eq!(l.next(&p, &l.url).unwrap().query(), Some("limit=2&start=6"));
        let jump: Envelope<Deal> = serde_json::from_str(
            r#"{"success":true,"data":[{"id":5}],"additional_data":{"more_items_in_collection":true,"next_start":9}}"#,
        )
        .unwrap();
        assert_eq!(
            l.next(&jump, &l.url).unwrap().query(),
            Some("limit=2&start=9")
        );
        let end: Envelope<Deal> = serde_json::from_str(
            r#"{"success":true,"data":[{"id":5},{"id":6}],"additional_data":{"start":4,"limit":2,"more_items_in_collection":false}}"#,
        )
        .unwrap();
        assert!(l.next(&end, &l.url).is_none());
    }

    #[test]
    fn a_v1_page_silent_about_more_ends_the_list_only_when_short() {
        let l = list(
            Paging::Offset,
            "https://acme.pipedrive.com/api/v1/leads?limit=2&start=0",
        );
        for silent in [
            r#"{"success":true,"data":[{"id":1},{"id":2}]}"#,
            r#"{"success":true,"data":[{"id":1},{"id":2}],"additional_data":{}}"#,
            r#"{"success":true,"data":[{"id":1},{"id":2}],"additional_data":{"pagination":{"start":0,"limit":2}}}"#,
        ] {
            let full: Envelope<Deal> = serde_json::from_str(silent).unwrap();
            assert_eq!(
                l.next(&full, &l.url).unwrap().query(),
                Some("limit=2&start=2"),
                "{silent}"
            );
        }
        let short: Envelope<Deal> =
            serde_json::from_str(r#"{"success":true,"data":[{"id":1}],"additional_data":{}}"#)
                .unwrap();
        assert!(l.next(&short, &l.url).is_none());
        let whole = list(Paging::Whole, "https://acme.pipedrive.com/api/v1/users");
        let users: Envelope<Deal> =
            serde_json::from_str(r#"{"success":true,"data":[{"id":1},{"id":2}]}"#).unwrap();
        assert!(whole.next(&users, &whole.url).is_none());
    }

    #[test]
    fn a_changelog_pages_by_next_cursor() {
        let l: List<Change> = List::new(
            "deal changes",
            Url::parse("https://acme.pipedrive.com/api/v1/deals/4211/changelog?limit=500").unwrap(),
            Paging::Cursor,
        );
        let p: Envelope<Change> = serde_json::from_str(
            r#"{"success":true,"data":[{"field_key":"stage_id","old_value":"1","new_value":"2","actor_user_id":13,
                "time":"2026-06-01 10:00:00","change_source":"app","change_source_user_agent":null,"is_bulk_update_flag":false}],
                "additional_data":{"next_cursor":"MTA"}}"#,
        )
        .unwrap();
        assert_eq!(
            l.next(&p, &l.url).unwrap().query(),
            Some("limit=500&cursor=MTA")
        );
        let rows = l.records(p).unwrap();
        assert_eq!(rows[0].new_value.text().as_deref(), Some("2"));
        let end: Envelope<Change> = serde_json::from_str(
            r#"{"success":true,"data":[],"additional_data":{"next_cursor":null}}"#,
        )
        .unwrap();
        assert!(l.next(&end, &l.url).is_none());
    }

    #[test]
    fn success_false_is_an_error_even_with_200() {
        let l = list(Paging::Cursor, "https://acme.pipedrive.com/api/v2/deals");
        let p: Envelope<Deal> =
            serde_json::from_str(r#"{"success":false,"error":"unauthorized access","data":null}"#)
                .unwrap();
        assert_eq!(l.records(p).unwrap_err(), "unauthorized access");
    }

    #[test]
    fn rate_limit_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        h.insert("x-ratelimit-reset", "2".parse().unwrap());
        assert_eq!(pace(&h), Some(Duration::from_secs(2)));
        assert_eq!(
            refusal(StatusCode::TOO_MANY_REQUESTS, &h, b""),
            Some(Refusal::Throttled(Some(Duration::from_secs(2))))
        );
        h.insert("x-ratelimit-remaining", "17".parse().unwrap());
        assert_eq!(pace(&h), None);
        assert_eq!(
            message(br#"{"success":false,"error":"unauthorized access","error_info":"Please check developers.pipedrive.com for more information about Pipedrive API.","data":null}"#).unwrap(),
            "unauthorized access (Please check developers.pipedrive.com for more information about Pipedrive API.)"
        );
    }
}
