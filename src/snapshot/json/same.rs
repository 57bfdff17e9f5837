//! The fast path gives what the general path gives: the same snapshot
//! (compared through its full `Debug` text) or the same error, on the spec's
//! vectors and on seeded generated documents full of edge cases, each read
//! whole and cut into many small parts on several threads.

use super::fast::Plan;
use super::*;
use crate::snapshot::Snapshot;
use std::fmt::Write as _;

/// A read's result as text: the snapshot in full, or the error.
pub(super) fn outcome(r: &Result<Snapshot, LoadError>) -> String {
    match r {
        Ok(s) => format!("{s:#?}"),
        Err(e) => format!("error: {e}\n{e:?}"),
    }
}

const PLANS: [Plan; 4] = [
    Plan {
        threads: 1,
        chunk: usize::MAX / 4,
        least: 0,
    },
    Plan {
        threads: 2,
        chunk: 4096,
        least: 1500,
    },
    Plan {
        threads: 3,
        chunk: 700,
        least: 300,
    },
    Plan {
        threads: 2,
        chunk: 97,
        least: 64,
    },
];

/// Compares the two paths on `bytes` under every plan; returns how many
/// plans the fast path read itself, and the most parts it joined.
fn compare(bytes: &[u8], opts: LoadOptions) -> (usize, usize) {
    let want = outcome(&parse_general(bytes, opts));
    let (mut read, mut most) = (0, 0);
    for plan in PLANS {
        if let Some((got, parts)) = parse_fast(bytes, opts, plan) {
            let got = outcome(&got);
            if got != want {
                let at = got
                    .bytes()
                    .zip(want.bytes())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                panic!(
                    "{plan:?} differs at {at}:\nfast:    {}\ngeneral: {}\ninput: {}",
                    &got[at.saturating_sub(200)..(at + 200).min(got.len())],
                    &want[at.saturating_sub(200)..(at + 200).min(want.len())],
                    String::from_utf8_lossy(&bytes[..bytes.len().min(3000)])
                );
            }
            read += 1;
            most = most.max(parts);
        }
    }
    (read, most)
}

#[test]
fn vectors_read_the_same_on_both_paths() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vectors");
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !(name.starts_with("crm-") && name.ends_with(".json")) {
            continue;
        }
        files += 1;
        let bytes = std::fs::read(&path).unwrap();
        let (read, parts) = compare(&bytes, LoadOptions::default());
        assert_eq!(read, PLANS.len(), "{name}: the fast path gave up");
        assert!(parts > 100, "{name}: only {parts} parts joined");
        // The same file through `parse`, whichever path it takes.
        let s = parse(&bytes, LoadOptions::default()).unwrap();
        assert_eq!(
            format!("{s:?}"),
            format!(
                "{:?}",
                parse_general(&bytes, LoadOptions::default()).unwrap()
            )
        );
        // As `pull --save` writes it: keys sorted, so reps and stages last.
        let saved = serde_json::to_vec_pretty(&to_json(&s)).unwrap();
        let (read, _) = compare(&saved, LoadOptions::default());
        assert_eq!(read, PLANS.len(), "{name} saved: the fast path gave up");
    }
    assert!(files >= 2, "no vectors found");
}

/// A seeded generator of snapshot documents with the forms and mistakes
/// real exports have.
struct Gen {
    rng: fastrand::Rng,
    pretty: bool,
    /// Only valid values (the first two of each list) and unique ids.
    clean: bool,
}

impl Gen {
    /// One of `items`, the first two (the usual forms) half the time.
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let n = if self.rng.bool() && !self.clean {
            items.len()
        } else {
            2
        };
        items[self.rng.usize(..n.min(items.len()))]
    }

    fn sep(&mut self) -> &'static str {
        if self.pretty {
            ["\n  ", " ", "\t", "\r\n"][self.rng.usize(..4)]
        } else {
            ""
        }
    }

    /// A record: its fields in a random order, unknown fields mixed in.
    fn object(&mut self, mut fields: Vec<String>) -> String {
        if self.rng.u8(..4) == 0 {
            fields.push(self.pick(UNKNOWN).to_string());
        }
        self.rng.shuffle(&mut fields);
        let mut out = String::from("{");
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(self.sep());
            out.push_str(f);
        }
        out.push_str(self.sep());
        out.push('}');
        out
    }

    fn maybe(&mut self, fields: &mut Vec<String>, key: &str, values: &[&str]) {
        if self.clean || self.rng.u8(..16) != 0 {
            let v = self.pick(values);
            fields.push(format!("\"{key}\":{}{v}", self.sep()));
        }
    }

    fn id(&mut self, prefix: &str, i: usize, n: usize) -> String {
        if self.clean && prefix == "r" {
            return format!("\"id\":\"r{i}\"");
        }
        match self.rng.u8(if self.clean { 2..40 } else { 0..40 }) {
            0 => format!("\"id\":\"{prefix}{}\"", self.rng.usize(..n.max(1))), // a repeat
            1 => "\"id\":null".into(),
            2 => format!("\"id\":{}", 900 + i),
            3 => format!("\"id\":\"{prefix}\\u00e9{i}\""),
            _ => format!("\"id\":\"{prefix}{i}\""),
        }
    }

    fn list(&mut self, records: Vec<String>) -> String {
        if records.is_empty() && self.rng.bool() {
            return "null".into();
        }
        let sep = self.sep();
        format!("[{}]", records.join(&format!(",{sep}")))
    }

    fn doc(&mut self) -> String {
        let reps = self.rng.usize(2..6);
        let mut rep_list = Vec::new();
        for i in 0..reps {
            let mut f = vec![self.id("r", i, reps)];
            self.maybe(&mut f, "name", NAMES);
            self.maybe(&mut f, "email", &["\"k@example.com\"", "\" \"", "null"]);
            self.maybe(&mut f, "start_date", DATES);
            self.maybe(&mut f, "active", &["true", "false", "\"yes\"", "null"]);
            self.maybe(&mut f, "team", &["\"Seoul\"", "\"\"", "3"]);
            rep_list.push(self.object(f));
        }
        let mut stage_list = Vec::new();
        for (i, (id, p, c, w)) in [
            ("open", "0.5", "false", "false"),
            ("won", "1.0", "true", "true"),
            ("lost", "0", "true", "false"),
            ("odd", "1.5", "false", "false"),
        ]
        .iter()
        .enumerate()
        .take(self.rng.usize(2..if self.clean { 4 } else { 5 }))
        {
            let mut f = vec![format!("\"id\":\"{id}\"")];
            f.push(format!("\"probability\":{p}"));
            f.push(format!("\"closed\":{c}"));
            f.push(format!("\"won\":{w}"));
            let order = (i + 1).to_string();
            self.maybe(&mut f, "order", &[order.as_str(), "\"2\"", "null"]);
            self.maybe(&mut f, "label", &["\"Open\"", "null", "\"Gewonnen\""]);
            stage_list.push(self.object(f));
        }
        let deals = self.rng.usize(0..30);
        let mut deal_list = Vec::new();
        for i in 0..deals {
            let mut f = vec![self.id("d", i, deals)];
            self.maybe(&mut f, "owner", OWNERS);
            self.maybe(&mut f, "stage", STAGES);
            self.maybe(&mut f, "amount", AMOUNTS);
            self.maybe(&mut f, "name", NAMES);
            self.maybe(&mut f, "created_at", TIMES);
            self.maybe(&mut f, "close_date", CLOSE);
            self.maybe(&mut f, "forecast_category", CATEGORIES);
            self.maybe(&mut f, "type", TYPES);
            if self.rng.bool() {
                let mut h = Vec::new();
                for _ in 0..self.rng.usize(0..4) {
                    let mut e = Vec::new();
                    self.maybe(&mut e, "at", TIMES);
                    if self.clean {
                        self.maybe(&mut e, "stage", STAGES);
                    }
                    for (k, v) in [
                        ("stage", STAGES),
                        ("amount", AMOUNTS),
                        ("close_date", CLOSE),
                        ("forecast_category", CATEGORIES),
                    ] {
                        if self.rng.bool() && !(self.clean && k == "stage") {
                            self.maybe(&mut e, k, v);
                        }
                    }
                    h.push(self.object(e));
                }
                let h = self.list(h);
                f.push(format!("\"history\":{h}"));
            }
            deal_list.push(self.object(f));
        }
        let acts = self.rng.usize(0..40);
        let mut act_list = Vec::new();
        for i in 0..acts {
            let mut f = vec![self.id("a", i, acts)];
            self.maybe(&mut f, "owner", OWNERS);
            self.maybe(&mut f, "kind", KINDS);
            self.maybe(&mut f, "at", TIMES);
            self.maybe(&mut f, "duration_minutes", AMOUNTS);
            self.maybe(&mut f, "outcome", OUTCOMES);
            let d = format!("\"d{}\"", self.rng.usize(..deals.max(1) + 2));
            self.maybe(
                &mut f,
                "deal_id",
                &[d.as_str(), d.as_str(), "\" \"", "\"nope\"", "7", "null"],
            );
            act_list.push(self.object(f));
        }
        let leads = self.rng.usize(0..20);
        let mut lead_list = Vec::new();
        for i in 0..leads {
            let mut f = vec![self.id("l", i, leads)];
            self.maybe(&mut f, "owner", OWNERS);
            self.maybe(&mut f, "created_at", TIMES);
            self.maybe(&mut f, "first_response_at", TIMES);
            self.maybe(&mut f, "score", AMOUNTS);
            if self.rng.bool() {
                let mut ev = Vec::new();
                for _ in 0..self.rng.usize(0..4) {
                    let mut e = Vec::new();
                    self.maybe(&mut e, "kind", &["\"email_open\"", "\"demo\"", "null", "4"]);
                    self.maybe(&mut e, "at", TIMES);
                    ev.push(self.object(e));
                }
                let ev = self.list(ev);
                f.push(format!("\"score_events\":{ev}"));
            }
            lead_list.push(self.object(f));
        }
        let mut top = vec![
            format!("\"reps\":{}", self.list(rep_list)),
            format!("\"stages\":{}", self.list(stage_list)),
        ];
        let mut big = vec![
            format!("\"deals\":{}", self.list(deal_list)),
            format!("\"activities\":{}", self.list(act_list)),
            format!("\"leads\":{}", self.list(lead_list)),
        ];
        // Mostly the usual order; sometimes any order, or a list left out.
        if self.rng.u8(..4) == 0 {
            self.rng.shuffle(&mut big);
        }
        if self.rng.u8(..8) == 0 {
            big.remove(self.rng.usize(..big.len()));
        }
        top.extend(big);
        // Now and then a reference list is missing altogether.
        if self.rng.u8(..16) == 0 {
            top.remove(self.rng.usize(..2));
        }
        if self.rng.u8(..6) == 0 {
            self.rng.shuffle(&mut top);
        }
        for (key, values) in [
            ("currency", &["\"usd\"", "\" eur \"", "5", "null"][..]),
            ("notes", &["[\"kept\", 1, null]", "null", "[]"][..]),
            ("extra", UNKNOWN_VALUES),
        ] {
            if self.rng.u8(..3) == 0 {
                let at = self.rng.usize(..=top.len());
                let v = self.pick(values);
                top.insert(at, format!("\"{key}\":{v}"));
            }
        }
        let sep = self.sep();
        format!("{sep}{{{}}}{sep}", top.join(&format!(",{sep}")))
    }
}

const NAMES: &[&str] = &[
    "\"Kim Min-ji\"",
    "\"김민지\"",
    "\"Caf\\u00e9 \\\"Z\\\"\"",
    "\"},{\\\"id\\\":\\\"x\\\",\\\"kind\\\":\\\"call\\\"}\"",
    "\"},{\"",
    "\"\\ud83d\\ude00 emoji\"",
    "null",
    "12",
];
const OWNERS: &[&str] = &[
    "\"r0\"",
    "\"r1\"",
    "\"r2\"",
    "\"nobody\"",
    "\"\"",
    "3",
    "null",
];
const STAGES: &[&str] = &[
    "\"open\"", "\"won\"", "\"lost\"", "\"odd\"", "\"gone\"", "null",
];
const DATES: &[&str] = &["\"2025-03-01\"", "null", "\"2025-02-30\"", "\"March 1\""];
const TIMES: &[&str] = &[
    "\"2026-06-03T15:00:00Z\"",
    "\"2026-06-03T15:00:00.000Z\"",
    "\"2026-06-03T15:00:00.123456789Z\"",
    "\"2026-06-03T15:00:00.1234567891Z\"",
    "\"2026-06-04T00:30:00+09:00\"",
    "\"2026-06-02T20:00:00-05:30\"",
    "\"2026-06-03t15:00:00z\"",
    "\"2026-06-30T23:59:60Z\"",
    "\"2026-06-03T24:00:00Z\"",
    "\"2026-06-03T15:00:00+24:00\"",
    "\"2026-06-03 15:00:00Z\"",
    "\" 2026-06-03T15:00:00Z \"",
    "\"2026-06-03\"",
    "\"2026-13-03T15:00:00Z\"",
    "\"2026-06-03T15:00Z\"",
    "\"yesterday\"",
    "1780000000",
    "null",
];
const CLOSE: &[&str] = &[
    "\"2026-07-15\"",
    "\"2026-07-15T00:00:00.000Z\"",
    "\"2026-13-01\"",
    "\"2026-7-1\"",
    "null",
];
const AMOUNTS: &[&str] = &[
    "12000.5",
    "12000.50",
    "\"12000.50\"",
    "\" 7.10 \"",
    "\"12,000\"",
    "\"1.5e2\"",
    "\"\"",
    "0",
    "-0",
    "-5",
    "0.1",
    "2.675",
    "0.30000000000000004",
    "1e-7",
    "1E3",
    "123456789012345678",
    "1000000000000000.5",
    "99999999999999.99",
    "4.35",
    "true",
    "[1]",
    "null",
];
const CATEGORIES: &[&str] = &[
    "\"commit\"",
    "\"Best Case\"",
    "\"best-case\"",
    "\"pipeline\"",
    "\" \"",
    "\"maybe\"",
    "null",
];
const TYPES: &[&str] = &[
    "\"upsell\"",
    "\"Cross-sell\"",
    "\"NEW BUSINESS\"",
    "\"renewal\"",
    "\"other\"",
    "null",
];
const KINDS: &[&str] = &["\"call\"", "\"Meeting\"", "\" email \"", "\"fax\"", "null"];
const OUTCOMES: &[&str] = &[
    "\"completed\"",
    "\"No Show\"",
    "\"cancelled\"",
    "\"noshow\"",
    "\"no-show\"",
    "\"COMPLETED\"",
    "\"\"",
    "null",
];
const UNKNOWN: &[&str] = &[
    "\"hs_object_id\":\"123\"",
    "\"associations\":{\"companies\":[1,2],\"deep\":[[{\"a\":null}]]}",
    "\"props\":{\"id\":\"x\",\"at\":\"2026-01-01T00:00:00Z\"}",
    "\"note\":\"},{\\\"id\\\":\\\"d1\\\"}\"",
    "\"n\":-1.5e-3",
];
const UNKNOWN_VALUES: &[&str] = &["{\"a\":[1,{\"b\":\"c\"}]}", "[true,false,null]", "\"x\""];

/// Mutations that break a document in the ways files break.
fn mutate(rng: &mut fastrand::Rng, doc: &[u8]) -> Vec<u8> {
    let mut d = doc.to_vec();
    let at = rng.usize(..d.len());
    match rng.u8(..6) {
        0 => {
            d.truncate(at);
        }
        1 => {
            d.remove(at);
        }
        2 => {
            let b = [b',', b'}', b']', b'"', b'\\', 0, 0xff, b'{', b'1', b' '][rng.usize(..10)];
            d.insert(at, b);
        }
        3 => {
            // A repeated field or key.
            let dup = b"\"id\":\"z\",";
            if let Some(p) = d[at..].iter().position(|&c| c == b'{') {
                let p = at + p + 1;
                d.splice(p..p, dup.iter().copied());
            }
        }
        4 => {
            // An escape in a key, a control character in a string.
            let bad: &[u8] = [
                &b"\"\\u0069d\":1,"[..],
                b"\"x\":\"a\tb\",",
                b"\"amount\":1e400,",
                b"\"x\":\"\\ud800\",",
            ][rng.usize(..4)];
            if let Some(p) = d[at..].iter().position(|&c| c == b'{') {
                let p = at + p + 1;
                d.splice(p..p, bad.iter().copied());
            }
        }
        _ => {
            let n = rng.usize(..d.len() - at).min(40);
            let piece = d[at..at + n].to_vec();
            d.splice(at..at, piece);
        }
    }
    d
}

#[test]
fn generated_documents_read_the_same_on_both_paths() {
    let mut g = Gen {
        rng: fastrand::Rng::with_seed(0x5a1e_5095),
        pretty: false,
        clean: false,
    };
    let (mut docs, mut fast, mut split) = (0, 0, 0);
    let (mut errors, mut clean) = (0, 0);
    for n in 0..600 {
        g.pretty = n % 3 == 0;
        g.clean = n % 4 == 1;
        let doc = g.doc();
        let skip = LoadOptions {
            skip_bad_records: n % 2 == 0,
        };
        let (read, parts) = compare(doc.as_bytes(), skip);
        docs += 1;
        fast += usize::from(read == PLANS.len());
        split += usize::from(parts > 1);
        match parse_general(doc.as_bytes(), LoadOptions::default()) {
            Err(LoadError::Records(_)) => errors += 1,
            Ok(_) => clean += 1,
            Err(_) => {}
        }
        for _ in 0..3 {
            let broken = mutate(&mut g.rng, doc.as_bytes());
            compare(&broken, skip);
        }
    }
    eprintln!(
        "{docs} documents: {fast} read by the fast path, {split} split, \
         {errors} with broken records, {clean} clean"
    );
    // The cases must really exercise the fast path, its joins, and errors.
    assert!(fast * 3 > docs * 2, "fast path read only {fast} of {docs}");
    assert!(
        split * 2 > docs,
        "only {split} of {docs} documents were split"
    );
    assert!(
        errors * 4 > docs,
        "only {errors} of {docs} had broken records"
    );
    assert!(clean * 10 > docs, "only {clean} of {docs} were clean");
}

#[test]
fn numbers_become_the_decimals_ryu_gives() {
    // `short_decimal` against the text route it replaces.
    let mut rng = fastrand::Rng::with_seed(7);
    let mut text = String::new();
    for _ in 0..200_000 {
        let n = match rng.u8(..4) {
            0 => rng.u64(..10_000_000) as f64 / 100.0,
            1 => rng.u64(..1_000_000_000_000) as f64 / 10f64.powi(rng.i32(1..12)),
            2 => f64::from_bits(rng.u64(..)),
            _ => (rng.f64() - 0.5) * 10f64.powi(rng.i32(-12..16)),
        };
        if !n.is_finite() {
            continue;
        }
        let got = raw::read::number(n);
        text.clear();
        let _ = write!(text, "{}", ryu::Buffer::new().format_finite(n));
        let want = if n.fract() == 0.0 && n.abs() < 1e15 {
            Ok(rust_decimal::Decimal::from(n as i64))
        } else {
            use std::str::FromStr;
            rust_decimal::Decimal::from_str(&text)
                .or_else(|_| rust_decimal::Decimal::from_scientific(&text))
                .map_err(|_| format!("{n} is out of range"))
        };
        assert_eq!(
            got.as_ref().map(|d| d.serialize()),
            want.as_ref().map(|d| d.serialize()),
            "{n:e}"
        );
    }
}

/// A duplicate is named by its input index, which the kept records' id
/// hashes do not carry: it is told by the broken records before it, in
/// every part. Checked against a plain model of the rules (a broken
/// record's id stays free; a later record with a kept id is a duplicate),
/// not only against the other path.
#[test]
fn duplicates_are_named_by_their_input_index_past_broken_records() {
    let mut rng = fastrand::Rng::with_seed(5);
    for list in ["deals", "activities", "leads"] {
        let (mut records, mut want) = (Vec::new(), Vec::new());
        let mut kept = std::collections::HashSet::new();
        for i in 0..400 {
            let id = format!("x{}", rng.usize(..150));
            let broken = rng.usize(..6) == 0;
            let at = if broken {
                "\"soon\""
            } else {
                "\"2026-07-02T01:00:00Z\""
            };
            records.push(match list {
                "deals" => format!(
                    r#"{{"id":"{id}","owner":"r1","stage":"s","created_at":{at},"close_date":"2026-08-01"}}"#
                ),
                "activities" => format!(r#"{{"id":"{id}","owner":"r1","kind":"call","at":{at}}}"#),
                _ => format!(r#"{{"id":"{id}","created_at":{at}}}"#),
            });
            if broken {
                want.push(format!("{list}[{i}] (id \"{id}\")"));
            } else if !kept.insert(id.clone()) {
                want.push(format!(
                    "{list}[{i}] (id \"{id}\").id: duplicate id \"{id}\""
                ));
            }
        }
        let mut doc = format!(
            r#"{{"reps":[{{"id":"r1"}}],"stages":[{{"id":"s","probability":0.5}}],"{list}":[{}]"#,
            records.join(",")
        );
        doc.push_str(if list == "deals" {
            "}"
        } else {
            r#","deals":[]}"#
        });
        let opts = LoadOptions {
            skip_bad_records: true,
        };
        let (read, parts) = compare(doc.as_bytes(), opts);
        assert_eq!(read, PLANS.len(), "{list}: the fast path gave up");
        assert!(parts > 10, "{list}: only {parts} parts");
        let snap = parse_general(doc.as_bytes(), opts).unwrap();
        let skipped: Vec<&String> = snap
            .notes
            .iter()
            .filter(|n| n.starts_with("skipped"))
            .collect();
        assert_eq!(skipped.len(), want.len(), "{list}: {skipped:?}");
        for (note, w) in skipped.iter().zip(&want) {
            assert!(
                note.contains(w.as_str()),
                "{list}: {note:?} does not name {w:?}"
            );
        }
    }
}
