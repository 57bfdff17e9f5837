//! Property tests (issue 8): arbitrary damage to the vector snapshot and to
//! config/example.toml — truncation, flipped bytes, huge numbers, deep
//! nesting, random Unicode — never panics the snapshot reader, the config
//! loader, or the figures computed from whatever they accept: such input
//! ends in a clear error (exit 2) or a report (exit 0), never a crash.
//! A few thousand cases in all, well under a minute.

use proptest::prelude::*;
use proptest::sample::Index;
use salesops::config::{self, Settings};
use salesops::period::Period;
use salesops::snapshot::{self, LoadOptions};

/// One way to damage a document.
#[derive(Debug, Clone)]
enum Damage {
    Truncate(Index),
    Flip(Vec<(Index, u8)>),
    Insert(Index, String),
    /// Replace one number of the document with this text.
    Number(Index, String),
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1e28".to_string()),
        Just("-1e400".to_string()),
        Just("99999999999999999999999999999999".to_string()),
        Just("1e15".to_string()),
        Just("-0.0000000000000000000000000001".to_string()),
        Just("NaN".to_string()),
        Just("\"\\u0000\\u001b[31m\"".to_string()),
        Just("\u{feff}".to_string()),
        (1usize..3000).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n))),
        (1usize..3000).prop_map(|n| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n))),
        any::<String>(),
        "[a-z_]{1,12} = [0-9e.+-]{1,40}\n",
    ]
}

fn damage() -> impl Strategy<Value = Vec<Damage>> {
    let one = prop_oneof![
        any::<Index>().prop_map(Damage::Truncate),
        prop::collection::vec((any::<Index>(), any::<u8>()), 1..8).prop_map(Damage::Flip),
        (any::<Index>(), piece()).prop_map(|(i, p)| Damage::Insert(i, p)),
        (any::<Index>(), piece()).prop_map(|(i, p)| Damage::Number(i, p)),
    ];
    prop::collection::vec(one, 1..4)
}

fn apply(mut doc: Vec<u8>, damage: &[Damage]) -> Vec<u8> {
    for d in damage {
        if doc.is_empty() {
            break;
        }
        match d {
            Damage::Truncate(i) => doc.truncate(i.index(doc.len())),
            Damage::Flip(flips) => {
                for (i, b) in flips {
                    let at = i.index(doc.len());
                    doc[at] = *b;
                }
            }
            Damage::Insert(i, p) => {
                let at = i.index(doc.len() + 1);
                doc.splice(at..at, p.bytes());
            }
            Damage::Number(i, p) => {
                let starts: Vec<usize> = (0..doc.len())
                    .filter(|&k| {
                        doc[k].is_ascii_digit() && (k == 0 || !doc[k - 1].is_ascii_alphanumeric())
                    })
                    .collect();
                if starts.is_empty() {
                    continue;
                }
                let s = starts[i.index(starts.len())];
                let mut e = s;
                while e < doc.len() && (doc[e].is_ascii_digit() || b".eE+-".contains(&doc[e])) {
                    e += 1;
                }
                doc.splice(s..e, p.bytes());
            }
        }
    }
    doc
}

/// The vector snapshot, cut to a few records of each list so that a case
/// takes milliseconds.
fn vector_snapshot() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/vectors/crm-early.json"
    );
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    for list in ["deals", "activities", "leads"] {
        if let Some(a) = v[list].as_array_mut() {
            a.truncate(25);
        }
    }
    serde_json::to_vec_pretty(&v).unwrap()
}

fn settings() -> Settings {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/vectors/salesops.toml"
    ))
    .unwrap();
    Settings::from_toml(&text).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2500,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_damaged_snapshot_is_read_or_refused_never_a_crash(
        damage in damage(),
        skip in any::<bool>(),
    ) {
        thread_local! {
            static BASE: Vec<u8> = vector_snapshot();
            static SETTINGS: Settings = settings();
        }
        let doc = BASE.with(|b| apply(b.clone(), &damage));
        let opts = LoadOptions { skip_bad_records: skip };
        if let Ok(mut snap) = snapshot::parse(&doc, opts) {
            snap.currency = match salesops::source::currency(Some("USD"), &snap.currency) {
                Ok(c) => c,
                Err(_) => return Ok(()),
            };
            SETTINGS.with(|s| {
                for (label, as_of) in [("2026-06", "2026-07-01"), ("2026-Q2", "2026-05-15")] {
                    let p = Period::parse(label, 1).unwrap();
                    let as_of = salesops::period::parse_date(as_of).unwrap();
                    let f = salesops::metrics::compute(&snap, p, as_of, &s.metrics, &[]);
                    let json = salesops::report::report_json(&f, &snap.currency, None, Some(&[]));
                    prop_assert!(json.is_object());
                }
                Ok(())
            })?;
        }
    }

    #[test]
    fn a_damaged_config_is_loaded_or_refused_never_a_crash(damage in damage()) {
        let doc = apply(include_bytes!("../config/example.toml").to_vec(), &damage);
        let Ok(text) = String::from_utf8(doc) else { return Ok(()) };
        // Through the same loader as the binary, without the environment.
        if let Ok(raw) = config::load_str(&text, "example.toml", false) {
            if let Ok(s) = Settings::resolve(raw) {
                let now = chrono::DateTime::from_timestamp(1_785_000_000, 0).unwrap();
                for r in &s.reports {
                    let _ = salesops::app::plan(r, &s, &Default::default(), now);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// The same through the binary: exit 0 or 2, never a crash.
    #[test]
    fn the_binary_exits_0_or_2_on_damaged_input(
        snap_damage in damage(),
        config_damage in prop::option::of(damage()),
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("crm-early.json"), apply(vector_snapshot(), &snap_damage)).unwrap();
        let cfg = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vectors/salesops.toml")).unwrap();
        let cfg = match &config_damage {
            Some(d) => apply(cfg, d),
            None => cfg,
        };
        std::fs::write(dir.path().join("salesops.toml"), cfg).unwrap();
        let out = assert_cmd::Command::cargo_bin("salesops")
            .unwrap()
            .current_dir(dir.path())
            .env_remove("SALESOPS_CONFIG")
            .args(["run", "--config", "salesops.toml", "--period", "2026-06", "--as-of", "2026-07-01", "--dry-run"])
            .output()
            .unwrap();
        let code = out.status.code();
        prop_assert!(
            matches!(code, Some(0) | Some(2)),
            "exit {code:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
