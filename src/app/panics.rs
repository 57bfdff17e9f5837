//! A panic is a bug, and still ends cleanly: the hook keeps its message
//! and place (printing nothing), and whoever catches the panic (`main`,
//! `app::run`) turns it into one error line, exit 2 and a failed run-log
//! row instead of a backtrace and a run left "running".

use std::any::Any;
use std::sync::Mutex;

static LAST: Mutex<Option<String>> = Mutex::new(None);

/// Replaces the default hook (which prints a backtrace note).
pub fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = format!("{}{place}", payload_text(info.payload()));
        *LAST.lock().unwrap_or_else(|e| e.into_inner()) = Some(msg);
    }));
}

fn payload_text(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic".into()
    }
}

/// The one line that stands for a caught panic.
pub fn message(payload: &(dyn Any + Send)) -> String {
    let what = LAST
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_else(|| payload_text(payload));
    format!(
        "internal error (a bug in salesops; please report it): {}",
        what.replace('\n', " ")
    )
}

/// `SALESOPS_TEST_PANIC=1` makes a run panic once it has pulled: the way
/// tests (and ops, on a staging box) see that a crash still ends cleanly.
pub fn injected() {
    if std::env::var_os("SALESOPS_TEST_PANIC").is_some_and(|v| v == "1") {
        panic!("SALESOPS_TEST_PANIC is set");
    }
}
