//! `[source]`: where the CRM snapshot comes from.

use super::mapping::{HubspotMapping, PipedriveMapping, SalesforceMapping};
use serde::{Deserialize, Deserializer};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceKind {
    /// Built-in, deterministic demo CRM (no network).
    #[default]
    Demo,
    /// A canonical snapshot JSON file, or an http(s) URL serving one.
    File,
    Hubspot,
    Salesforce,
    Pipedrive,
}

super::named_setting!(SourceKind {
    "demo" => SourceKind::Demo,
    "file" => SourceKind::File,
    "hubspot" => SourceKind::Hubspot,
    "salesforce" => SourceKind::Salesforce,
    "pipedrive" => SourceKind::Pipedrive,
});

impl SourceKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            SourceKind::Demo => "demo",
            SourceKind::File => "file",
            SourceKind::Hubspot => "hubspot",
            SourceKind::Salesforce => "salesforce",
            SourceKind::Pipedrive => "pipedrive",
        }
    }
}

/// A secret taken from the environment. It never prints: `Debug` and
/// `Display` show `[redacted]`, so it cannot leak into logs or errors.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret; from now on `redact` hides it wherever it would be printed.
    pub fn new(s: impl Into<String>) -> Secret {
        let s = s.into();
        crate::redact::register(&s);
        Secret(s)
    }
    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// demo | file | hubspot | salesforce | pipedrive. Default "demo".
    #[serde(default)]
    pub kind: SourceKind,
    /// `file`: a path (relative to the config file) or an http(s) URL serving
    /// canonical snapshot JSON. Required for `file`.
    #[serde(default)]
    pub path: Option<String>,
    /// Skip records that break the snapshot rules (each is listed in the
    /// report's data-quality notes) instead of stopping. Default false.
    #[serde(default)]
    pub skip_bad_records: bool,
    /// Accept a pull that has no deals at all even though the last
    /// successful run had some. Default false: such a pull (an empty
    /// export, a CRM answering empty lists) stops the run before anything
    /// is stored or sent.
    #[serde(default)]
    pub allow_empty: bool,
    /// `file` over http(s): the largest snapshot salesops downloads, in
    /// bytes (1 to 2^50). The download is spooled to a temporary file and
    /// read like a local one. Default 4294967296 (4 GiB).
    #[serde(
        deserialize_with = "super::whole::u64",
        default = "default_max_snapshot_bytes"
    )]
    pub max_snapshot_bytes: u64,
    /// `file` over http(s): how long the whole download may take, in
    /// seconds (1 to 604800); each read also waits at most
    /// `timeout_seconds`. Default 3600.
    #[serde(
        deserialize_with = "super::whole::u64",
        default = "default_download_timeout"
    )]
    pub download_timeout_seconds: u64,
    /// API base URL (HubSpot: https://api.hubapi.com; Pipedrive: your company
    /// domain, e.g. https://acme.pipedrive.com). Overridable for tests and proxies.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Salesforce: the org's instance URL, e.g. https://acme.my.salesforce.com.
    #[serde(default)]
    pub instance_url: Option<String>,
    /// Salesforce REST API version. Default "v62.0".
    #[serde(default)]
    pub api_version: Option<String>,
    /// The API token or access token: from SALESOPS__SOURCE__TOKEN only,
    /// never written in the file.
    #[serde(default)]
    pub token: Option<Secret>,
    /// Timeout of one HTTP request, in seconds (1 to 86400). Default 30.
    #[serde(deserialize_with = "super::whole::u64", default = "default_timeout")]
    pub timeout_seconds: u64,
    /// Requests per second at most, shared by all object types pulled at
    /// once (0.001 to 10000). Default: the vendor's documented limit less
    /// a margin (HubSpot 9, Salesforce 10, Pipedrive 8).
    #[serde(default)]
    pub max_requests_per_second: Option<f64>,
    /// How many times a page that failed for a passing reason (server
    /// error, timeout, lost connection) is asked for again, with growing
    /// waits, before the pull fails. Rate-limit answers (429) are waited
    /// out as the vendor says and do not count. 0 to 100; default 4.
    #[serde(
        deserialize_with = "super::whole::u32",
        default = "default_max_retries"
    )]
    pub max_retries: u32,
    /// `[source.hubspot]`: how HubSpot maps into the snapshot. Default:
    /// the standard properties (docs/connectors.md).
    #[serde(default)]
    pub hubspot: Option<HubspotMapping>,
    /// `[source.salesforce]`: how Salesforce maps into the snapshot.
    /// Default: the standard fields (docs/connectors.md).
    #[serde(default)]
    pub salesforce: Option<SalesforceMapping>,
    /// `[source.pipedrive]`: how Pipedrive maps into the snapshot.
    /// Default: the standard fields (docs/connectors.md).
    #[serde(default)]
    pub pipedrive: Option<PipedriveMapping>,
}

fn default_timeout() -> u64 {
    30
}

fn default_max_retries() -> u32 {
    4
}

fn default_max_snapshot_bytes() -> u64 {
    4 << 30
}

fn default_download_timeout() -> u64 {
    3600
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            kind: SourceKind::Demo,
            path: None,
            skip_bad_records: false,
            allow_empty: false,
            max_snapshot_bytes: default_max_snapshot_bytes(),
            download_timeout_seconds: default_download_timeout(),
            base_url: None,
            instance_url: None,
            api_version: None,
            token: None,
            timeout_seconds: default_timeout(),
            max_requests_per_second: None,
            max_retries: default_max_retries(),
            hubspot: None,
            salesforce: None,
            pipedrive: None,
        }
    }
}
