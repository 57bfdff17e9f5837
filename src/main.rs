//! The `salesops` binary: logging, the CLI, and the one place errors are
//! printed and turned into an exit code (0 ok, 1 partly delivered, 2 error).
//! A panic (a bug) is an error too: one line, exit 2.

mod cli;

use clap::Parser;
use std::io::{IsTerminal, Write};

fn main() {
    salesops::app::panics::install_hook();
    let cli = cli::Cli::parse();
    init_tracing(cli.log_format, cli.verbose);
    let code = match std::panic::catch_unwind(|| cli::dispatch(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            print_error(&format!("{e:#}"));
            2
        }
        Err(payload) => {
            print_error(&salesops::app::panics::message(payload.as_ref()));
            2
        }
    };
    std::process::exit(code);
}

/// The error line: secrets cut, control characters from outside escaped.
fn print_error(msg: &str) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "salesops: error: {}",
        salesops::redact::clean(msg, true)
    );
}

/// `-v`/`-vv` turn on salesops' own debug and trace events; dependencies
/// (lettre, hyper, rustls, css-inline) log only through an explicit
/// `SALESOPS_LOG` filter, e.g. `SALESOPS_LOG=info,lettre=debug`.
fn filter(verbose: u8) -> &'static str {
    match verbose {
        0 => "warn,salesops=info",
        1 => "warn,salesops=debug",
        _ => "warn,salesops=trace",
    }
}

fn init_tracing(format: cli::LogFormat, verbose: u8) {
    use tracing_subscriber::field::MakeExt;
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("SALESOPS_LOG").unwrap_or_else(|_| EnvFilter::new(filter(verbose)));
    // Colours only for a person at a terminal who has not asked for none.
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(|| Redacting);
    match format {
        cli::LogFormat::Json => builder.json().init(),
        cli::LogFormat::Text => builder
            .fmt_fields(
                tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
                    let v = format!("{value:?}");
                    let v = salesops::redact::controls(&v, false);
                    match field.name() {
                        "message" => write!(w, "{v}"),
                        name => write!(w, "{name}={v}"),
                    }
                })
                .delimited(" "),
            )
            .init(),
    }
}

/// stderr, with every registered secret cut out of each log line.
struct Redacting;

impl Write for Redacting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr()
            .lock()
            .write_all(salesops::redact::redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
