//! `[delivery]`: how rendered reports reach their recipients.

use super::source::Secret;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeliveryKind {
    /// Send over SMTP.
    Smtp,
    /// Write each delivery as an .eml file under
    /// `<out_dir>/outbox/<report>/<period key>/<recipient>.eml` (the built-in
    /// default: nothing leaves the machine). The delivery log is kept as for SMTP.
    #[default]
    File,
}

super::named_setting!(DeliveryKind {
    "smtp" => DeliveryKind::Smtp,
    "file" => DeliveryKind::File,
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Security {
    /// STARTTLS, required: the session fails before any credentials are
    /// sent if the server does not offer it (port 587; Microsoft 365, Gmail).
    #[default]
    Starttls,
    /// Implicit TLS from the first byte (port 465).
    Tls,
    /// Plain text: only for a relay on this machine. Refused with a
    /// username unless the host is loopback.
    None,
}

super::named_setting!(Security {
    "starttls" => Security::Starttls,
    "tls" => Security::Tls,
    "none" => Security::None,
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Auth {
    /// PLAIN/LOGIN with SALESOPS__DELIVERY__PASSWORD.
    #[default]
    Password,
    /// XOAUTH2 with an OAuth access token in SALESOPS__DELIVERY__OAUTH_TOKEN
    /// (Microsoft 365 and Gmail are retiring password SMTP). salesops does
    /// not refresh the token: whatever runs salesops must put a fresh one
    /// in the environment.
    Xoauth2,
}

super::named_setting!(Auth {
    "password" => Auth::Password,
    "xoauth2" => Auth::Xoauth2,
});

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    /// smtp | file. Default "file". Both honour the delivery log: nobody
    /// gets the same report for the same period twice (`--force` resends).
    #[serde(default)]
    pub kind: DeliveryKind,
    /// SMTP server host, e.g. "smtp.office365.com". Required for smtp.
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
    /// SMTP user name; with it, salesops authenticates (password or
    /// xoauth2, see `auth`). Default: none (no authentication).
    #[serde(default)]
    pub username: Option<String>,
    /// The SMTP password. Set it with SALESOPS__DELIVERY__PASSWORD, never in
    /// the file. Default: none.
    #[serde(default)]
    pub password: Option<Secret>,
    /// The XOAUTH2 access token. Set it with SALESOPS__DELIVERY__OAUTH_TOKEN,
    /// never in the file. Default: none.
    #[serde(default)]
    pub oauth_token: Option<Secret>,
    /// Sender, e.g. "Sales Ops <ops@example.com>"; its domain also names the
    /// Message-ID and the EHLO greeting. Required for smtp; default for
    /// file: "salesops <salesops@localhost>".
    #[serde(default)]
    pub from: Option<String>,
    /// Bound on one send (connect, TLS, auth and transfer), in seconds; a
    /// send that takes longer counts as a transient failure. 1 to 3600;
    /// default 30.
    #[serde(deserialize_with = "super::whole::u64", default = "default_timeout")]
    pub timeout_seconds: u64,
    /// Attempts per recipient when the failure is transient (connection
    /// refused, timeout, 4xx), with 1 s, 2 s, 4 s… between them (at most
    /// 30 s). A permanent failure (5xx) is not retried. 1 to 100; default 4.
    #[serde(deserialize_with = "super::whole::u32", default = "default_attempts")]
    pub max_attempts: u32,
    /// PEM file of an extra CA to trust (a private relay with its own CA);
    /// the Mozilla roots built into the binary are always trusted. Default: none.
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
