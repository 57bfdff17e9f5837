//! The `file` source: canonical snapshot JSON from a path or an http(s) URL.

use super::{describe, Pulled};
use crate::config::{ConfigOrigin, SourceConfig};
use crate::snapshot::{self, LoadOptions};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::time::Duration;

/// A relative path is read from the config file's folder, then from the
/// working directory.
pub fn resolve_path(path: &str, origin: &ConfigOrigin) -> PathBuf {
    let p = PathBuf::from(path);
    if p.is_absolute() {
        return p;
    }
    match origin.dir() {
        Some(dir) if dir.join(&p).exists() => dir.join(&p),
        _ => p,
    }
}

pub async fn pull(src: &SourceConfig, origin: &ConfigOrigin) -> Result<Pulled> {
    let location = src.path.as_deref().unwrap_or_default();
    let opts = LoadOptions {
        skip_bad_records: src.skip_bad_records,
    };
    let (bytes, name) = if location.starts_with("http://") || location.starts_with("https://") {
        (
            fetch(location, src.timeout_seconds).await?,
            location.to_string(),
        )
    } else {
        let path = resolve_path(location, origin);
        let bytes = tokio::fs::read(&path).await.with_context(|| {
            format!(
                "cannot read the snapshot file {}: check [source] path",
                path.display()
            )
        })?;
        (bytes, path.display().to_string())
    };
    let snapshot = tokio::task::spawn_blocking(move || snapshot::parse(&bytes, opts))
        .await?
        .with_context(|| format!("snapshot {name}"))?;
    Ok(Pulled {
        description: describe(&format!("file {name}"), &snapshot),
        snapshot,
        stats: Default::default(),
    })
}

async fn fetch(url: &str, timeout_seconds: u64) -> Result<Vec<u8>> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(timeout_seconds.min(30)))
        .timeout(Duration::from_secs(timeout_seconds))
        .build()?;
    let resp = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("cannot fetch the snapshot from {url}"))?;
    let status = resp.status();
    if !status.is_success() {
        anyhow::bail!(
            "fetching the snapshot from {url}: the server answered {status}; check [source] path"
        );
    }
    Ok(resp
        .bytes()
        .await
        .with_context(|| format!("reading the snapshot from {url}"))?
        .to_vec())
}
