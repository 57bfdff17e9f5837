//! `salesops send-test --to ADDR`: send a small message through the
//! configured `[delivery]` to check host, port, TLS and credentials. It is
//! not a report and is not written to the delivery log.

use super::ConfigArg;
use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct SendTestArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Who gets the test message.
    #[arg(long)]
    pub to: String,
}

pub fn send_test(args: SendTestArgs) -> Result<i32> {
    let (settings, _) = super::settings(&args.config)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let sent = rt.block_on(salesops::deliver::send_test(
        &settings.delivery,
        &args.to,
        &settings.out_dir,
    ));
    match sent {
        Ok((via, id)) => {
            println!(
                "sent a test message to {} via {via} (Message-ID {id})",
                args.to
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("salesops: test message to {} failed: {e:#}", args.to);
            Ok(1)
        }
    }
}
