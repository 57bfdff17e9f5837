//! Reading the layers: built-in defaults < the file < `SALESOPS__…`
//! environment variables (`SALESOPS__SOURCE__TOKEN` → `source.token`).

use super::RawConfig;
use anyhow::{anyhow, Context, Result};
use config::{Config, Environment, File, FileFormat};
use std::path::{Path, PathBuf};

/// The config used when no `--config` is given: the demo CRM, file delivery.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../config/default.toml");

/// Where the config came from; relative `[source] path`s are read from the
/// config file's folder.
#[derive(Debug, Clone)]
pub enum ConfigOrigin {
    Embedded,
    File(PathBuf),
}

impl ConfigOrigin {
    pub fn dir(&self) -> Option<&Path> {
        match self {
            ConfigOrigin::Embedded => None,
            ConfigOrigin::File(p) => p.parent(),
        }
    }
}

/// Loads the config file (or the embedded default) with the environment on top.
pub fn load(path: Option<&Path>) -> Result<(RawConfig, ConfigOrigin)> {
    match path {
        None => Ok((
            load_str(EMBEDDED_DEFAULT, "the built-in default config", true)?,
            ConfigOrigin::Embedded,
        )),
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| {
                format!(
                    "cannot read config file {}: check the path given to --config",
                    p.display()
                )
            })?;
            let raw = load_str(&text, &p.display().to_string(), true)?;
            Ok((raw, ConfigOrigin::File(p.to_path_buf())))
        }
    }
}

/// Parses TOML text (named `origin` in errors), optionally with the
/// `SALESOPS__…` environment on top.
///
/// With the environment (a real config file), a secret written in the file
/// is an error: secrets come from the environment only. Without it
/// (`Settings::from_toml`, tests), the text stands for every layer.
pub fn load_str(text: &str, origin: &str, with_env: bool) -> Result<RawConfig> {
    let mut b = Config::builder().add_source(File::from_str(text, FileFormat::Toml));
    if with_env {
        secrets_in_file(text, origin)?;
        // `prefix_separator` must be set too, or config-rs expects
        // SALESOPS___… (see shared notes, "config prefix trap").
        b = b.add_source(
            Environment::with_prefix("SALESOPS")
                .prefix_separator("__")
                .separator("__"),
        );
    }
    let cfg = b
        .build()
        .map_err(|e| anyhow!("{origin}: {}", tidy(&e.to_string())))?;
    serde_path_to_error::deserialize::<_, RawConfig>(cfg).map_err(|e| {
        let path = e.path().to_string();
        let inner = tidy(&e.inner().to_string());
        anyhow!(
            "{origin}: {}: {inner}",
            if path == "." {
                "top level".to_string()
            } else {
                path
            }
        )
    })
}

/// The secrets `[source]` and `[delivery]` may hold, and the variable
/// each must come from.
const SECRETS: &[(&str, &str, &str)] = &[
    ("source", "token", "SALESOPS__SOURCE__TOKEN"),
    ("delivery", "password", "SALESOPS__DELIVERY__PASSWORD"),
    ("delivery", "oauth_token", "SALESOPS__DELIVERY__OAUTH_TOKEN"),
];

/// Fails when the file itself holds a secret (its value is never shown).
fn secrets_in_file(text: &str, origin: &str) -> Result<()> {
    // A file that is not TOML is reported by the loader, with its place.
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Ok(());
    };
    let found: Vec<String> = SECRETS
        .iter()
        .filter(|(section, key, _)| {
            doc.get(*section)
                .and_then(|s| s.as_table())
                .is_some_and(|s| s.contains_key(*key))
        })
        .map(|(section, key, var)| {
            if let Some(v) = doc[*section][*key].as_str() {
                crate::redact::register(v);
            }
            format!(
                "{section}.{key}: a secret must not be written in the config file; remove it and set the environment variable {var} instead"
            )
        })
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    Err(anyhow!("{origin}: {}", found.join("\n  ")))
}

/// config-rs messages say "for key `x` in …" after the fact; the path is
/// already in front, so keep only the reason and make it read plainly.
fn tidy(msg: &str) -> String {
    let msg = msg.split(" for key ").next().unwrap_or(msg).trim();
    // "invalid type: string \"5%\", expected a float" → "expected a number, got \"5%\""
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            if let Some((got, expected)) = rest.rsplit_once(", expected ") {
                let got = got.strip_prefix("string ").unwrap_or(got);
                let expected = match expected {
                    "a float" | "a floating point" | "f64" | "an f64" => "a number",
                    "u64" | "u32" | "u16" | "i64" | "an integer" => "a whole number",
                    e => e,
                };
                return format!("expected {expected}, got {got}");
            }
        }
    }
    msg.to_string()
}
