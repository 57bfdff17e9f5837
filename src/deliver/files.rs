//! Report folders are published whole: every file is written into a hidden
//! staging folder next to the destination, which is then renamed into place.
//! A run that fails half-way leaves the previous report (or nothing), never
//! a mix.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Writes `files` (name → bytes) as the folder `dest`, replacing it.
pub fn publish_dir(dest: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>> {
    let parent = dest.parent().context("report folder has no parent")?;
    std::fs::create_dir_all(parent).with_context(|| {
        format!(
            "cannot create {}: check out_dir and its permissions",
            parent.display()
        )
    })?;
    let stem = dest
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("report");
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{stem}.tmp-"))
        .tempdir_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    for (name, bytes) in files {
        let p = staging.path().join(name);
        std::fs::write(&p, bytes).with_context(|| format!("cannot write {}", p.display()))?;
    }
    // Swap: move the old folder aside, put the new one in place, then drop
    // the old. Another process may publish the same folder at the same
    // moment: whoever renames last wins, and neither fails.
    let staged = staging.keep();
    let mut attempt = 0;
    loop {
        let old = parent.join(format!(".{stem}.old-{}", uuid::Uuid::new_v4().simple()));
        let moved_aside = match std::fs::rename(dest, &old) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staged);
                return Err(e).with_context(|| format!("cannot replace {}", dest.display()));
            }
        };
        match std::fs::rename(&staged, dest) {
            Ok(()) => {
                if moved_aside {
                    let _ = std::fs::remove_dir_all(&old);
                }
                break;
            }
            // Someone else put a folder there in between: try again.
            Err(_) if attempt < 10 && dest.exists() => {
                if moved_aside {
                    let _ = std::fs::remove_dir_all(&old);
                }
                attempt += 1;
            }
            Err(e) => {
                if moved_aside {
                    let _ = std::fs::rename(&old, dest);
                }
                let _ = std::fs::remove_dir_all(&staged);
                return Err(e)
                    .with_context(|| format!("cannot move the report into {}", dest.display()));
            }
        }
    }
    Ok(files.iter().map(|(n, _)| dest.join(n)).collect())
}

/// Writes one file atomically (temporary name in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
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
}
