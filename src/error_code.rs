//! The `error_code` of every log event worth an alert: one enum, so the
//! codes ops alert on cannot drift from what the program logs.
//! docs/operations.md lists each (a test checks it), and a test checks that
//! no event names a code outside this enum.

/// A stable code in the `error_code` field of a log event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// A run (one report of it) failed; `error` says why.
    RunFailed,
    /// A scheduled run kept failing until `retry_for_minutes` ran out.
    RunGivenUp,
    /// A fire came while the report's previous run was still going.
    TickSkipped,
    /// A run lost its claim to another process and sends nothing.
    ClaimLost,
    /// Another process holds the claim of a period.
    ClaimBusy,
    /// A run in flight did not finish within `shutdown_timeout_seconds`.
    ShutdownTimeout,
    /// A second signal stopped serve at once.
    ShutdownForced,
    /// A report's schedule could not be armed.
    ArmFailed,
    /// The end of a run could not be written to the run log.
    RunLogWriteFailed,
    /// The SMTP server could not be reached.
    DeliveryUnreachable,
    /// The SMTP server refused a recipient or the message.
    DeliveryRefused,
    /// A bug: salesops panicked; the run is recorded as failed.
    InternalError,
}

impl ErrorCode {
    /// Every code (the docs test walks it).
    #[cfg(test)]
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::RunFailed,
        ErrorCode::RunGivenUp,
        ErrorCode::TickSkipped,
        ErrorCode::ClaimLost,
        ErrorCode::ClaimBusy,
        ErrorCode::ShutdownTimeout,
        ErrorCode::ShutdownForced,
        ErrorCode::ArmFailed,
        ErrorCode::RunLogWriteFailed,
        ErrorCode::DeliveryUnreachable,
        ErrorCode::DeliveryRefused,
        ErrorCode::InternalError,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::RunFailed => "run_failed",
            ErrorCode::RunGivenUp => "run_given_up",
            ErrorCode::TickSkipped => "tick_skipped",
            ErrorCode::ClaimLost => "claim_lost",
            ErrorCode::ClaimBusy => "claim_busy",
            ErrorCode::ShutdownTimeout => "shutdown_timeout",
            ErrorCode::ShutdownForced => "shutdown_forced",
            ErrorCode::ArmFailed => "arm_failed",
            ErrorCode::RunLogWriteFailed => "run_log_write_failed",
            ErrorCode::DeliveryUnreachable => "delivery_unreachable",
            ErrorCode::DeliveryRefused => "delivery_refused",
            ErrorCode::InternalError => "internal_error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_md_lists_every_code() {
        let doc = include_str!("../docs/operations.md");
        for c in ErrorCode::ALL {
            assert!(
                doc.contains(&format!("`{}`", c.as_str())),
                "docs/operations.md does not list error_code `{}`",
                c.as_str()
            );
        }
    }

    /// Every event names its code through the enum: a literal
    /// `error_code = "…"` would be a code the docs may not list.
    #[test]
    fn no_code_is_written_as_a_literal() {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("error_code.rs")
                {
                    let text = std::fs::read_to_string(&p).unwrap();
                    if text.contains(concat!("error_code = ", "\"")) {
                        out.push(p.display().to_string());
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(found.is_empty(), "literal error codes in {found:?}");
    }
}
