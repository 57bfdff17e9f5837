//! `salesops bench`: the core's performance budget, measured. Generates a
//! canonical snapshot (default 1,000,000 deals, 5,000,000 activities,
//! 1,000,000 leads) into a temporary file, then times parsing and computing
//! all figures separately and reports peak memory. Not a test: numbers go
//! in docs/performance.md.

use anyhow::Result;
use clap::Args;
use salesops::config::Settings;
use salesops::period::Period;
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
    /// Reuse (or keep) the generated snapshot at this path.
    #[arg(long)]
    pub file: Option<std::path::PathBuf>,
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
    println!(
        "snapshot {} ({:.0} MB)",
        path.display(),
        std::fs::metadata(&path)?.len() as f64 / 1e6
    );

    let settings = Settings::from_toml("timezone = \"Asia/Seoul\"")?;
    let t = Instant::now();
    let snap = salesops::source::file::read_file(&path, Default::default())?;
    let parse = t.elapsed();
    let t = Instant::now();
    let p = Period::parse("2026-07", 1)?;
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
    let f = salesops::metrics::compute(&snap, p, as_of, &settings.metrics, &[]);
    let compute = t.elapsed();
    println!(
        "{} deals, {} activities, {} leads → won {} in {}",
        snap.deals.len(),
        snap.activities.len(),
        snap.leads.len(),
        salesops::report::cents(f.kpis.won_revenue),
        f.period.label()
    );
    println!("parse   {:>8.3} s", parse.as_secs_f64());
    println!("compute {:>8.3} s", compute.as_secs_f64());
    println!(
        "peak memory {}",
        peak_memory().unwrap_or_else(|| "unknown".into())
    );
    Ok(0)
}

/// VmHWM (peak resident set) from /proc on Linux.
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!("{:.0} MiB", kb / 1024.0))
}

fn write_snapshot(path: &std::path::Path, a: &BenchArgs) -> Result<()> {
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut x: u64 = 0x9E37_79B9;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    write!(w, "{{\"currency\":\"USD\",\"reps\":[")?;
    for i in 0..a.reps {
        let sep = if i > 0 { "," } else { "" };
        write!(w, "{sep}{{\"id\":\"r{i}\",\"name\":\"Rep {i}\",\"email\":\"rep{i}@example.com\",\"start_date\":\"2024-0{}-01\"}}", 1 + i % 9)?;
    }
    write!(w, "],\"stages\":[")?;
    let stages = [
        ("s1", 0.1, false, false),
        ("s2", 0.2, false, false),
        ("s3", 0.4, false, false),
        ("s4", 0.6, false, false),
        ("s5", 0.8, false, false),
        ("won", 1.0, true, true),
        ("lost", 0.0, true, false),
    ];
    for (i, (id, p, c, won)) in stages.iter().enumerate() {
        let sep = if i > 0 { "," } else { "" };
        write!(w, "{sep}{{\"id\":\"{id}\",\"label\":\"{id}\",\"probability\":{p},\"order\":{i},\"closed\":{c},\"won\":{won}}}")?;
    }
    write!(w, "],\"deals\":[")?;
    let cats = ["commit", "best_case", "pipeline", "omitted"];
    for i in 0..a.deals {
        let sep = if i > 0 { "," } else { "" };
        let day = rnd(730);
        let created = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()
            + chrono::Duration::days(day as i64);
        let close = created + chrono::Duration::days(10 + rnd(120) as i64);
        let stage = stages[rnd(7) as usize].0;
        write!(
            w,
            "{sep}{{\"id\":\"d{i}\",\"name\":\"Deal {i}\",\"owner\":\"r{}\",\"amount\":{}.{:02},\"stage\":\"{stage}\",\"created_at\":\"{created}T{:02}:{:02}:00Z\",\"close_date\":\"{close}\",\"forecast_category\":\"{}\"}}",
            rnd(a.reps as u64), 500 + rnd(50_000), rnd(100), rnd(24), rnd(60), cats[rnd(4) as usize]
        )?;
    }
    write!(w, "],\"activities\":[")?;
    let kinds = [
        "call",
        "meeting",
        "email",
        "social",
        "task",
        "internal_meeting",
        "admin",
        "training",
    ];
    for i in 0..a.activities {
        let sep = if i > 0 { "," } else { "" };
        let at = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()
            + chrono::Duration::days(rnd(730) as i64);
        write!(
            w,
            "{sep}{{\"id\":\"a{i}\",\"owner\":\"r{}\",\"kind\":\"{}\",\"at\":\"{at}T{:02}:{:02}:00Z\",\"duration_minutes\":{}}}",
            rnd(a.reps as u64), kinds[rnd(8) as usize], rnd(24), rnd(60), rnd(90)
        )?;
    }
    write!(w, "],\"leads\":[")?;
    for i in 0..a.leads {
        let sep = if i > 0 { "," } else { "" };
        let c = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()
            + chrono::Duration::days(rnd(730) as i64);
        write!(
            w,
            "{sep}{{\"id\":\"l{i}\",\"owner\":\"r{}\",\"created_at\":\"{c}T10:00:00Z\",\"first_response_at\":\"{c}T{:02}:{:02}:00Z\",\"score_events\":[{{\"kind\":\"email_open\",\"at\":\"{c}T12:00:00Z\"}},{{\"kind\":\"pricing_page_visit\",\"at\":\"{c}T13:00:00Z\"}}]}}",
            rnd(a.reps as u64), 10 + rnd(12), rnd(60)
        )?;
    }
    write!(w, "]}}")?;
    w.flush()?;
    Ok(())
}
