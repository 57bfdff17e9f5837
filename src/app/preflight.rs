//! What a run builds before it pulls, built without pulling: the templates
//! (the built-ins, `templates_dir` and each report's subject), the labels,
//! the chart font and the sender, the SMTP secret and CA. `check` runs
//! exactly this and `run` runs it first, so the two cannot disagree: a
//! config `check` calls ok can only fail a run on data or the network.

use crate::config::{Auth, DeliveryKind, Settings};
use crate::render::{charts, labels, templates};

/// Every problem found, each naming its key.
pub fn preflight(s: &Settings) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    let dir = s.templates_dir.as_deref();
    match templates::load(dir, None) {
        Err(e) => errs.push(format!("templates_dir: {e:#}")),
        Ok(_) => {
            for r in s.reports.iter().filter(|r| r.subject.is_some()) {
                if let Err(e) = templates::load(dir, r.subject.as_deref()) {
                    errs.push(format!("reports ({:?}).subject: {e:#}", r.name));
                }
            }
        }
    }
    match templates::labels_override(dir) {
        Err(e) => errs.push(format!("templates_dir: {e:#}")),
        Ok(custom) => {
            let mut locales: Vec<&str> = s.reports.iter().map(|r| r.locale.as_str()).collect();
            locales.push(&s.locale);
            locales.sort_unstable();
            locales.dedup();
            for l in locales {
                let custom = custom.as_ref().map(|(t, o)| (t.as_str(), o.as_str()));
                if let Err(e) = labels::Labels::load(l, custom) {
                    errs.push(format!("templates_dir: {e:#}"));
                }
            }
        }
    }
    if let Err(e) = charts::ChartFont::load(s.chart_font.as_deref()) {
        errs.push(format!("chart_font: {e:#}"));
    }
    let d = &s.delivery;
    if let Err(e) = crate::deliver::from_mailbox(d) {
        errs.push(format!("{e:#}"));
    }
    if d.kind == DeliveryKind::Smtp {
        let (secret, var) = match d.auth {
            Auth::Password => (&d.password, "SALESOPS__DELIVERY__PASSWORD"),
            Auth::Xoauth2 => (&d.oauth_token, "SALESOPS__DELIVERY__OAUTH_TOKEN"),
        };
        if d.username.is_some() && secret.is_none() {
            errs.push(format!(
                "delivery.username is set but {var} is not: export it (secrets come from the environment only)"
            ));
        }
        if let Some(ca) = &d.ca_file {
            match std::fs::read(ca) {
                Err(e) => errs.push(format!(
                    "delivery.ca_file: cannot read {}: {e}",
                    ca.display()
                )),
                Ok(pem) => {
                    if lettre::transport::smtp::client::Certificate::from_pem(&pem).is_err() {
                        errs.push(format!(
                            "delivery.ca_file: {} is not a PEM certificate",
                            ca.display()
                        ));
                    }
                }
            }
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}
