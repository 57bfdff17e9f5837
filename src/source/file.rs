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
    if !(location.starts_with("http://") || location.starts_with("https://")) {
        let path = resolve_path(location, origin);
        let name = path.display().to_string();
        let snapshot = tokio::task::spawn_blocking(move || read_file(&path, opts)).await??;
        return Ok(Pulled {
            description: describe(&format!("file {name}"), &snapshot),
            snapshot,
            stats: Default::default(),
        });
    }
    let bytes = fetch(location, src.timeout_seconds).await?;
    let snapshot = tokio::task::spawn_blocking(move || snapshot::parse(&bytes, opts))
        .await?
        .with_context(|| format!("snapshot {location}"))?;
    Ok(Pulled {
        description: describe(&format!("file {location}"), &snapshot),
        snapshot,
        stats: Default::default(),
    })
}

/// Reads a snapshot file through a memory map, handing pages already read
/// back to the OS as parsing moves on: a 1 GB export never sits in memory
/// whole next to the snapshot built from it.
pub fn read_file(path: &std::path::Path, opts: LoadOptions) -> Result<snapshot::Snapshot> {
    let file = std::fs::File::open(path).with_context(|| {
        format!(
            "cannot read the snapshot file {}: check [source] path",
            path.display()
        )
    })?;
    if file.metadata()?.len() == 0 {
        anyhow::bail!(
            "the snapshot file {} is empty: check [source] path",
            path.display()
        );
    }
    // SAFETY: the file is only read. Were another process to truncate it
    // meanwhile, reading could fault; exports are written before they are read.
    let map = unsafe { memmap2::Mmap::map(&file) }
        .with_context(|| format!("cannot read the snapshot file {}", path.display()))?;
    const PAGE: usize = 4096;
    // The whole pages inside a range the parser is done with.
    let release = |done: std::ops::Range<usize>| {
        let (from, to) = (done.start.div_ceil(PAGE) * PAGE, done.end / PAGE * PAGE);
        if to > from {
            // SAFETY: a private read-only file mapping; a dropped page is
            // read again from the file if the parser comes back to it.
            unsafe {
                let _ =
                    map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, to - from);
            }
        }
    };
    snapshot::parse_with_progress(&map, opts, Some(&release))
        .with_context(|| format!("snapshot {}", path.display()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_read_releasing_pages_gives_the_same_snapshot() {
        // The demo books as a file of a few MB; in tests the parsers hand
        // pages back every 8 KiB.
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let text = snapshot::to_json(&crate::source::demo::generate(today)).to_string();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crm.json");
        std::fs::write(&path, &text).unwrap();
        let mapped = read_file(&path, LoadOptions::default()).unwrap();
        let direct = snapshot::parse(text.as_bytes(), LoadOptions::default()).unwrap();
        assert!(mapped.activities.len() > 4 * 4096);
        assert_eq!(mapped.deals, direct.deals);
        assert_eq!(mapped.activities, direct.activities);
        assert_eq!(mapped.leads, direct.leads);
    }

    #[test]
    fn empty_file_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crm.json");
        std::fs::write(&path, "").unwrap();
        let err = read_file(&path, LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("is empty"), "{err}");
    }
}
