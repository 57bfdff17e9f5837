//! `kind = "smtp"`: lettre's async SMTP transport over rustls (STARTTLS,
//! implicit TLS, or plain text for a relay on loopback), with a password or
//! an XOAUTH2 token from the environment.
//!
//! Every send is bounded by `timeout_seconds` (lettre's own timeout only
//! bounds the TCP connect, lettre#1027). A transient failure (4xx, timeout,
//! connection refused) is retried with backoff up to `max_attempts`; a
//! permanent one (5xx) is not.

use super::message::Outgoing;
use crate::config::{Auth, DeliveryConfig, Security};
use anyhow::{bail, Context, Result};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

/// Why a send failed.
#[derive(Debug, Clone, PartialEq)]
pub enum SendError {
    /// The server refused this recipient or message for good (5xx).
    Permanent(String),
    /// The server kept answering "try later" (4xx) for this recipient.
    Transient(String),
    /// The server could not be reached (or TLS failed) after every
    /// attempt; other recipients would fare no better.
    Unreachable(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Permanent(m) | SendError::Transient(m) | SendError::Unreachable(m) => {
                f.write_str(m)
            }
        }
    }
}

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// `host:port (security)`, for messages.
    server: String,
    timeout: Duration,
    attempts: u32,
    /// First wait between attempts; doubles each time, at most 30 s.
    backoff: Duration,
}

/// True for an address on this machine (where `security = "none"` is fine).
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Smtp {
    /// The transport for `[delivery]`; `hello` is the domain of From, given
    /// as the EHLO name (some relays refuse a bare container hostname).
    pub fn new(cfg: &DeliveryConfig, hello: &str) -> Result<Smtp> {
        let host = cfg
            .host
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .context("delivery.host: required for kind = \"smtp\"")?;
        let port = cfg.port.unwrap_or(match cfg.security {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        });
        let tls = || -> Result<TlsParameters> {
            let mut b = TlsParameters::builder(host.to_string());
            if let Some(ca) = &cfg.ca_file {
                let pem = std::fs::read(ca)
                    .with_context(|| format!("delivery.ca_file: cannot read {}", ca.display()))?;
                let cert = Certificate::from_pem(&pem).with_context(|| {
                    format!(
                        "delivery.ca_file: {} is not a PEM certificate",
                        ca.display()
                    )
                })?;
                b = b.add_root_certificate(cert);
            }
            b.build().context("setting up TLS for [delivery]")
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(Duration::from_secs(cfg.timeout_seconds)))
            .hello_name(ClientId::Domain(hello.to_string()));
        b = match cfg.security {
            Security::Starttls => b.tls(Tls::Required(tls()?)),
            Security::Tls => b.tls(Tls::Wrapper(tls()?)),
            Security::None => b.tls(Tls::None),
        };
        if let Some(user) = &cfg.username {
            let (secret, mechanism, env) = match cfg.auth {
                Auth::Password => (
                    &cfg.password,
                    vec![Mechanism::Plain, Mechanism::Login],
                    "PASSWORD",
                ),
                Auth::Xoauth2 => (&cfg.oauth_token, vec![Mechanism::Xoauth2], "OAUTH_TOKEN"),
            };
            let Some(secret) = secret else {
                bail!("delivery.username is set but SALESOPS__DELIVERY__{env} is not: export it (secrets come from the environment only)");
            };
            if cfg.security == Security::None && !is_loopback(host) {
                bail!("delivery.security = \"none\" would send the SMTP password in clear text to {host}: use starttls or tls");
            }
            b = b
                .credentials(Credentials::new(user.clone(), secret.expose().to_string()))
                .authentication(mechanism);
        }
        Ok(Smtp {
            transport: b.build(),
            server: format!(
                "{host}:{port} ({})",
                match cfg.security {
                    Security::Starttls => "starttls",
                    Security::Tls => "tls",
                    Security::None => "no tls",
                }
            ),
            timeout: Duration::from_secs(cfg.timeout_seconds),
            attempts: cfg.max_attempts.max(1),
            backoff: Duration::from_secs(1),
        })
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    /// Sends `msg` to one recipient, retrying transient failures.
    pub async fn send(&self, msg: &Outgoing, rcpt: &Address) -> Result<(), SendError> {
        let envelope = Envelope::new(Some(msg.from.clone()), vec![rcpt.clone()])
            .map_err(|e| SendError::Permanent(format!("bad envelope: {e}")))?;
        let mut wait = self.backoff;
        let mut last = String::new();
        let mut answered = false;
        for attempt in 1..=self.attempts {
            if attempt > 1 {
                tracing::info!(recipient = %rcpt, attempt, "retrying in {:?}: {last}", wait);
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(30));
            }
            let sent =
                tokio::time::timeout(self.timeout, self.transport.send_raw(&envelope, &msg.bytes))
                    .await;
            match sent {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(e)) if e.is_permanent() => {
                    return Err(SendError::Permanent(format!(
                        "{} refused {rcpt}: {}; check the address (a permanent error is not retried)",
                        self.server,
                        error_chain(&e)
                    )))
                }
                Ok(Err(e)) if e.is_tls() => {
                    return Err(SendError::Unreachable(format!(
                        "TLS with {} failed: {}; check delivery.security (starttls on 587, tls on 465) and delivery.ca_file",
                        self.server,
                        error_chain(&e)
                    )))
                }
                Ok(Err(e)) => {
                    answered = e.is_transient();
                    last = error_chain(&e);
                }
                Err(_) => {
                    answered = false;
                    last = format!(
                        "no answer within {} s (delivery.timeout_seconds)",
                        self.timeout.as_secs()
                    )
                }
            }
        }
        if answered {
            return Err(SendError::Transient(format!(
                "{} kept deferring {rcpt} after {} attempt(s): {last}; the next run tries again",
                self.server, self.attempts
            )));
        }
        Err(SendError::Unreachable(format!(
            "could not send to {rcpt} through {} after {} attempt(s): {last}; check delivery.host, port and security, and that the server is up",
            self.server, self.attempts
        )))
    }

    /// Closes pooled connections politely (QUIT).
    pub async fn close(&self) {
        self.transport.shutdown().await;
    }
}

/// lettre's error with its causes ("Connection error: Connection refused").
fn error_chain(e: &lettre::transport::smtp::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        src = c.source();
    }
    // The server's words: no control characters, and no secret it echoed.
    crate::redact::clean(&s, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn cfg() -> DeliveryConfig {
        DeliveryConfig {
            kind: crate::config::DeliveryKind::Smtp,
            host: Some("smtp.example.com".into()),
            from: Some("ops@example.com".into()),
            ..DeliveryConfig::default()
        }
    }

    #[test]
    fn a_user_without_a_secret_is_told_which_variable_to_set() {
        let mut c = cfg();
        c.username = Some("ops@example.com".into());
        let err = Smtp::new(&c, "example.com").err().unwrap().to_string();
        assert!(err.contains("SALESOPS__DELIVERY__PASSWORD"), "{err}");
        c.auth = Auth::Xoauth2;
        let err = Smtp::new(&c, "example.com").err().unwrap().to_string();
        assert!(err.contains("SALESOPS__DELIVERY__OAUTH_TOKEN"), "{err}");
    }

    // The pooled transport must be built and dropped inside a runtime.
    #[tokio::test]
    async fn no_password_in_clear_text_off_this_machine() {
        let mut c = cfg();
        c.username = Some("ops".into());
        c.password = Some(Secret::new("hunter2"));
        c.security = Security::None;
        let err = Smtp::new(&c, "example.com").err().unwrap().to_string();
        assert!(err.contains("clear text"), "{err}");
        assert!(!err.contains("hunter2"));
        c.host = Some("127.0.0.1".into());
        assert!(Smtp::new(&c, "example.com").is_ok());
    }

    #[tokio::test]
    async fn default_ports_follow_security() {
        let s = Smtp::new(&cfg(), "example.com").unwrap();
        assert_eq!(s.server(), "smtp.example.com:587 (starttls)");
        let mut c = cfg();
        c.security = Security::Tls;
        assert_eq!(
            Smtp::new(&c, "x").unwrap().server(),
            "smtp.example.com:465 (tls)"
        );
    }
}
