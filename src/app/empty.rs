//! A pull that gives no deals at all, where the last successful run had
//! some, is taken for a CRM (or an export) that answered nothing rather
//! than for a business that sold nothing: the run stops before anything is
//! stored or sent, unless `[source] allow_empty = true`.

use crate::config::Settings;
use crate::source::Pulled;
use crate::state::{Store, FILE_NAME};
use anyhow::{bail, Result};

pub(super) fn check(s: &Settings, pulled: &Pulled) -> Result<()> {
    if s.source.allow_empty || !pulled.snapshot.deals.is_empty() {
        return Ok(());
    }
    // Reading history must not create a store (a dry run).
    if !s.state_dir.join(FILE_NAME).exists() {
        return Ok(());
    }
    let before = Store::open(&s.state_dir)?.last_ok_deals()?;
    if let Some(n) = before.filter(|n| *n > 0) {
        bail!(
            "data quality: the source gave no deals at all ({}), but the last successful run pulled {n}; \
             nothing was stored or sent. Check the source (an empty export, a CRM that answered empty lists, \
             a token that sees nothing); if there really are no deals now, set [source] allow_empty = true",
            pulled.description
        );
    }
    Ok(())
}
