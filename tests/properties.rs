//! Property tests of the whole binary: a planted credential is found at its line and column
//! whatever surrounds it and however the input is chunked; output is byte-identical at any
//! thread count; no output format shows a secret unless asked; baselines survive moved lines.

#[allow(dead_code)]
mod common;

use std::collections::BTreeSet;
use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;

use common::{keyhound, keyhound_in, run, str_field, u64_field, Fakes};

/// Bytes around a planted credential: text lines (LF or CRLF), bytes that are not UTF-8, one
/// very long line, or nothing.
fn filler() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (
            proptest::collection::vec("[a-z0-9 =:_./+-]{0,70}", 0..60),
            any::<bool>()
        )
            .prop_map(|(lines, crlf)| lines.join(if crlf { "\r\n" } else { "\n" }).into_bytes()),
        proptest::collection::vec(1u8..=255, 0..3000),
        (1usize..40_000, any::<u8>()).prop_map(|(n, b)| vec![b'a' + b % 26; n]),
        Just(Vec::new()),
    ]
}

/// A fake key pair, from a seed.
fn credential(seed: u64) -> (String, String) {
    let mut fakes = Fakes::new(seed);
    (fakes.key_id("AKIA"), fakes.secret_key())
}

/// `before`, then the credential as two lines of a credentials file, then `after`. Returns the
/// input and the line the key ID is on.
fn plant(before: &[u8], id: &str, secret: &str, after: &[u8]) -> (Vec<u8>, u64) {
    // Starting with text keeps random filler from reading as a UTF-16 byte order mark.
    let mut input = b"#\n".to_vec();
    input.extend_from_slice(before);
    input.push(b'\n');
    let line = input.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    input.extend_from_slice(
        format!("aws_access_key_id = {id}\naws_secret_access_key = {secret}\n").as_bytes(),
    );
    input.extend_from_slice(after);
    (input, line)
}

fn scan_stdin(input: &[u8], extra: &[&str]) -> Vec<Value> {
    let mut cmd = keyhound();
    cmd.args(["scan", "-", "-f", "jsonl", "--show-secrets", "-q"])
        .args(extra)
        .write_stdin(input.to_vec());
    let run = run(&mut cmd);
    run.jsonl()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_planted_pair_is_found_at_its_place_for_any_chunk_size(
        before in filler(),
        after in filler(),
        seed in any::<u64>(),
        chunk_size in prop_oneof![1usize..64, 64usize..5000, Just(1 << 20)],
    ) {
        let (id, secret) = credential(seed);
        let (input, line) = plant(&before, &id, &secret, &after);
        let chunk = chunk_size.to_string();
        let findings = scan_stdin(&input, &["--chunk-size", &chunk]);
        let pair = findings
            .iter()
            .find(|f| f["secret"] == secret.as_str())
            .unwrap_or_else(|| panic!("pair not found: {findings:?}"));
        prop_assert_eq!(str_field(pair, "rule_id"), "aws-access-key-pair");
        prop_assert_eq!(u64_field(pair, "line"), line + 1);
        prop_assert_eq!(u64_field(pair, "column"), 25);
        prop_assert_eq!(&pair["pair"]["key_id"], &Value::from(id.as_str()));
        prop_assert_eq!(&pair["pair"]["line"], &Value::from(line));
        prop_assert_eq!(&pair["pair"]["column"], &Value::from(21));
        // Everything else found is found the same way in one chunk.
        if chunk_size != 1 << 20 {
            prop_assert_eq!(findings, scan_stdin(&input, &[]));
        }
    }

    #[test]
    fn output_is_byte_identical_at_1_2_and_8_threads(
        files in proptest::collection::vec((filler(), filler(), any::<u64>()), 1..10),
    ) {
        let dir = tempfile::tempdir().unwrap();
        for (i, (before, after, seed)) in files.iter().enumerate() {
            let (id, secret) = credential(*seed);
            let (input, _) = plant(before, &id, &secret, after);
            std::fs::create_dir_all(dir.path().join(format!("d{}", i % 3))).unwrap();
            std::fs::write(dir.path().join(format!("d{}/f{i}.env", i % 3)), input).unwrap();
        }
        let outputs: Vec<Vec<u8>> = ["1", "2", "8"]
            .iter()
            .map(|threads| {
                run(keyhound_in(dir.path()).args(["scan", ".", "-f", "jsonl", "-q", "-j", threads])).stdout
            })
            .collect();
        prop_assert!(!outputs[0].is_empty());
        prop_assert_eq!(&outputs[0], &outputs[1]);
        prop_assert_eq!(&outputs[0], &outputs[2]);
    }

    #[test]
    fn no_format_shows_a_secret_unless_asked(
        seeds in proptest::collection::vec(any::<u64>(), 1..6),
        lone in any::<u64>(),
        filler in filler(),
        format in prop_oneof![Just("text"), Just("json"), Just("jsonl"), Just("sarif")],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut secrets = Vec::new();
        for (i, seed) in seeds.iter().enumerate() {
            let (id, secret) = credential(*seed);
            let (input, _) = plant(&filler, &id, &secret, b"");
            std::fs::write(dir.path().join(format!("c{i}.ini")), input).unwrap();
            secrets.push(secret);
        }
        let (_, lone_secret) = credential(lone);
        std::fs::write(
            dir.path().join("lone.env"),
            format!("AWS_SECRET_ACCESS_KEY={lone_secret}\n"),
        )
        .unwrap();
        secrets.push(lone_secret);
        let hidden = run(keyhound_in(dir.path()).args(["scan", ".", "--color", "always", "-f", format]));
        let shown = run(keyhound_in(dir.path()).args(["scan", ".", "--show-secrets", "-f", format]));
        for secret in &secrets {
            let needle = secret.as_bytes();
            let leaked = |bytes: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
            prop_assert!(!leaked(&hidden.stdout), "{format} shows {secret}");
            prop_assert!(!leaked(hidden.stderr.as_bytes()), "{format} logs {secret}");
            prop_assert!(leaked(&shown.stdout), "{format} --show-secrets lacks {secret}");
        }
    }

    #[test]
    fn a_baseline_accepts_every_finding_after_lines_move(
        files in proptest::collection::vec((filler(), any::<u64>(), 0usize..30), 1..6),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let baseline = dir.path().join("baseline.json");
        let write_all = |shift: bool| {
            for (i, (before, seed, moved)) in files.iter().enumerate() {
                let (id, secret) = credential(*seed);
                let mut prefix = if shift { "# moved\n".repeat(*moved + 1).into_bytes() } else { Vec::new() };
                prefix.extend_from_slice(before);
                let (input, _) = plant(&prefix, &id, &secret, b"");
                std::fs::write(dir.path().join(format!("f{i}.ini")), input).unwrap();
            }
        };
        write_all(false);
        let fingerprints = |dir: &Path| -> BTreeSet<String> {
            run(keyhound_in(dir).args(["scan", ".", "-f", "jsonl", "-q", "--exclude", "baseline.json"]))
                .jsonl()
                .iter()
                .flat_map(|f| f["locations"].as_array().unwrap().clone())
                .map(|l| str_field(&l, "fingerprint"))
                .collect()
        };
        let before = fingerprints(dir.path());
        let written = run(keyhound_in(dir.path()).args(["scan", ".", "-q", "--write-baseline"]).arg(&baseline));
        prop_assert_eq!(written.code, Some(0), "{}", written.stderr);
        write_all(true);
        prop_assert_eq!(&before, &fingerprints(dir.path()));
        let gated = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "json", "-q", "--baseline"]).arg(&baseline));
        prop_assert_eq!(gated.code, Some(0), "{}", gated.stdout_text());
        prop_assert_eq!(&gated.json()["summary"]["failing_findings"], &Value::from(0));
    }
}
