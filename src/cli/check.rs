//! `salesops check`: validate the config and say what it would do; with
//! `--pull`, also pull the source once and show the teams as the CRM data
//! makes them (who is in which team, and the members that match no rep).

use super::ConfigArg;
use anyhow::{Context, Result};
use clap::Args;
use salesops::config::Settings;
use salesops::redact::clean;

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Also pull the source once, as `run` would (nothing is written,
    /// stored or sent), and show each team's members as matched against
    /// the CRM data, the reps in no team and the configured members that
    /// match no rep.
    #[arg(long)]
    pub pull: bool,
}

pub fn check(args: CheckArgs) -> Result<i32> {
    let (s, origin) = super::settings(&args.config)?;
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
    let team_slack = s.team_chat.iter().any(|c| !c.slack_channels.is_empty());
    if team_slack || s.reports.iter().any(|r| !r.slack_channels.is_empty()) {
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
    hooks.extend(s.team_chat.iter().flat_map(|c| &c.msteams));
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
        if r.fan_out == salesops::config::FanOut::Teams {
            println!(
                "    fan_out = \"teams\": also one report per team, to the team's manager and channels{}",
                match r.team_cc.as_slice() {
                    [] => String::new(),
                    cc => format!(", cc {} (team_cc)", cc.join(", ")),
                }
            );
        }
    }
    print!("{}", teams_listing(&s, args.pull));
    println!("next fires (salesops schedules):");
    print!("{}", super::schedules::listing(&s, now, 5));
    if args.pull {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let today = now.with_timezone(&s.tz).date_naive();
        let pulled = rt
            .block_on(salesops::source::pull(&s, &origin, today))
            .context("pulling the CRM data")?;
        println!("pulled {}", clean(&pulled.description, false));
        print!("{}", matching(&s, &pulled.snapshot)?);
    }
    Ok(0)
}

/// Each `[[teams]]` entry as configured: its manager, its members (or
/// that the CRM's team field gives them) and its own channels.
fn teams_listing(s: &Settings, pulled: bool) -> String {
    let fans_out = s
        .reports
        .iter()
        .any(|r| r.fan_out == salesops::config::FanOut::Teams);
    let mut out = String::new();
    if s.teams.is_empty() {
        if fans_out {
            out.push_str("  teams: none in the config; a report with fan_out = \"teams\" makes one per team of the CRM data");
            out.push_str(if pulled {
                " (below)\n"
            } else {
                " (salesops check --pull lists them)\n"
            });
        }
        return out;
    }
    out.push_str(&format!(
        "  teams in the config ({}){}:\n",
        s.teams.len(),
        if pulled {
            ", matched against the CRM data below"
        } else {
            "; to see them matched against the CRM data (members that match no rep, reps in no team), run salesops check --pull"
        }
    ));
    for (t, chat) in s.teams.iter().zip(&s.team_chat) {
        let manager = match &t.manager {
            Some(m) => format!("manager {m}"),
            None => "no manager (its report is written, not emailed)".to_string(),
        };
        let members = if t.members.is_empty() {
            format!(
                "members: the reps whose CRM team is {:?} (letter case ignored)",
                t.name
            )
        } else {
            format!("members {}", t.members.join(", "))
        };
        let mut channels: Vec<String> = chat
            .slack_channels
            .iter()
            .map(|c| format!("slack:{c}"))
            .collect();
        channels.extend(chat.msteams.iter().map(|m| format!("msteams:{m}")));
        let channels = match channels.as_slice() {
            [] => String::new(),
            c => format!("; posts to {}", c.join(", ")),
        };
        out.push_str(&format!("    {}: {manager}; {members}{channels}\n", t.name));
    }
    out
}

/// The teams as a run finds them in `snap` (`metrics::scope::split`, the
/// same function): config teams, then CRM-only teams, then the reps in no
/// team, each rep with why it is in its team; and what each fan-out report
/// makes per run. A rep that two teams list is an error, as in a run.
fn matching(s: &Settings, snap: &salesops::snapshot::Snapshot) -> Result<String> {
    let teams =
        salesops::metrics::scope::split(snap, &s.teams).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = String::new();
    let named = teams.teams.iter().filter(|t| t.name.is_some()).count();
    if teams.teams.is_empty() {
        out.push_str("teams: none (neither [[teams]] nor the CRM data's team field names any)\n");
    } else {
        let none = teams
            .teams
            .iter()
            .zip(&teams.scopes)
            .find(|(t, _)| t.name.is_none())
            .map(|(_, sc)| sc.rep_indexes(snap).len())
            .unwrap_or(0);
        out.push_str(&format!(
            "teams as matched against the CRM data: {named} team{}, {none} rep{} in no team\n",
            if named == 1 { "" } else { "s" },
            if none == 1 { "" } else { "s" },
        ));
    }
    let key = |x: &str| x.trim().to_lowercase();
    for (t, scope) in teams.teams.iter().zip(&teams.scopes) {
        let reps = scope.rep_indexes(snap);
        let n = reps.len();
        let plural = if n == 1 { "" } else { "s" };
        let def = t.config_index.and_then(|i| s.teams.get(i));
        match (&t.name, def) {
            (Some(name), Some(_)) => out.push_str(&format!(
                "  {} (config; {}): {n} rep{plural}\n",
                clean(name, false),
                match &t.manager {
                    Some(m) => format!("manager {m}"),
                    None => "no manager: written, not emailed".into(),
                }
            )),
            (Some(name), None) => out.push_str(&format!(
                "  {} (CRM only; no manager: written, not emailed): {n} rep{plural}\n",
                clean(name, false)
            )),
            (None, _) => out.push_str(&format!("  reps in no team: {n}\n")),
        }
        for r in reps {
            let rep = &snap.reps[r as usize];
            let listed = def.is_some_and(|d| {
                d.members.iter().any(|m| {
                    m.trim() == rep.id || rep.email.as_deref().is_some_and(|e| key(e) == key(m))
                })
            });
            let why = if listed {
                "listed in members".to_string()
            } else {
                match rep.team.as_deref().filter(|n| !n.trim().is_empty()) {
                    Some(crm) => format!("CRM team {:?}", clean(crm, false)),
                    None => "no team in the CRM".to_string(),
                }
            };
            out.push_str(&format!(
                "    {}{} ({}): {why}\n",
                clean(&rep.name, false),
                rep.email
                    .as_deref()
                    .map(|e| format!(" <{}>", clean(e, false)))
                    .unwrap_or_default(),
                clean(&rep.id, false)
            ));
        }
        for (team, member) in &teams.unmatched {
            if t.name.as_deref() == Some(team.as_str()) {
                out.push_str(&format!(
                    "    member {member:?}: matches no rep in the CRM data (check its email or id)\n"
                ));
            }
        }
    }
    for r in &s.reports {
        if r.fan_out == salesops::config::FanOut::Teams {
            out.push_str(&format!(
                "report {:?} (fan_out = \"teams\") makes {} report{} a run: the organisation's and {named} team{}\n",
                r.name,
                named + 1,
                if named == 0 { "" } else { "s" },
                if named == 1 { "'s" } else { "s'" },
            ));
        }
    }
    Ok(out)
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
