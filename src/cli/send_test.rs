//! `salesops send-test --to ADDR | --slack CHANNEL | --msteams NAME`: send
//! a small message through the configured `[delivery]`, `[slack]` or
//! `[msteams]` to check the settings and credentials. It is not a report
//! and is not written to the delivery log.

use super::ConfigArg;
use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct SendTestArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Who gets the test email.
    #[arg(long, group = "dest")]
    pub to: Option<String>,
    /// A Slack channel (ID or #name) to post a test message to, with a
    /// small file in its thread (checks the token and both scopes).
    #[arg(long, group = "dest")]
    pub slack: Option<String>,
    /// A `[msteams]` webhook name to post a test card to.
    #[arg(long, group = "dest")]
    pub msteams: Option<String>,
}

pub fn send_test(args: SendTestArgs) -> Result<i32> {
    let (settings, _) = super::settings(&args.config)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (dest, sent) = match (&args.to, &args.slack, &args.msteams) {
        (_, Some(channel), _) => (
            format!("Slack {channel}"),
            rt.block_on(salesops::deliver::chat::send_test_slack(
                &settings.slack,
                channel,
            ))
            .map(|at| format!("posted a test message to {at}")),
        ),
        (_, _, Some(name)) => (
            format!("Teams webhook {name}"),
            rt.block_on(salesops::deliver::chat::send_test_msteams(
                &settings.msteams,
                name,
            ))
            .map(|at| format!("posted a test card to {at}")),
        ),
        (Some(to), _, _) => (
            to.clone(),
            rt.block_on(salesops::deliver::send_test(
                &settings.delivery,
                to,
                &settings.out_dir,
            ))
            .map(|(via, id)| format!("sent a test message to {to} via {via} (Message-ID {id})")),
        ),
        _ => anyhow::bail!("send-test needs --to ADDR, --slack CHANNEL or --msteams NAME"),
    };
    match sent {
        Ok(line) => {
            println!("{line}");
            Ok(0)
        }
        Err(e) => {
            eprintln!("salesops: test message to {dest} failed: {e:#}");
            Ok(1)
        }
    }
}
