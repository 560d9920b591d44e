//! Golden wire-format tests.
//!
//! Every wire type has a fixed sample value whose pretty JSON is committed
//! under `tests/golden/<name>.json`, so any change to the wire format is a
//! visible diff in review. Each golden file is also parsed back and compared
//! with its sample (round trip), and request bodies must reject an unknown
//! field while responses and server frames must ignore one.
//!
//! To (re)generate the files after an intentional change:
//! `UPDATE_GOLDEN=1 cargo test -p neurochat-protocol --test golden -- --nocapture`
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

mod golden_samples;

use golden_samples::all_samples;

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// How a type must treat a field it does not know.
#[derive(Clone, Copy)]
enum Unknown {
    /// Request bodies and client frames: parsing must fail.
    Rejected,
    /// Responses, views, queries and server frames: the field is ignored.
    Ignored,
    /// Not a struct (a list of enum values, a map of constants): nothing to check.
    Vocabulary,
}

type Check = Box<dyn Fn(&str) -> Result<(), String>>;

struct Sample {
    name: String,
    json: String,
    check: Check,
}

fn sample<T>(name: impl Into<String>, unknown: Unknown, value: T) -> Sample
where
    T: Serialize + DeserializeOwned + PartialEq + Debug + 'static,
{
    let name = name.into();
    let json = serde_json::to_string_pretty(&value).unwrap();
    let check = Box::new(move |text: &str| -> Result<(), String> {
        let parsed: T = serde_json::from_str(text)
            .map_err(|e| format!("golden file does not parse back: {e}"))?;
        if parsed != value {
            return Err(format!(
                "round trip mismatch:\n  parsed: {parsed:?}\n  sample: {value:?}"
            ));
        }
        if let Unknown::Vocabulary = unknown {
            return Ok(());
        }
        let mut object: serde_json::Value = serde_json::from_str(text).unwrap();
        let Some(map) = object.as_object_mut() else {
            return Err("expected a JSON object".to_owned());
        };
        map.insert("unexpected_field".to_owned(), serde_json::Value::Bool(true));
        let extended = serde_json::to_string(&object).unwrap();
        match (unknown, serde_json::from_str::<T>(&extended)) {
            (Unknown::Rejected, Ok(_)) => {
                Err("an unknown field was accepted (missing deny_unknown_fields?)".to_owned())
            }
            (Unknown::Rejected, Err(e)) if !e.to_string().contains("unknown field") => Err(
                format!("an unknown field was rejected for the wrong reason: {e}"),
            ),
            (Unknown::Ignored, Err(e)) => Err(format!("an unknown field was rejected: {e}")),
            _ => Ok(()),
        }
    });
    Sample { name, json, check }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
}

fn update_requested() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

const HOW_TO_UPDATE: &str =
    "UPDATE_GOLDEN=1 cargo test -p neurochat-protocol --test golden -- --nocapture";

#[test]
fn golden_files() {
    let samples = all_samples();
    let update = update_requested();
    let dir = golden_dir();
    let mut failures = Vec::new();

    let mut names = BTreeSet::new();
    for s in &samples {
        assert!(
            names.insert(s.name.clone()),
            "duplicate sample name {}",
            s.name
        );
    }
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }

    for s in &samples {
        let path = dir.join(format!("{}.json", s.name));
        let expected = format!("{}\n", s.json);
        let current = std::fs::read_to_string(&path)
            .ok()
            .map(|t| t.replace("\r\n", "\n"));
        if update {
            if current.as_deref() != Some(expected.as_str()) {
                std::fs::write(&path, &expected).unwrap();
                let verb = if current.is_some() {
                    "updated"
                } else {
                    "created"
                };
                println!("{verb} {}", path.display());
            }
        } else {
            match &current {
                None => {
                    failures.push(format!(
                        "{}: golden file missing; create it with `{HOW_TO_UPDATE}`",
                        path.display()
                    ));
                    continue;
                }
                Some(actual) if *actual != expected => {
                    failures.push(format!(
                        "{}: wire format changed.\n--- committed\n{actual}+++ now\n{expected}\
                         If the change is intended, run `{HOW_TO_UPDATE}` and commit the diff.",
                        path.display()
                    ));
                    continue;
                }
                Some(_) => {}
            }
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if let Err(e) = (s.check)(&text) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }

    // Files no sample produces any more.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if path.extension().is_some_and(|e| e == "json") && !names.contains(stem) {
                if update {
                    std::fs::remove_file(&path).unwrap();
                    println!("removed stale {}", path.display());
                } else {
                    failures.push(format!(
                        "{}: stale golden file (no sample produces it); delete it or run \
                         `{HOW_TO_UPDATE}`",
                        path.display()
                    ));
                }
            }
        }
    }

    assert!(
        failures.is_empty(),
        "{} golden failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
