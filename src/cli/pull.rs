//! `salesops pull`: pull the configured CRM now and, with `--save`, write
//! what was pulled as a canonical snapshot. `[source] kind = "file"` reads
//! it back and reproduces the report: this is how a report is reproduced
//! or debugged. Nothing is computed, stored or sent.

use super::ConfigArg;
use anyhow::{Context, Result};
use clap::Args;
use salesops::snapshot::{to_json, Snapshot};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct PullArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Write the pulled snapshot here (canonical JSON). Default: only say
    /// what was pulled.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
}

pub fn pull(args: PullArgs) -> Result<i32> {
    let (settings, origin) = super::settings(&args.config)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let today = chrono::Utc::now().with_timezone(&settings.tz).date_naive();
    let pulled = rt
        .block_on(salesops::source::pull(&settings, &origin, today))
        .context("pulling the CRM data")?;
    println!("{}", pulled.description);
    for note in &pulled.snapshot.notes {
        println!("  note: {note}");
    }
    if let Some(path) = &args.save {
        save(path, &pulled.snapshot)?;
        println!("wrote {}", path.display());
    }
    Ok(0)
}

/// Writes through a temporary file in the same folder, so that a failed
/// write never leaves half a snapshot under the name.
fn save(path: &Path, snap: &Snapshot) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(&to_json(snap))?;
    bytes.push(b'\n');
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let fail = || format!("cannot write the snapshot to {}", path.display());
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(fail)?;
    tmp.write_all(&bytes).with_context(fail)?;
    tmp.persist(path).map_err(|e| e.error).with_context(fail)?;
    Ok(())
}
