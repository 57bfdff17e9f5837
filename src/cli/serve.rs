//! `salesops serve`: run every scheduled report on its cron until
//! SIGTERM/SIGINT (the loop lives in `salesops::schedule::serve`).

use super::ConfigArg;
use anyhow::Result;

pub fn serve(args: ConfigArg) -> Result<i32> {
    let (settings, origin) = super::settings(&args)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(salesops::schedule::serve::serve(settings, origin))
}
