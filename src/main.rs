//! The `salesops` binary: logging, the CLI, and the one place errors are
//! printed and turned into an exit code (0 ok, 1 partly delivered, 2 error).

mod cli;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    init_tracing(cli.log_format, cli.verbose);
    let code = match cli::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("salesops: error: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

fn init_tracing(format: cli::LogFormat, verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn,salesops=info",
        1 => "info",
        _ => "debug",
    };
    let filter =
        EnvFilter::try_from_env("SALESOPS_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        cli::LogFormat::Json => builder.json().init(),
        cli::LogFormat::Text => builder.init(),
    }
}
