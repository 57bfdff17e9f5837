//! HubSpot CRM v3 as it answers (shared/crm/README.md §1): list pages with
//! a `paging.next.after` cursor (absent on the last page), owners with
//! their teams, pipelines with string metadata, objects whose properties
//! are all strings (or null), with their property versions
//! (`propertiesWithHistory`) and associated ids (`associations`) when
//! asked; the error body and the 429 rules. Wire shapes only.

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
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
    #[serde(default)]
    pub paging: Option<Paging>,
}

#[derive(Debug, Deserialize)]
pub struct Paging {
    #[serde(default)]
    pub next: Option<Next>,
}

#[derive(Debug, Deserialize)]
pub struct Next {
    #[serde(default)]
    pub after: Field,
}

/// A CRM object (deal, call, meeting, email, task, contact).
#[derive(Debug, Deserialize)]
pub struct Object {
    pub id: Field,
    #[serde(default)]
    pub properties: HashMap<String, Field>,
    #[serde(default, rename = "createdAt")]
    pub created_at: Field,
    /// Each asked property's versions, newest first as HubSpot sends them
    /// (§1.11); `[]` for a property that never had a value.
    #[serde(default, rename = "propertiesWithHistory")]
    pub history: HashMap<String, Vec<Version>>,
    /// Associated records by object type (`deals`); no key when there are
    /// none (§1.12).
    #[serde(default)]
    pub associations: HashMap<String, Associated>,
}

/// One version of a property (`ValueWithTimestamp`).
#[derive(Debug, Deserialize)]
pub struct Version {
    #[serde(default)]
    pub value: Field,
    #[serde(default)]
    pub timestamp: Field,
}

/// The ids of one associated object type (`CollectionResponseAssociatedId`).
#[derive(Debug, Deserialize)]
pub struct Associated {
    #[serde(default)]
    pub results: Vec<AssociatedId>,
}

#[derive(Debug, Deserialize)]
pub struct AssociatedId {
    pub id: Field,
}

static NULL: Field = Field::Null;

impl Object {
    /// A property; absent reads as null.
    pub fn prop(&self, name: &str) -> &Field {
        self.properties.get(name).unwrap_or(&NULL)
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.prop(name).text()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    pub id: Field,
    #[serde(default)]
    pub email: Field,
    #[serde(default)]
    pub first_name: Field,
    #[serde(default)]
    pub last_name: Field,
    /// PERSON or QUEUE.
    #[serde(default, rename = "type")]
    pub kind: Field,
    /// Present when the user is on a team.
    #[serde(default)]
    pub teams: Vec<Team>,
}

#[derive(Debug, Deserialize)]
pub struct Team {
    #[serde(default)]
    pub name: Field,
    #[serde(default)]
    pub primary: Field,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pipeline {
    pub id: Field,
    #[serde(default)]
    pub display_order: Field,
    #[serde(default)]
    pub stages: Vec<PipelineStage>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelineStage {
    pub id: Field,
    #[serde(default)]
    pub label: Field,
    #[serde(default)]
    pub display_order: Field,
    /// Strings: `{"isClosed": "false", "probability": "0.2"}`.
    #[serde(default)]
    pub metadata: HashMap<String, Field>,
}

/// One listing endpoint, paged by `after`.
pub struct List<T> {
    pub object: &'static str,
    pub url: Url,
    pub record: PhantomData<fn() -> T>,
}

impl<T> List<T> {
    pub fn new(object: &'static str, url: Url) -> List<T> {
        List {
            object,
            url,
            record: PhantomData,
        }
    }
}

impl<T: DeserializeOwned + Send> Listing for List<T> {
    type Page = Page<T>;
    type Record = T;

    fn object(&self) -> &str {
        self.object
    }

    fn first(&self) -> Url {
        self.url.clone()
    }

    fn next(&self, page: &Page<T>, url: &Url) -> Option<Url> {
        let after = page.paging.as_ref()?.next.as_ref()?.after.text()?;
        Some(with_param(url, "after", &after))
    }

    fn records(&self, page: Page<T>) -> Result<Vec<T>, String> {
        Ok(page.results)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    correlation_id: Option<String>,
    #[serde(default)]
    policy_name: Option<String>,
}

fn error_body(body: &[u8]) -> Option<ErrorBody> {
    serde_json::from_slice(body).ok()
}

fn message(body: &[u8]) -> Option<String> {
    let e = error_body(body)?;
    let mut msg = e.message?;
    let extra: Vec<String> = [
        e.category.map(|c| format!("category {c}")),
        e.policy_name.map(|p| format!("policy {p}")),
        e.correlation_id.map(|c| format!("correlationId {c}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !extra.is_empty() {
        msg.push_str(&format!(" ({})", extra.join(", ")));
    }
    Some(msg)
}

/// A 429 under the DAILY policy cannot be waited out; under the rolling
/// ten-second policy, without Retry-After, the window length is the wait.
fn refusal(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Option<Refusal> {
    if status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let policy = error_body(body)
        .and_then(|e| e.policy_name)
        .unwrap_or_default();
    if policy.eq_ignore_ascii_case("DAILY") {
        return Some(Refusal::Stop(
            "the account's daily API limit is used up; it resets at midnight in the account's time zone: run again after that".into(),
        ));
    }
    Some(Refusal::Throttled(header_duration(
        headers,
        "x-hubspot-ratelimit-interval-milliseconds",
        Duration::from_millis(1),
    )))
}

/// The headers on a success say the window is used up: the next request
/// would be refused, so everything waits — a whole rolling window (the
/// safe wait, since its oldest request's age is not told), or a second.
fn pace(headers: &HeaderMap) -> Option<Duration> {
    let spent = |name: &str| header_number(headers, name).is_some_and(|left| left <= 0.0);
    if spent("x-hubspot-ratelimit-remaining") {
        let window = header_duration(
            headers,
            "x-hubspot-ratelimit-interval-milliseconds",
            Duration::from_millis(1),
        );
        return Some(window.unwrap_or(Duration::from_secs(10)));
    }
    spent("x-hubspot-ratelimit-secondly-remaining").then_some(Duration::from_secs(1))
}

pub static VENDOR: Vendor = Vendor {
    name: "hubspot",
    token_help: "a private app access token with the scopes crm.objects.owners.read, crm.objects.deals.read and crm.objects.contacts.read (docs/connectors.md)",
    message,
    refusal,
    pace,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_used_up_window_pauses_everything() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("x-hubspot-ratelimit-interval-milliseconds", "10000"),
            ("x-hubspot-ratelimit-max", "100"),
            ("x-hubspot-ratelimit-remaining", "97"),
            ("x-hubspot-ratelimit-secondly", "10"),
            ("x-hubspot-ratelimit-secondly-remaining", "9"),
        ] {
            h.insert(k, v.parse().unwrap());
        }
        assert_eq!(pace(&h), None);
        h.insert(
            "x-hubspot-ratelimit-secondly-remaining",
            "0".parse().unwrap(),
        );
        assert_eq!(pace(&h), Some(Duration::from_secs(1)));
        h.insert("x-hubspot-ratelimit-remaining", "0".parse().unwrap());
        assert_eq!(pace(&h), Some(Duration::from_secs(10)));
        assert_eq!(pace(&HeaderMap::new()), None);
    }

    #[test]
    fn error_message_names_category_and_correlation_id() {
        let body = br#"{"status":"error","message":"Authentication credentials not found.","correlationId":"aeb5f871-7f07-4993-9211-075dc63e7cbf","category":"INVALID_AUTHENTICATION"}"#;
        assert_eq!(
            message(body).unwrap(),
            "Authentication credentials not found. (category INVALID_AUTHENTICATION, correlationId aeb5f871-7f07-4993-9211-075dc63e7cbf)"
        );
        assert_eq!(message(b"<html>"), None);
    }

    #[test]
    fn daily_limit_stops_and_rolling_limit_waits_the_window() {
        let daily = br#"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","policyName":"DAILY"}"#;
        assert!(matches!(
            refusal(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), daily),
            Some(Refusal::Stop(_))
        ));
        let rolling = br#"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","policyName":"TEN_SECONDLY_ROLLING"}"#;
        let mut h = HeaderMap::new();
        h.insert(
            "x-hubspot-ratelimit-interval-milliseconds",
            "10000".parse().unwrap(),
        );
        assert_eq!(
            refusal(StatusCode::TOO_MANY_REQUESTS, &h, rolling),
            Some(Refusal::Throttled(Some(Duration::from_secs(10))))
        );
        assert_eq!(
            refusal(StatusCode::INTERNAL_SERVER_ERROR, &h, rolling),
            None
        );
    }

    #[test]
    fn the_last_page_has_no_paging() {
        let p: Page<Object> = serde_json::from_str(r#"{"results":[{"id":"1","properties":{"amount":null},"createdAt":"2026-05-02T09:15:22.123Z","updatedAt":"2026-05-02T09:15:22.123Z","archived":false}]}"#).unwrap();
        let l: List<Object> = List::new("deals", Url::parse("http://x/d?limit=100").unwrap());
        assert!(l.next(&p, &l.url).is_none());
        assert_eq!(p.results[0].prop("amount"), &Field::Null);
        assert_eq!(p.results[0].prop("dealname"), &Field::Null);
    }
}
