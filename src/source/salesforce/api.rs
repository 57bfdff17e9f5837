//! The Salesforce REST query resource as it answers (shared/crm/README.md
//! §2): batches of up to 2,000 records with a relative `nextRecordsUrl`
//! until `done` is true, records keyed by field API name (plus an
//! `attributes` object, and relationship fields as nested records),
//! errors as a JSON array. Wire shapes only.

use crate::source::http::{Refusal, Vendor};
use crate::source::paging::Listing;
use crate::source::wire::Field;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use url::Url;

/// A record: field API name → value. A relationship field (`SELECT
/// UserRole.Name FROM User` answers `"UserRole": {"attributes": …,
/// "Name": "EMEA Sales"}`) is kept under its path, `UserRole.Name`; a null
/// relationship is `UserRole` = null. `attributes` are left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record(pub HashMap<String, Field>);

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut fields = HashMap::new();
        d.deserialize_map(Fields {
            prefix: None,
            out: &mut fields,
        })?;
        Ok(Record(fields))
    }
}

/// The fields of a record, or of a nested one under `prefix`.
struct Fields<'a> {
    prefix: Option<&'a str>,
    out: &'a mut HashMap<String, Field>,
}

impl<'de> Visitor<'de> for Fields<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        while let Some(key) = a.next_key::<String>()? {
            if key == "attributes" {
                a.next_value::<IgnoredAny>()?;
                continue;
            }
            let name = match self.prefix {
                Some(p) => format!("{p}.{key}"),
                None => key,
            };
            a.next_value_seed(Value {
                name,
                out: &mut *self.out,
            })?;
        }
        Ok(())
    }
}

/// One field's value: a scalar is kept, a nested record flattened.
struct Value<'a> {
    name: String,
    out: &'a mut HashMap<String, Field>,
}

impl<'de> DeserializeSeed<'de> for Value<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Value<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.out.insert(self.name, Field::Null);
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        self.out.insert(self.name, Field::Null);
        Ok(())
    }
    fn visit_bool<E>(self, b: bool) -> Result<(), E> {
        self.out.insert(self.name, Field::Bool(b));
        Ok(())
    }
    fn visit_i64<E>(self, n: i64) -> Result<(), E> {
        self.out.insert(self.name, Field::Num(n as f64));
        Ok(())
    }
    fn visit_u64<E>(self, n: u64) -> Result<(), E> {
        self.out.insert(self.name, Field::Num(n as f64));
        Ok(())
    }
    fn visit_f64<E>(self, n: f64) -> Result<(), E> {
        self.out.insert(self.name, Field::Num(n));
        Ok(())
    }
    fn visit_str<E>(self, s: &str) -> Result<(), E> {
        self.out.insert(self.name, Field::Str(s.to_owned()));
        Ok(())
    }
    fn visit_string<E>(self, s: String) -> Result<(), E> {
        self.out.insert(self.name, Field::Str(s));
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        self.out.insert(self.name, Field::Other);
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<(), A::Error> {
        Fields {
            prefix: Some(&self.name),
            out: self.out,
        }
        .visit_map(a)
    }
}

static NULL: Field = Field::Null;

/// A field of a record (a relationship path such as `UserRole.Name` too);
/// names are matched exactly, then ignoring case (a configured field may
/// be written in another case than the API's).
pub fn get<'a>(r: &'a Record, name: &str) -> &'a Field {
    r.0.get(name)
        .or_else(|| {
            r.0.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .unwrap_or(&NULL)
}

pub fn text(r: &Record, name: &str) -> Option<String> {
    get(r, name).text()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryPage {
    #[serde(default)]
    pub total_size: Option<u64>,
    #[serde(default)]
    pub done: Option<bool>,
    #[serde(default)]
    pub next_records_url: Option<String>,
    #[serde(default)]
    pub records: Vec<Record>,
}

/// One SOQL query, followed to its last batch.
pub struct Query {
    pub object: &'static str,
    pub first: Url,
    pub instance: Url,
}

impl Listing for Query {
    type Page = QueryPage;
    type Record = Record;

    fn object(&self) -> &str {
        self.object
    }

    fn first(&self) -> Url {
        self.first.clone()
    }

    fn next(&self, page: &QueryPage, _url: &Url) -> Option<Url> {
        if page.done != Some(false) {
            return None;
        }
        let next = page.next_records_url.as_deref()?;
        // Relative to the instance, keeping any path prefix it has.
        let base = self.instance.as_str().trim_end_matches('/');
        Url::parse(next)
            .or_else(|_| Url::parse(&format!("{base}/{}", next.trim_start_matches('/'))))
            .ok()
    }

    fn records(&self, page: QueryPage) -> Result<Vec<Record>, String> {
        if page.done == Some(false) && page.next_records_url.is_none() {
            return Err("done is false but there is no nextRecordsUrl to read the rest".into());
        }
        Ok(page.records)
    }

    fn total(&self, page: &QueryPage) -> Option<u64> {
        page.total_size
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
}

fn errors(body: &[u8]) -> Vec<ApiError> {
    serde_json::from_slice::<Vec<ApiError>>(body)
        .or_else(|_| serde_json::from_slice::<ApiError>(body).map(|e| vec![e]))
        .unwrap_or_default()
}

fn message(body: &[u8]) -> Option<String> {
    let list: Vec<String> = errors(body)
        .into_iter()
        .filter_map(|e| match (e.message, e.error_code) {
            (Some(m), Some(c)) => Some(format!("{m} ({c})")),
            (Some(m), None) => Some(m),
            (None, Some(c)) => Some(c),
            (None, None) => None,
        })
        .collect();
    (!list.is_empty()).then(|| list.join("; "))
}

/// REQUEST_LIMIT_EXCEEDED is a 403 that is not about the token: the org's
/// rolling 24-hour allowance is used up (stop), or too many long requests
/// run at once (wait and try again).
fn refusal(status: StatusCode, _headers: &HeaderMap, body: &[u8]) -> Option<Refusal> {
    let e = errors(body)
        .into_iter()
        .find(|e| e.error_code.as_deref() == Some("REQUEST_LIMIT_EXCEEDED"))?;
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    if e.message
        .as_deref()
        .unwrap_or_default()
        .contains("Concurrent")
    {
        return Some(Refusal::Throttled(None));
    }
    Some(Refusal::Stop(
        "the org's API request allowance (rolling 24 hours) is used up: see Setup → Company Information → API Requests, and run again later".into(),
    ))
}

pub static VENDOR: Vendor = Vendor {
    name: "salesforce",
    token_help: "a current OAuth access token (they expire) of a user with \"API Enabled\" and read access to User, Opportunity, OpportunityStage, Task, Event and Lead (docs/connectors.md)",
    message,
    refusal,
    pace: |_| None,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relationship_fields_are_kept_under_their_path() {
        let r: Record = serde_json::from_str(
            r#"{"attributes": {"type": "User", "url": "/services/data/v62.0/sobjects/User/005"},
                "Id": "005", "IsActive": true, "CallDurationInSeconds": 420,
                "UserRole": {"attributes": {"type": "UserRole", "url": "/services/data/v62.0/sobjects/UserRole/00E"},
                             "Name": "EMEA Sales", "Parent": {"Name": "Sales"}}}"#,
        )
        .unwrap();
        assert_eq!(get(&r, "userrole.name"), &Field::Str("EMEA Sales".into()));
        assert_eq!(get(&r, "UserRole.Parent.Name"), &Field::Str("Sales".into()));
        assert_eq!(get(&r, "IsActive"), &Field::Bool(true));
        assert_eq!(get(&r, "CallDurationInSeconds"), &Field::Num(420.0));
        assert!(!r.0.contains_key("attributes"));
        let none: Record =
            serde_json::from_str(r#"{"Id": "006", "UserRole": null, "Tags": [1, 2]}"#).unwrap();
        assert_eq!(get(&none, "UserRole.Name"), &Field::Null);
        assert_eq!(get(&none, "UserRole"), &Field::Null);
        assert_eq!(get(&none, "Tags"), &Field::Other);
    }

    #[test]
    fn errors_are_an_array() {
        let body =
            br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
        assert_eq!(
            message(body).unwrap(),
            "Session expired or invalid (INVALID_SESSION_ID)"
        );
        assert_eq!(message(b"not json"), None);
    }

    #[test]
    fn the_daily_allowance_stops_and_concurrency_waits() {
        let daily = br#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#;
        assert!(matches!(
            refusal(StatusCode::FORBIDDEN, &HeaderMap::new(), daily),
            Some(Refusal::Stop(_))
        ));
        let busy = br#"[{"message":"ConcurrentPerOrgLongTxn Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#;
        assert_eq!(
            refusal(StatusCode::FORBIDDEN, &HeaderMap::new(), busy),
            Some(Refusal::Throttled(None))
        );
        let other = br#"[{"message":"Insufficient access","errorCode":"INSUFFICIENT_ACCESS"}]"#;
        assert_eq!(
            refusal(StatusCode::FORBIDDEN, &HeaderMap::new(), other),
            None
        );
    }

    #[test]
    fn next_records_url_is_relative_to_the_instance() {
        let q = Query {
            object: "Opportunity",
            first: Url::parse("https://acme.my.salesforce.com/services/data/v62.0/query?q=x")
                .unwrap(),
            instance: Url::parse("https://acme.my.salesforce.com").unwrap(),
        };
        let page: QueryPage = serde_json::from_str(
            r#"{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gXX0000012345AAA-2","records":[]}"#,
        )
        .unwrap();
        assert_eq!(
            q.next(&page, &q.first).unwrap().as_str(),
            "https://acme.my.salesforce.com/services/data/v62.0/query/01gXX0000012345AAA-2"
        );
        let last: QueryPage =
            serde_json::from_str(r#"{"totalSize":3,"done":true,"records":[]}"#).unwrap();
        assert!(q.next(&last, &q.first).is_none());
        let broken: QueryPage = serde_json::from_str(r#"{"done":false,"records":[]}"#).unwrap();
        assert!(q.records(broken).is_err());
    }
}
