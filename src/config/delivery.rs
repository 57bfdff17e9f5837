//! `[delivery]`: how rendered reports reach their recipients.

use super::source::Secret;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryKind {
    /// Send over SMTP.
    Smtp,
    /// Write each message as an .eml file under the report's folder (the
    /// built-in default: nothing leaves the machine).
    #[default]
    File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// STARTTLS, required (port 587).
    #[default]
    Starttls,
    /// Implicit TLS (port 465).
    Tls,
    /// Plain text: only for a relay on loopback.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// PLAIN/LOGIN with SALESOPS__DELIVERY__PASSWORD.
    #[default]
    Password,
    /// XOAUTH2 with an access token in SALESOPS__DELIVERY__OAUTH_TOKEN.
    Xoauth2,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    /// smtp | file. Default "file".
    #[serde(default)]
    pub kind: DeliveryKind,
    /// SMTP server host. Required for smtp.
    #[serde(default)]
    pub host: Option<String>,
    /// SMTP port. Default: 587 for starttls, 465 for tls, 25 for none.
    #[serde(default)]
    pub port: Option<u16>,
    /// starttls | tls | none. Default "starttls".
    #[serde(default)]
    pub security: Security,
    /// password | xoauth2. Default "password".
    #[serde(default)]
    pub auth: Auth,
    /// SMTP user name. Default: none (no authentication).
    #[serde(default)]
    pub username: Option<String>,
    /// From SALESOPS__DELIVERY__PASSWORD only.
    #[serde(default)]
    pub password: Option<Secret>,
    /// From SALESOPS__DELIVERY__OAUTH_TOKEN only.
    #[serde(default)]
    pub oauth_token: Option<Secret>,
    /// Sender, e.g. "Sales Ops <ops@example.com>". Required for smtp.
    #[serde(default)]
    pub from: Option<String>,
    /// Bound on one SMTP conversation, in seconds. Default 30.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    /// Attempts per recipient for transient failures. Default 4.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// PEM file of an extra CA to trust (a private relay). Default: none.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
}

fn default_timeout() -> u64 {
    30
}

fn default_attempts() -> u32 {
    4
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            kind: DeliveryKind::File,
            host: None,
            port: None,
            security: Security::Starttls,
            auth: Auth::Password,
            username: None,
            password: None,
            oauth_token: None,
            from: None,
            timeout_seconds: default_timeout(),
            max_attempts: default_attempts(),
            ca_file: None,
        }
    }
}
