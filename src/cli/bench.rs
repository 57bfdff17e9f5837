//! `salesops bench`: the core's performance budget, measured. Generates a
//! canonical snapshot (default 1,000,000 deals, 5,000,000 activities,
//! 1,000,000 leads) into a temporary file, then times parsing and computing
//! all figures separately and reports throughput and peak memory. Not a
//! test: numbers go in docs/performance.md.
//!
//! The default `--shape full` is what real exports look like, not the
//! friendliest JSON: millisecond timestamps and `+09:00` offsets, amounts as
//! numbers and as strings, non-ASCII names (some `\u`-escaped, as Python
//! writes them), unknown extra fields, keys in varying order, deal history,
//! types, activity deal links and rep teams. `--shape simple` is the shape
//! of the first benchmark (every key in one order, `…Z` seconds only).

use anyhow::Result;
use clap::{Args, ValueEnum};
use salesops::config::Settings;
use salesops::period::Period;
use std::fmt::Write as _;
use std::io::Write;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[arg(long, default_value_t = 1_000_000)]
    pub deals: usize,
    #[arg(long, default_value_t = 5_000_000)]
    pub activities: usize,
    #[arg(long, default_value_t = 1_000_000)]
    pub leads: usize,
    #[arg(long, default_value_t = 500)]
    pub reps: usize,
    /// What the generated snapshot looks like.
    #[arg(long, value_enum, default_value_t = Shape::Full)]
    pub shape: Shape,
    /// Sales teams in the config the figures are computed with (their
    /// members split the reps by id); each gets its whole report.
    #[arg(long, default_value_t = 50)]
    pub teams: usize,
    /// Reuse (or keep) the generated snapshot at this path.
    #[arg(long)]
    pub file: Option<std::path::PathBuf>,
    /// Stop after the parse (to profile the reader alone).
    #[arg(long)]
    pub parse_only: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, ValueEnum)]
pub enum Shape {
    /// Real exports: varied forms, extra fields, history, links.
    Full,
    /// The first benchmark's shape: one key order, `…Z` seconds only.
    Simple,
}

pub fn bench(a: BenchArgs) -> Result<i32> {
    let dir = tempfile::tempdir()?;
    let path = a
        .file
        .clone()
        .unwrap_or_else(|| dir.path().join("snapshot.json"));
    if !path.exists() {
        let t = Instant::now();
        write_snapshot(&path, &a)?;
        println!(
            "generated in {:.1} s (not measured)",
            t.elapsed().as_secs_f64()
        );
    }
    let bytes = std::fs::metadata(&path)?.len() as f64;
    println!("snapshot {} ({:.0} MB)", path.display(), bytes / 1e6);

    let settings = Settings::from_toml(&bench_config(a.reps, a.teams))?;
    let before = Usage::now();
    let t = Instant::now();
    let snap = salesops::source::file::read_file(&path, Default::default())?;
    let parse = t.elapsed();
    let parse_line = format!(
        "parse   {:>8.3} s  {:>6.0} MB/s{}",
        parse.as_secs_f64(),
        bytes / 1e6 / parse.as_secs_f64(),
        Usage::since(before)
    );
    if a.parse_only {
        println!("{parse_line}");
        std::mem::forget(snap);
        return Ok(0);
    }
    let t = Instant::now();
    let p = Period::parse("2026-07", 1)?;
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
    let engine = salesops::metrics::Engine::new(&snap, &settings.metrics);
    let f = engine.report(&salesops::metrics::Scope::all(), p, as_of, &[]);
    let compute = t.elapsed();
    // Every team: one split of the snapshot, the organisation's teams rows,
    // then each team's whole report (what fan_out = "teams" computes).
    let t = Instant::now();
    let mut teams =
        salesops::metrics::scope::split(&snap, &settings.teams).map_err(anyhow::Error::msg)?;
    let split = t.elapsed();
    let rows = engine.team_rows(&teams, p, as_of);
    let team_rows = t.elapsed();
    let t = Instant::now();
    teams.list_records(&snap);
    let listed = t.elapsed();
    for scope in &teams.scopes {
        std::hint::black_box(engine.report(scope, p, as_of, &[]));
    }
    let team_reports = t.elapsed();
    println!(
        "{} deals ({} history entries), {} activities, {} leads → won {} in {}",
        snap.deals.len(),
        snap.changes.len(),
        snap.activities.len(),
        snap.leads.len(),
        salesops::report::cents(f.kpis.won_revenue),
        f.period.label()
    );
    println!("{parse_line}");
    println!(
        "compute {:>8.3} s  (the organisation's report: every KPI, {} goals, a {}-period track record{})",
        compute.as_secs_f64(),
        f.goals.len(),
        f.track_record.periods.len(),
        if snap.changes.is_empty() { "" } else { " rebuilt from history" }
    );
    println!(
        "teams   {:>8.3} s  (split into {} teams: {:.3} s, and their rows) + {:.3} s (their activities and leads listed: {:.3} s, then each team's whole report)",
        team_rows.as_secs_f64(),
        rows.len(),
        split.as_secs_f64(),
        team_reports.as_secs_f64(),
        listed.as_secs_f64()
    );
    // What a run pays at its end unless it skips freeing the snapshot.
    let t = Instant::now();
    drop(snap);
    println!("drop    {:>8.3} s", t.elapsed().as_secs_f64());
    println!(
        "peak memory {}",
        peak_memory().unwrap_or_else(|| "unknown".into())
    );
    Ok(0)
}

/// The settings the bench computes with: the vectors' roles, three goals
/// (one on an explicit quarter), and `teams` teams splitting the reps by id.
fn bench_config(reps: usize, teams: usize) -> String {
    let mut c = String::from(
        "timezone = \"Asia/Seoul\"\n\
         [[goals]]\nmetric = \"win_rate\"\nchange = 0.05\n\
         [[goals]]\nmetric = \"won_revenue\"\ntarget = 5000000\n\
         [[goals]]\nmetric = \"sales_cycle_days_mean\"\nchange = -0.1\nbaseline = \"2026-Q2\"\n",
    );
    for t in 0..teams {
        let members: Vec<String> = (0..reps)
            .filter(|r| r % teams == t)
            .map(|r| format!("\"r{r}\""))
            .collect();
        c.push_str(&format!(
            "[[teams]]\nname = \"Team {t}\"\nmembers = [{}]\n",
            members.join(", ")
        ));
    }
    c
}

/// The process's CPU time and page faults so far. A parse's system time
/// and faults show what its fresh memory cost, which on a virtual machine
/// whose host takes back free pages moves from one run to the next.
#[derive(Clone, Copy)]
struct Usage {
    user: f64,
    system: f64,
    faults: i64,
}

impl Usage {
    fn now() -> Option<Usage> {
        #[cfg(unix)]
        {
            // SAFETY: getrusage only fills the struct it is given.
            let mut u: libc::rusage = unsafe { std::mem::zeroed() };
            if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
                return None;
            }
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            Some(Usage {
                user: secs(u.ru_utime),
                system: secs(u.ru_stime),
                faults: (u.ru_minflt + u.ru_majflt) as i64,
            })
        }
        #[cfg(not(unix))]
        None
    }

    /// `  (CPU 3.41 s user + 0.80 s system, 341,002 page faults)` since
    /// `before`; empty where it cannot be told.
    fn since(before: Option<Usage>) -> String {
        match (before, Usage::now()) {
            (Some(a), Some(b)) => format!(
                "  (CPU {:.2} s user + {:.2} s system, {} page faults)",
                b.user - a.user,
                b.system - a.system,
                salesops::source::thousands((b.faults - a.faults).max(0) as u64)
            ),
            _ => String::new(),
        }
    }
}

/// VmHWM (peak resident set) from /proc on Linux.
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!("{:.0} MiB", kb / 1024.0))
}

/// A seeded xorshift: the same file on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        let x = &mut self.0;
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x % n
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const STAGES: [(&str, f64, bool, bool); 7] = [
    ("s1", 0.1, false, false),
    ("s2", 0.2, false, false),
    ("s3", 0.4, false, false),
    ("s4", 0.6, false, false),
    ("s5", 0.8, false, false),
    ("won", 1.0, true, true),
    ("lost", 0.0, true, false),
];
const CATEGORIES: [&str; 4] = ["commit", "best_case", "pipeline", "omitted"];
const KINDS: [&str; 8] = [
    "call",
    "meeting",
    "email",
    "social",
    "task",
    "internal_meeting",
    "admin",
    "training",
];

fn write_snapshot(path: &std::path::Path, a: &BenchArgs) -> Result<()> {
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut rng = Rng(0x9E37_79B9);
    match a.shape {
        Shape::Simple => write_simple(&mut w, a, &mut rng)?,
        Shape::Full => Full::new(a).write(&mut w, &mut rng)?,
    }
    w.flush()?;
    Ok(())
}

fn day(rng: &mut Rng) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()
        + chrono::Duration::days(rng.below(730) as i64)
}

fn write_simple(w: &mut impl Write, a: &BenchArgs, rng: &mut Rng) -> Result<()> {
    write!(w, "{{\"currency\":\"USD\",\"reps\":[")?;
    for i in 0..a.reps {
        let sep = if i > 0 { "," } else { "" };
        write!(w, "{sep}{{\"id\":\"r{i}\",\"name\":\"Rep {i}\",\"email\":\"rep{i}@example.com\",\"start_date\":\"2024-0{}-01\"}}", 1 + i % 9)?;
    }
    write!(w, "],\"stages\":[")?;
    for (i, (id, p, c, won)) in STAGES.iter().enumerate() {
        let sep = if i > 0 { "," } else { "" };
        write!(w, "{sep}{{\"id\":\"{id}\",\"label\":\"{id}\",\"probability\":{p},\"order\":{i},\"closed\":{c},\"won\":{won}}}")?;
    }
    write!(w, "],\"deals\":[")?;
    for i in 0..a.deals {
        let sep = if i > 0 { "," } else { "" };
        let created = day(rng);
        let close = created + chrono::Duration::days(10 + rng.below(120) as i64);
        let stage = STAGES[rng.below(7) as usize].0;
        write!(
            w,
            "{sep}{{\"id\":\"d{i}\",\"name\":\"Deal {i}\",\"owner\":\"r{}\",\"amount\":{}.{:02},\"stage\":\"{stage}\",\"created_at\":\"{created}T{:02}:{:02}:00Z\",\"close_date\":\"{close}\",\"forecast_category\":\"{}\"}}",
            rng.below(a.reps as u64), 500 + rng.below(50_000), rng.below(100), rng.below(24), rng.below(60), CATEGORIES[rng.below(4) as usize]
        )?;
    }
    write!(w, "],\"activities\":[")?;
    for i in 0..a.activities {
        let sep = if i > 0 { "," } else { "" };
        let at = day(rng);
        write!(
            w,
            "{sep}{{\"id\":\"a{i}\",\"owner\":\"r{}\",\"kind\":\"{}\",\"at\":\"{at}T{:02}:{:02}:00Z\",\"duration_minutes\":{}}}",
            rng.below(a.reps as u64), KINDS[rng.below(8) as usize], rng.below(24), rng.below(60), rng.below(90)
        )?;
    }
    write!(w, "],\"leads\":[")?;
    for i in 0..a.leads {
        let sep = if i > 0 { "," } else { "" };
        let c = day(rng);
        write!(
            w,
            "{sep}{{\"id\":\"l{i}\",\"owner\":\"r{}\",\"created_at\":\"{c}T10:00:00Z\",\"first_response_at\":\"{c}T{:02}:{:02}:00Z\",\"score_events\":[{{\"kind\":\"email_open\",\"at\":\"{c}T12:00:00Z\"}},{{\"kind\":\"pricing_page_visit\",\"at\":\"{c}T13:00:00Z\"}}]}}",
            rng.below(a.reps as u64), 10 + rng.below(12), rng.below(60)
        )?;
    }
    write!(w, "]}}")?;
    Ok(())
}

const NAMES: [&str; 8] = [
    "Kim Min-ji",
    "김민지",
    "José Álvarez",
    "Zoë Müller",
    "Søren Ødegård",
    "山田 花子",
    "Nguyễn Văn An",
    "Amélie Laurent",
];
const TEAMS: [&str; 4] = [
    "Seoul Enterprise",
    "Tokyo SMB",
    "Berlin Mid-Market",
    "São Paulo",
];
const ACCOUNTS: [&str; 6] = [
    "Acme renewal",
    "Müller GmbH — Erweiterung",
    "株式会社サンプル 追加契約",
    "Société Générale pilot",
    "삼성 파일럿",
    "O'Brien & Sons \"Q3\" upsell",
];
const TYPES: [&str; 4] = ["new_business", "upsell", "cross_sell", "renewal"];
const OUTCOMES: [&str; 5] = [
    "completed",
    "COMPLETED",
    "no-show",
    "canceled",
    "left voicemail",
];
const EVENTS: [&str; 4] = [
    "email_open",
    "pricing_page_visit",
    "demo_request",
    "webinar",
];

/// The full shape: one record at a time, its fields gathered as text and
/// written in one of several key orders.
struct Full<'a> {
    a: &'a BenchArgs,
    fields: Vec<(&'static str, String)>,
    used: usize,
}

impl<'a> Full<'a> {
    fn new(a: &'a BenchArgs) -> Full<'a> {
        Full {
            a,
            fields: Vec::new(),
            used: 0,
        }
    }

    /// Starts a field; its value is written into the returned buffer.
    fn field(&mut self, key: &'static str) -> &mut String {
        if self.used == self.fields.len() {
            self.fields.push((key, String::new()));
        }
        let f = &mut self.fields[self.used];
        f.0 = key;
        f.1.clear();
        self.used += 1;
        &mut f.1
    }

    fn text(&mut self, key: &'static str, value: &str) {
        let b = self.field(key);
        b.push('"');
        b.push_str(value);
        b.push('"');
    }

    /// Writes the gathered record, keys rotated by a random amount (the
    /// id first in most records, as exporters tend to write it).
    fn record(&mut self, w: &mut impl Write, rng: &mut Rng, first: bool) -> Result<()> {
        let n = self.used;
        let shift = if rng.chance(60) {
            0
        } else {
            rng.below(n as u64) as usize
        };
        w.write_all(if first { b"{" } else { b",{" })?;
        for k in 0..n {
            let (key, value) = &self.fields[(k + shift) % n];
            if k > 0 {
                w.write_all(b",")?;
            }
            write!(w, "\"{key}\":{value}")?;
        }
        w.write_all(b"}")?;
        self.used = 0;
        Ok(())
    }

    fn write(&mut self, w: &mut impl Write, rng: &mut Rng) -> Result<()> {
        let a = self.a;
        write!(w, "{{\"currency\":\"USD\",\"reps\":[")?;
        for i in 0..a.reps {
            self.text("id", &format!("r{i}"));
            self.text("name", &format!("{} {i}", rng.pick(&NAMES)));
            self.text("email", &format!("rep{i}@example.com"));
            self.text("start_date", &format!("2024-0{}-01", 1 + i % 9));
            if rng.chance(90) {
                self.text("team", rng.pick(&TEAMS));
            }
            if i % 50 == 7 {
                self.field("active").push_str("false");
            }
            write!(self.field("hs_user_id"), "{}", 4_000_000 + i)?;
            self.record(w, rng, i == 0)?;
        }
        write!(w, "],\"stages\":[")?;
        for (i, (id, p, c, won)) in STAGES.iter().enumerate() {
            let sep = if i > 0 { "," } else { "" };
            write!(w, "{sep}{{\"id\":\"{id}\",\"label\":\"{id}\",\"probability\":{p},\"order\":{i},\"closed\":{c},\"won\":{won},\"pipeline\":\"default\"}}")?;
        }
        write!(w, "],\"deals\":[")?;
        for i in 0..a.deals {
            self.deal(rng, i)?;
            self.record(w, rng, i == 0)?;
        }
        write!(w, "],\"activities\":[")?;
        for i in 0..a.activities {
            self.activity(rng, i)?;
            self.record(w, rng, i == 0)?;
        }
        write!(w, "],\"leads\":[")?;
        for i in 0..a.leads {
            self.lead(rng, i)?;
            self.record(w, rng, i == 0)?;
        }
        write!(w, "]}}")?;
        Ok(())
    }

    fn deal(&mut self, rng: &mut Rng, i: usize) -> Result<()> {
        let reps = self.a.reps as u64;
        self.text("id", &format!("{}", 18_000_000_000u64 + i as u64));
        let name = format!("{} {i}", rng.pick(&ACCOUNTS));
        let name = if rng.chance(10) {
            ascii_escaped(&name)
        } else {
            name.replace('"', "\\\"")
        };
        self.text("name", &name);
        self.text("owner", &format!("r{}", rng.below(reps)));
        let created = day(rng);
        let secs = rng.below(86_400);
        let created_at = timestamp(rng, created, secs);
        self.text("created_at", &created_at);
        let close = created + chrono::Duration::days(10 + rng.below(120) as i64);
        if rng.chance(85) {
            self.text("close_date", &close.to_string());
        } else {
            self.text("close_date", &format!("{close}T00:00:00.000Z"));
        }
        let stage = STAGES[rng.below(7) as usize].0;
        self.text("stage", stage);
        let amount = amount(rng);
        self.field("amount").push_str(&amount);
        if rng.chance(90) {
            self.text("forecast_category", rng.pick(&CATEGORIES));
        }
        if rng.chance(80) {
            self.text("type", rng.pick(&TYPES));
        }
        // A few history entries: how the deal was created, then changes.
        let entries = rng.below(4) as i64;
        if entries > 0 {
            let h = self.field("history");
            h.push('[');
            write!(
                h,
                "{{\"at\":\"{created_at}\",\"stage\":\"s1\",\"amount\":{},\"close_date\":\"{}\",\"forecast_category\":\"pipeline\"}}",
                500 + i % 9000,
                close + chrono::Duration::days(30)
            )?;
            for e in 1..entries {
                let at = created + chrono::Duration::days(3 * e);
                let at = timestamp(rng, at, secs);
                let stage = STAGES[(e as usize).min(4)].0;
                match rng.below(3) {
                    0 => write!(h, ",{{\"at\":\"{at}\",\"stage\":\"{stage}\"}}")?,
                    1 => write!(h, ",{{\"amount\":{},\"at\":\"{at}\"}}", amount)?,
                    _ => write!(
                        h,
                        ",{{\"at\":\"{at}\",\"close_date\":\"{close}\",\"forecast_category\":\"commit\",\"stage\":\"{stage}\"}}"
                    )?,
                }
            }
            h.push(']');
        }
        if rng.chance(50) {
            self.text("pipeline", "default");
        }
        if rng.chance(20) {
            write!(
                self.field("associations"),
                "{{\"companies\":[{}],\"contacts\":[{},{}]}}",
                rng.below(1 << 30),
                rng.below(1 << 30),
                rng.below(1 << 30)
            )?;
        }
        Ok(())
    }

    fn activity(&mut self, rng: &mut Rng, i: usize) -> Result<()> {
        let reps = self.a.reps as u64;
        self.text("id", &format!("a{}", 70_000_000 + i));
        self.text("owner", &format!("r{}", rng.below(reps)));
        self.text("kind", rng.pick(&KINDS));
        let d = day(rng);
        let secs = rng.below(86_400);
        let at = timestamp(rng, d, secs);
        self.text("at", &at);
        if rng.chance(70) {
            write!(self.field("duration_minutes"), "{}", rng.below(90))?;
        } else if rng.chance(30) {
            write!(self.field("duration_minutes"), "\"{}\"", rng.below(90))?;
        }
        if rng.chance(40) {
            self.text("outcome", rng.pick(&OUTCOMES));
        }
        if rng.chance(70) && self.a.deals > 0 {
            let deal = rng.below(self.a.deals as u64);
            self.text("deal_id", &format!("{}", 18_000_000_000u64 + deal));
        }
        if rng.chance(30) {
            self.text("hs_timestamp", &at);
        }
        if rng.chance(10) {
            self.text("subject", "Follow-up: pricing · 가격 문의");
        }
        Ok(())
    }

    fn lead(&mut self, rng: &mut Rng, i: usize) -> Result<()> {
        let reps = self.a.reps as u64;
        self.text("id", &format!("l{}", 30_000_000 + i));
        if rng.chance(90) {
            self.text("owner", &format!("r{}", rng.below(reps)));
        }
        let d = day(rng);
        let secs = rng.below(80_000);
        self.text("created_at", &timestamp(rng, d, secs));
        if rng.chance(80) {
            let later = secs + rng.below(6_000);
            let r = timestamp(rng, d, later);
            self.text("first_response_at", &r);
        }
        let events = rng.below(4);
        if events > 0 {
            let e = self.field("score_events");
            e.push('[');
            for k in 0..events {
                let sep = if k > 0 { "," } else { "" };
                write!(
                    e,
                    "{sep}{{\"kind\":\"{}\",\"at\":\"{d}T{:02}:00:00.000Z\"}}",
                    EVENTS[k as usize % 4],
                    10 + k
                )?;
            }
            e.push(']');
        }
        if rng.chance(30) {
            write!(self.field("score"), "{}", rng.below(100))?;
        }
        if rng.chance(50) {
            self.text("source", "Organic search");
        }
        Ok(())
    }
}

/// One of the forms exporters write: milliseconds `Z` (HubSpot), plain
/// seconds `Z`, or a `+09:00` offset.
fn timestamp(rng: &mut Rng, d: chrono::NaiveDate, secs: u64) -> String {
    let (h, m, s) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match rng.below(10) {
        0..=4 => format!("{d}T{h:02}:{m:02}:{s:02}.{:03}Z", rng.below(1000)),
        5..=7 => format!("{d}T{h:02}:{m:02}:{s:02}Z"),
        _ => format!("{d}T{h:02}:{m:02}:{s:02}+09:00"),
    }
}

/// A number with cents, a whole number, a string with cents, or null.
fn amount(rng: &mut Rng) -> String {
    let (units, cents) = (500 + rng.below(50_000), rng.below(100));
    match rng.below(20) {
        0..=9 => format!("{units}.{cents:02}"),
        10..=14 => format!("{units}"),
        15..=18 => format!("\"{units}.{cents:02}\""),
        _ => "null".into(),
    }
}

/// The name as Python's `json.dumps` writes it: non-ASCII as `\uXXXX`.
fn ascii_escaped(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out
}
