//! `salesops check`: validate the config and say what it would do.

use super::ConfigArg;
use anyhow::Result;

pub fn check(args: ConfigArg) -> Result<i32> {
    let (s, origin) = super::settings(&args)?;
    // Everything a run builds before it pulls.
    salesops::app::preflight(&s).map_err(|errs| {
        anyhow::anyhow!(
            "{} problem(s) in the config:\n  {}",
            errs.len(),
            errs.join("\n  ")
        )
    })?;
    let now = chrono::Utc::now();
    println!(
        "config ok: {}",
        match &origin {
            salesops::config::ConfigOrigin::File(p) => p.display().to_string(),
            salesops::config::ConfigOrigin::Embedded => "built-in default".into(),
        }
    );
    println!(
        "  source: {}{}",
        s.source.kind.as_str(),
        s.source
            .path
            .as_deref()
            .map(|p| format!(" ({})", salesops::redact::url(p)))
            .unwrap_or_default()
    );
    println!(
        "  time zone {}, currency {}, state in {}, reports in {}",
        s.tz,
        s.currency.as_deref().unwrap_or("as the CRM data says"),
        s.state_dir.display(),
        s.out_dir.display()
    );
    println!("  delivery: {}", delivery_line(&s.delivery, &s.out_dir));
    if let Some(addr) = s.serve.listen {
        println!("  serve answers /healthz, /readyz and /metrics on http://{addr}");
    }
    if s.reports.iter().any(|r| !r.slack_channels.is_empty()) {
        println!(
            "  slack: {}, token {}",
            salesops::redact::url_host(&s.slack.api_base_url),
            match &s.slack.token {
                Some(_) => "set".to_string(),
                None => "NOT SET: export SALESOPS__SLACK__TOKEN".to_string(),
            }
        );
    }
    let mut hooks: Vec<&String> = s.reports.iter().flat_map(|r| &r.msteams).collect();
    hooks.sort();
    hooks.dedup();
    for h in hooks {
        println!(
            "  msteams {h}: {}",
            match s.msteams.webhook(h) {
                Some(u) => salesops::redact::url_host(u.expose()),
                None => format!("NOT SET: export {}", salesops::config::webhook_env(h)),
            }
        );
    }
    if let Some(u) = &s.public_base_url {
        println!("  links to reports under {u}");
    }
    for r in &s.reports {
        let opts = salesops::app::RunOptions::default();
        let (period, as_of) = salesops::app::plan(r, &s, &opts, now)?;
        println!(
            "  report {:?}: a run now covers {} as of {}; schedule {}; to {}",
            r.name,
            period.label(),
            as_of,
            r.schedule.as_deref().unwrap_or("none (by hand)"),
            {
                let mut to: Vec<String> = r.to.clone();
                to.extend(r.slack_channels.iter().map(|c| format!("slack:{c}")));
                to.extend(r.msteams.iter().map(|m| format!("msteams:{m}")));
                if to.is_empty() {
                    "nobody (files only)".to_string()
                } else {
                    to.join(", ")
                }
            }
        );
    }
    println!("next fires (salesops schedules):");
    print!("{}", super::schedules::listing(&s, now, 5));
    Ok(0)
}

/// What `[delivery]` would do, and whether its secret is in the environment.
fn delivery_line(d: &salesops::config::DeliveryConfig, out_dir: &std::path::Path) -> String {
    use salesops::config::{Auth, DeliveryKind, Security};
    if d.kind == DeliveryKind::File {
        return format!(
            ".eml files under {} (nothing is sent)",
            out_dir.join("outbox").display()
        );
    }
    let security = match d.security {
        Security::Starttls => "starttls",
        Security::Tls => "tls",
        Security::None => "no tls",
    };
    let port = d.port.map(|p| format!(":{p}")).unwrap_or_default();
    let auth = match &d.username {
        None => "no authentication".to_string(),
        Some(u) => {
            let (what, secret, var) = match d.auth {
                Auth::Password => ("password", &d.password, "PASSWORD"),
                Auth::Xoauth2 => ("xoauth2 token", &d.oauth_token, "OAUTH_TOKEN"),
            };
            // preflight has made sure it is set.
            let state = match secret {
                Some(_) => "set".to_string(),
                None => format!("NOT SET: export SALESOPS__DELIVERY__{var}"),
            };
            format!("user {u}, {what} {state}")
        }
    };
    format!(
        "smtp {}{port} ({security}), {auth}, from {}",
        d.host.as_deref().unwrap_or("?"),
        d.from.as_deref().unwrap_or("?")
    )
}
