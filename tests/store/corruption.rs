//! Corruption: truncation at every byte offset, random bit flips, garbage
//! and an empty file are all detected (never a panic), and restored from
//! the newest good backup when recovery is on.

use serde_json::json;
use statewright::store::{Check, StoreError, StoreOptions};

use crate::harness::*;

struct Damage {
    detected: usize,
    restored: usize,
    trials: usize,
}

fn setup() -> (Fixture, Vec<u8>) {
    let f = fixture();
    let store = f.open();
    put(&store, "counter.json", counter(1));
    for n in 2..=3 {
        store
            .update(&lock(), "counter.json", &ctx(), |v| {
                v["count"] = json!(n);
                v["note"] = json!("line one\nline \"two\" é");
            })
            .unwrap();
    }
    let good = std::fs::read(f.state.join("counter.json")).unwrap();
    (f, good)
}

/// Writes `bad` over the document, checks a plain read detects it, and a
/// recovering read restores the newest backup (count 2).
fn damage(f: &Fixture, bad: &[u8], d: &mut Damage, what: &str) {
    let path = f.state.join("counter.json");
    std::fs::write(&path, bad).unwrap();
    d.trials += 1;
    let plain = f.open_opts(StoreOptions::default());
    match plain.read("counter.json") {
        Err(StoreError::Corrupt { check, path: p, .. }) => {
            assert_eq!(p, path);
            let _ = check;
            d.detected += 1;
        }
        other => panic!("{what}: not detected: {other:?}"),
    }
    let recovering = f.open_opts(StoreOptions {
        recover: true,
        ..StoreOptions::default()
    });
    let l = recovering
        .read("counter.json")
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(l.value["count"], json!(2), "{what}");
    assert!(l.restored.is_some(), "{what}");
    d.restored += 1;
}

#[test]
fn truncation_at_every_offset_is_detected_and_restored() {
    let (f, good) = setup();
    let mut d = Damage {
        detected: 0,
        restored: 0,
        trials: 0,
    };
    let trimmed = good.trim_ascii_end().len();
    for cut in 0..trimmed {
        damage(&f, &good[..cut], &mut d, &format!("truncated at {cut}"));
    }
    println!(
        "truncation: {} offsets, {} detected, {} restored from backup",
        d.trials, d.detected, d.restored
    );
    assert_eq!((d.detected, d.restored), (d.trials, d.trials));
}

#[test]
fn bit_flips_garbage_and_empty_files_are_detected_and_restored() {
    let (f, good) = setup();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut d = Damage {
        detected: 0,
        restored: 0,
        trials: 0,
    };
    for _ in 0..300 {
        let mut bad = good.clone();
        let at = rng.below(good.trim_ascii_end().len() as u64) as usize;
        bad[at] ^= 1 << rng.below(8);
        damage(&f, &bad, &mut d, &format!("bit flip at {at}"));
    }
    for n in 0..40 {
        let len = rng.below(600) as usize + 1;
        let bad: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        damage(&f, &bad, &mut d, &format!("garbage {n}"));
    }
    damage(&f, b"", &mut d, "empty");
    damage(&f, b"   \n", &mut d, "blank");
    damage(&f, b"{}", &mut d, "empty object");
    println!(
        "bit flips, garbage, empty: {} cases, {} detected, {} restored from backup",
        d.trials, d.detected, d.restored
    );
    assert_eq!((d.detected, d.restored), (d.trials, d.trials));
}

#[test]
fn a_corrupt_document_says_which_check_failed_and_where() {
    let (f, good) = setup();
    let store = f.open();
    let text = String::from_utf8(good).unwrap();
    std::fs::write(
        f.state.join("counter.json"),
        text.replace("\"count\": 3", "\"count\": 4"),
    )
    .unwrap();
    let e = store.read("counter.json").unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(
            e,
            StoreError::Corrupt {
                check: Check::Checksum,
                ..
            }
        ),
        "{msg}"
    );
    assert!(
        msg.contains("counter.json:") && msg.contains("checksum check failed at `/checksum`"),
        "{msg}"
    );
    assert!(
        msg.contains("`statewright check --repair` (or rerun with `--recover`"),
        "{msg}"
    );
    std::fs::write(f.state.join("counter.json"), &text[..text.len() / 2]).unwrap();
    let msg = store.read("counter.json").unwrap_err().to_string();
    assert!(msg.contains("parse check failed"), "{msg}");
    // No good backup at all: said so, nothing touched.
    let lone = fixture();
    let s = lone.open_opts(StoreOptions {
        recover: true,
        ..StoreOptions::default()
    });
    put(&s, "counter.json", counter(1));
    std::fs::write(lone.state.join("counter.json"), b"{").unwrap();
    let msg = s.read("counter.json").unwrap_err().to_string();
    assert!(
        msg.contains("no good backup") && msg.contains("there are no backups"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(lone.state.join("counter.json")).unwrap(),
        b"{"
    );
}
