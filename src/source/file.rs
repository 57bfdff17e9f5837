//! The `file` source: canonical snapshot JSON from a path or an http(s) URL.
//!
//! A download is spooled to a temporary file, bounded in size
//! (`max_snapshot_bytes`), per read (`timeout_seconds`) and as a whole
//! (`download_timeout_seconds`), then read like a local file (memory
//! mapped). A URL is printed only through `redact::url`, and its
//! credentials are registered as secrets.

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
    crate::redact::register_url(location);
    let shown = crate::redact::url(location);
    let spooled = fetch(location, &shown, src).await?;
    let name = shown.clone();
    let snapshot =
        tokio::task::spawn_blocking(move || read_mapped(spooled.as_file(), &name, opts)).await??;
    Ok(Pulled {
        description: describe(&format!("file {shown}"), &snapshot),
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
    read_mapped(&file, &path.display().to_string(), opts)
}

/// `read_file` of an open file named `name`, handing the pages the parser
/// is done with back to the OS.
fn read_mapped(file: &std::fs::File, name: &str, opts: LoadOptions) -> Result<snapshot::Snapshot> {
    if file.metadata()?.len() == 0 {
        anyhow::bail!("the snapshot {name} is empty: check [source] path");
    }
    // SAFETY: the file is only read. Were another process to truncate it
    // meanwhile, reading could fault; exports are written before they are read.
    let map = unsafe { memmap2::Mmap::map(file) }
        .with_context(|| format!("cannot read the snapshot {name}"))?;
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
        .with_context(|| format!("snapshot {name}"))
}

/// Downloads `url` (printed as `shown`) into an unnamed temporary file.
async fn fetch(url: &str, shown: &str, src: &SourceConfig) -> Result<tempfile::NamedTempFile> {
    let per_read = Duration::from_secs(src.timeout_seconds);
    let client = reqwest::Client::builder()
        .connect_timeout(per_read.min(Duration::from_secs(30)))
        .read_timeout(per_read)
        .build()?;
    let whole = Duration::from_secs(src.download_timeout_seconds);
    let max = src.max_snapshot_bytes;
    let too_large = || {
        anyhow::anyhow!(
            "the snapshot at {shown} is larger than [source] max_snapshot_bytes ({max} bytes): raise max_snapshot_bytes if it is right, or check the URL"
        )
    };
    let download = async {
        let mut resp = client
            .get(url)
            .send()
            .await
            .map_err(|e| e.without_url())
            .with_context(|| format!("cannot fetch the snapshot from {shown}"))?;
        let status = resp.status();
        if !status.is_success() {
            anyhow::bail!(
                "fetching the snapshot from {shown}: the server answered {status}; check [source] path"
            );
        }
        if resp.content_length().is_some_and(|n| n > max) {
            return Err(too_large());
        }
        let mut spool = tempfile::NamedTempFile::new()
            .context("cannot create a temporary file for the snapshot download (check TMPDIR)")?;
        let mut written: u64 = 0;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| e.without_url())
            .with_context(|| format!("reading the snapshot from {shown}"))?
        {
            written += chunk.len() as u64;
            if written > max {
                return Err(too_large());
            }
            std::io::Write::write_all(&mut spool, &chunk)
                .context("cannot write the snapshot download to a temporary file (check TMPDIR)")?;
        }
        Ok(spool)
    };
    tokio::time::timeout(whole, download).await.unwrap_or_else(|_| {
        anyhow::bail!(
            "the snapshot download from {shown} took longer than [source] download_timeout_seconds ({} s)",
            whole.as_secs()
        )
    })
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
        let file = std::fs::File::open(&path).unwrap();
        let mapped = read_mapped(&file, "crm.json", LoadOptions::default()).unwrap();
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
