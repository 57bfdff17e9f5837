//! Operating signals: Prometheus metrics of runs, deliveries and CRM
//! requests; the liveness and readiness of `serve` (`health`); and the
//! HTTP listener that answers /healthz, /readyz and /metrics (`server`).
//! `salesops run --metrics-file` writes the same metrics to a file for
//! node_exporter's textfile collector (`write_file`).
//!
//! The app, the connectors' HTTP client and delivery report what happened
//! through the small functions below; nothing here decides anything about
//! a run, and the figures never come through here. The registry is one per
//! process, as in every Prometheus client: the counters belong to the
//! process, not to a run, and passing a handle through connectors and
//! delivery would change every signature on the way for nothing.
//!
//! Label values are bounded: report and source names from the config,
//! team names (the config's and the CRM's: a handful per organisation),
//! fixed words and HTTP status codes. Never an address, an id, a period
//! or anything secret.

pub mod health;
pub mod server;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

/// `Content-Type` of /metrics: the text exposition format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of `salesops_report_duration_seconds`: a run pulls a CRM
/// (seconds to tens of minutes), computes and sends.
const DURATION_BUCKETS: &[f64] = &[
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0,
];

/// The trigger and outcome words of the run log (`app::Trigger`,
/// `history`), which the run counter is labelled with.
pub const OUTCOMES: [&str; 3] = ["ok", "partial", "failed"];
/// What became of one recipient: the words of the run log's recipients.
pub const DELIVERY_OUTCOMES: [&str; 3] = ["sent", "already", "failed"];

/// Every metric family salesops exports.
pub struct Metrics {
    registry: Registry,
    runs: IntCounterVec,
    last_success: GaugeVec,
    next_fire: GaugeVec,
    duration: HistogramVec,
    deliveries: IntCounterVec,
    crm_requests: IntCounterVec,
    crm_throttled: IntCounterVec,
    snapshot_rows: IntGaugeVec,
}

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid metric");
    r.register(Box::new(c.clone())).expect("registered once");
    c
}

fn gauge(r: &Registry, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
    let g = GaugeVec::new(Opts::new(name, help), labels).expect("a valid metric");
    r.register(Box::new(g.clone())).expect("registered once");
    g
}

impl Metrics {
    pub fn new() -> Metrics {
        let r = Registry::new();
        let build = IntGauge::with_opts(
            Opts::new(
                "salesops_build_info",
                "The salesops version running; always 1.",
            )
            .const_label("version", env!("CARGO_PKG_VERSION")),
        )
        .expect("a valid metric");
        build.set(1);
        r.register(Box::new(build)).expect("registered once");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "salesops_report_duration_seconds",
                "How long a report's run took, pull to delivery.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
            &["report"],
        )
        .expect("a valid metric");
        r.register(Box::new(duration.clone()))
            .expect("registered once");
        let snapshot_rows = IntGaugeVec::new(
            Opts::new(
                "salesops_snapshot_rows",
                "Records of each kind in the last pull of the source.",
            ),
            &["source", "kind"],
        )
        .expect("a valid metric");
        r.register(Box::new(snapshot_rows.clone()))
            .expect("registered once");
        Metrics {
            runs: counter(
                &r,
                "salesops_report_runs_total",
                "Report runs that ended, by what started them and how they ended (ok, partial, failed).",
                &["report", "team", "trigger", "outcome"],
            ),
            last_success: gauge(
                &r,
                "salesops_report_last_success_timestamp_seconds",
                "When a run of the report last ended ok (Unix time), as the state store records it.",
                &["report", "team"],
            ),
            next_fire: gauge(
                &r,
                "salesops_report_next_fire_timestamp_seconds",
                "When the report's schedule fires next (Unix time).",
                &["report"],
            ),
            duration,
            deliveries: counter(
                &r,
                "salesops_deliveries_total",
                "Recipients of a report by channel and outcome (sent, already: had it for the period, failed).",
                &["report", "channel", "outcome"],
            ),
            crm_requests: counter(
                &r,
                "salesops_crm_requests_total",
                "HTTP requests to the CRM API, by HTTP status (\"error\": no answer).",
                &["source", "status"],
            ),
            crm_throttled: counter(
                &r,
                "salesops_crm_throttled_total",
                "CRM answers that asked salesops to slow down (rate limit).",
                &["source"],
            ),
            snapshot_rows,
            registry: r,
        }
    }

    /// The metrics in the text exposition format; with the process's own
    /// (CPU, memory, file descriptors, start time) when `process`.
    pub fn render(&self, process: bool) -> String {
        let mut families = self.registry.gather();
        if process {
            families.extend(PROCESS.gather());
        }
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&families, &mut buf)
            .expect("metrics of valid names encode");
        String::from_utf8(buf).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process collector, apart: a metrics file describes a process that
/// has exited, and node_exporter exports its own `process_*` metrics.
static PROCESS: LazyLock<Registry> = LazyLock::new(|| {
    let r = Registry::new();
    #[cfg(target_os = "linux")]
    r.register(Box::new(
        prometheus::process_collector::ProcessCollector::for_self(),
    ))
    .expect("registered once");
    r
});

/// This process's metrics.
pub fn global() -> &'static Metrics {
    &METRICS
}

fn secs(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

/// A report's run ended (`app::runlog`, once per report per run; dry runs
/// are not counted). `team` is "" for the organisation's report, the
/// team's name for a run that made one team's report alone (`run --team`).
pub fn report_run(
    report: &str,
    team: &str,
    trigger: &str,
    outcome: &str,
    took: Duration,
    finished_at: DateTime<Utc>,
) {
    let m = global();
    m.runs
        .with_label_values(&[report, team, trigger, outcome])
        .inc();
    m.duration
        .with_label_values(&[report])
        .observe(took.as_secs_f64());
    if outcome == "ok" {
        last_success(report, team, finished_at);
    }
}

/// A team's report, made by its report's run (`fan_out = "teams"`),
/// ended: counted apart from that run, under the team's name (the run
/// itself counts once, under team "", with its teams' outcomes in its
/// own). Its duration is its report's run's.
pub fn team_run(
    report: &str,
    team: &str,
    trigger: &str,
    outcome: &str,
    finished_at: DateTime<Utc>,
) {
    global()
        .runs
        .with_label_values(&[report, team, trigger, outcome])
        .inc();
    if outcome == "ok" {
        last_success(report, team, finished_at);
    }
}

/// When a run of the report last ended ok (also read back from the state
/// store at start, so the gauge survives restarts).
pub fn last_success(report: &str, team: &str, at: DateTime<Utc>) {
    let g = global().last_success.with_label_values(&[report, team]);
    g.set(g.get().max(secs(at)));
}

/// The report's schedule fires next at `at`.
pub fn next_fire(report: &str, at: DateTime<Utc>) {
    global()
        .next_fire
        .with_label_values(&[report])
        .set(secs(at));
}

/// One report's delivery ended: recipients counted by outcome.
pub fn deliveries(report: &str, channel: &str, sent: usize, already: usize, failed: usize) {
    let m = global();
    for (outcome, n) in DELIVERY_OUTCOMES.iter().zip([sent, already, failed]) {
        m.deliveries
            .with_label_values(&[report, channel, outcome])
            .inc_by(n as u64);
    }
}

/// One HTTP request to a CRM API got `status`, or no answer (None).
pub fn crm_request(source: &str, status: Option<u16>) {
    let status = status.map_or_else(|| "error".to_string(), |s| s.to_string());
    global()
        .crm_requests
        .with_label_values(&[source, &status])
        .inc();
}

/// The CRM asked to slow down (429, or the vendor's own way of saying it).
pub fn crm_throttled(source: &str) {
    global().crm_throttled.with_label_values(&[source]).inc();
}

/// What the last pull of `source` gave.
pub fn snapshot_rows(source: &str, s: &crate::snapshot::Snapshot) {
    let g = &global().snapshot_rows;
    for (kind, n) in [
        ("reps", s.reps.len()),
        ("stages", s.stages.len()),
        ("deals", s.deals.len()),
        ("activities", s.activities.len()),
        ("leads", s.leads.len()),
    ] {
        g.with_label_values(&[source, kind]).set(n as i64);
    }
}

/// Creates the series a run of these reports may move, at 0, so the first
/// failure is an increase Prometheus can see (`increase()` needs a sample
/// before it). `channel`: the delivery channel of reports with recipients
/// (a team's report counts under its report).
pub fn expect_runs(reports: &[&crate::config::ReportSettings], triggers: &[&str], channel: &str) {
    let m = global();
    for r in reports {
        for t in triggers {
            for o in OUTCOMES {
                m.runs.with_label_values(&[&r.name, "", t, o]);
            }
        }
        let teams = r.fan_out == crate::config::FanOut::Teams;
        if teams || r.recipients().next().is_some() {
            for o in DELIVERY_OUTCOMES {
                m.deliveries.with_label_values(&[&r.name, channel, o]);
            }
        }
    }
}

/// Creates `salesops_crm_throttled_total{source}` at 0.
pub fn expect_source(source: &str) {
    global().crm_throttled.with_label_values(&[source]);
}

/// Reads when each of `reports` (and each of their team reports) last
/// ended ok from the state store in
/// `state_dir`, if there is one (read only; it is never created here). So
/// the gauge survives restarts and shows runs of other processes (a manual
/// `salesops run`) too.
pub fn load_last_successes<S: AsRef<str>>(state_dir: &Path, reports: &[S]) -> Result<()> {
    let Some(mut store) = crate::state::Store::open_read_only(state_dir)? else {
        return Ok(());
    };
    for (report, team, at) in store.last_successes()? {
        if reports.iter().any(|r| r.as_ref() == report) {
            last_success(&report, &team, at);
        }
    }
    Ok(())
}

/// Writes the metrics (without the process's) to `path` atomically: a
/// temporary file in the same folder, renamed over it, readable by the
/// node_exporter user. node_exporter reads only `*.prom` files, so the
/// temporary one is never half-read.
pub fn write_file(path: &Path) -> Result<()> {
    let text = global().render(false);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".salesops-metrics-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("cannot write in {}", dir.display()))?;
    }
    std::io::Write::write_all(&mut tmp, text.as_bytes())
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.as_file().sync_all().ok();
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_named_by_the_conventions() {
        let m = Metrics::new();
        m.runs
            .with_label_values(&["monthly", "", "schedule", "ok"])
            .inc();
        m.duration.with_label_values(&["monthly"]).observe(3.0);
        m.crm_requests.with_label_values(&["hubspot", "429"]).inc();
        let text = m.render(false);
        for want in [
            "# TYPE salesops_report_runs_total counter",
            "salesops_report_runs_total{outcome=\"ok\",report=\"monthly\",team=\"\",trigger=\"schedule\"} 1",
            "# TYPE salesops_report_duration_seconds histogram",
            "salesops_report_duration_seconds_bucket{report=\"monthly\",le=\"5\"} 1",
            "salesops_report_duration_seconds_count{report=\"monthly\"} 1",
            "salesops_crm_requests_total{source=\"hubspot\",status=\"429\"} 1",
            "salesops_build_info{version=\"",
        ] {
            assert!(text.contains(want), "{want:?} not in:\n{text}");
        }
        assert!(!text.contains("process_"), "{text}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_process_metrics_come_with_serve() {
        let text = Metrics::new().render(true);
        for want in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
            "process_start_time_seconds",
        ] {
            assert!(text.contains(want), "{want:?} not in:\n{text}");
        }
    }

    #[test]
    fn the_metrics_file_replaces_the_old_one_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("salesops.prom");
        std::fs::write(&path, "old").unwrap();
        write_file(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# TYPE salesops_build_info gauge"), "{text}");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["salesops.prom"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }
}
