//! Report folders are published whole and durably: every file is written
//! and synced into a hidden staging folder next to the destination, which
//! then takes the destination's place in one step (an atomic exchange with
//! the old folder, so there is no moment without a report folder). A run
//! that fails half-way leaves the previous report (or nothing), never a
//! mix; what a killed run left behind (staging folders, an old folder not
//! yet removed, a half-written .eml) is removed by the next run that writes
//! there (`clean_leftovers`).

use crate::state::holder;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A leftover whose writer cannot be judged (another host, an older
/// salesops) is removed once it is this old: no publish takes that long.
const LEFTOVER_AGE: Duration = Duration::from_secs(3600);

/// The hidden names this module (and earlier releases) give temporary
/// files and folders: `.<stem>.tmp-…`, `.<stem>.old-…`, `.tmp…`, `.eml-…`.
fn leftover_tag(name: &str) -> Option<&str> {
    let rest = name.strip_prefix('.')?;
    for mark in [".tmp-", ".old-"] {
        if let Some((_, tail)) = rest.split_once(mark) {
            return Some(tail);
        }
    }
    rest.strip_prefix("eml-")
        .or_else(|| rest.strip_prefix("tmp"))
}

/// Removes, in `dir`, what a run that died left: temporary files and
/// folders of a dead process, or of an unknown one once they are old.
pub fn clean_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(tail) = name.to_str().and_then(leftover_tag) else {
            continue;
        };
        // `<tag>-<random>` for what this release writes.
        let dead = tail
            .rsplit_once('-')
            .is_some_and(|(tag, _)| holder::tag_is_dead(tag));
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > LEFTOVER_AGE);
        if !(dead || old) {
            continue;
        }
        let p = e.path();
        let removed = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        match removed {
            Ok(()) => tracing::info!("removed {}, left by a run that did not finish", p.display()),
            Err(err) => tracing::warn!(
                "cannot remove {}, left by a run that did not finish: {err}",
                p.display()
            ),
        }
    }
}

/// Writes `files` (name → bytes) as the folder `dest`, replacing it.
pub fn publish_dir(dest: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>> {
    let parent = dest.parent().context("report folder has no parent")?;
    std::fs::create_dir_all(parent).with_context(|| {
        format!(
            "cannot create {}: check out_dir and its permissions",
            parent.display()
        )
    })?;
    clean_leftovers(parent);
    let stem = dest
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("report");
    let tag = holder::file_tag();
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{stem}.tmp-{tag}-"))
        .tempdir_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    for (name, bytes) in files {
        let p = staging.path().join(name);
        write_synced(&p, bytes).with_context(|| format!("cannot write {}", p.display()))?;
    }
    sync_dir(staging.path())?;
    // In place in one step. Another process may publish the same folder
    // at the same moment: whoever swaps last wins, and neither fails.
    let staged = staging.keep();
    let mut attempt = 0;
    loop {
        let swapped = if dest.exists() {
            exchange(&staged, dest)
        } else {
            std::fs::rename(&staged, dest).map(|()| false)
        };
        match swapped {
            // `staged` now holds the old folder.
            Ok(true) => {
                let _ = std::fs::remove_dir_all(&staged);
                break;
            }
            Ok(false) => break,
            // Someone put a folder there (or took it away) in between.
            Err(_) if attempt < 10 => attempt += 1,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staged);
                return Err(e)
                    .with_context(|| format!("cannot move the report into {}", dest.display()));
            }
        }
    }
    sync_dir(parent)?;
    Ok(files.iter().map(|(n, _)| dest.join(n)).collect())
}

/// Swaps the folders `new` and `dest`; true when they were swapped (the
/// old folder is now at `new`), false when `new` was renamed onto `dest`
/// the old way (a file system without an atomic exchange).
fn exchange(new: &Path, dest: &Path) -> std::io::Result<bool> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes());
        let (a, b) = (c(new)?, c(dest)?);
        // SAFETY: two valid NUL-terminated paths, relative to the working directory.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                libc::AT_FDCWD,
                a.as_ptr(),
                libc::AT_FDCWD,
                b.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if rc == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        if !matches!(err.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) {
            return Err(err);
        }
    }
    // Without an exchange: move the old folder aside, the new one in,
    // then remove the old (a kill in between leaves the old one, hidden,
    // for the next run to remove).
    let parent = dest.parent().unwrap_or(Path::new("."));
    let stem = dest
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("report");
    let old = parent.join(format!(
        ".{stem}.old-{}-{}",
        holder::file_tag(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::rename(dest, &old)?;
    if let Err(e) = std::fs::rename(new, dest) {
        let _ = std::fs::rename(&old, dest);
        return Err(e);
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(false)
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Makes a folder's entries (new names, renames) durable.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))?;
    Ok(())
}

/// Writes one file atomically and durably (a temporary name in the same
/// folder, synced, then renamed).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".eml-{}-", holder::file_tag()))
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_a_folder_whole() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("r").join("2026-07");
        publish_dir(
            &dest,
            &[
                ("a.txt".into(), b"1".to_vec()),
                ("b.txt".into(), b"2".to_vec()),
            ],
        )
        .unwrap();
        publish_dir(&dest, &[("a.txt".into(), b"3".to_vec())]).unwrap();
        assert_eq!(std::fs::read(dest.join("a.txt")).unwrap(), b"3");
        assert!(!dest.join("b.txt").exists());
        let leftovers: Vec<_> = std::fs::read_dir(dest.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[test]
    fn leftovers_of_a_live_process_stay_and_a_dead_ones_go() {
        let dir = tempfile::tempdir().unwrap();
        let mine = dir
            .path()
            .join(format!(".2026-07.tmp-{}-x1", holder::file_tag()));
        let (hash, _) = holder::file_tag()
            .split_once('+')
            .map(|(h, r)| (h.to_string(), r.to_string()))
            .unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let gone = child.id();
        child.wait().unwrap();
        let dead = dir
            .path()
            .join(format!(".2026-07.tmp-{hash}+{gone}+abc-x2"));
        let dead_eml = dir.path().join(format!(".eml-{hash}+{gone}+abc-x3"));
        let report = dir.path().join("2026-06");
        for d in [&mine, &dead, &report] {
            std::fs::create_dir(d).unwrap();
        }
        std::fs::write(&dead_eml, "half").unwrap();
        clean_leftovers(dir.path());
        assert!(mine.exists() && report.exists());
        assert!(!dead.exists() && !dead_eml.exists());
    }
}
