//! Every input saved under `fuzz/regressions/<target>/` (inputs that once broke keyhound) and
//! the seed inputs of each target (`fuzz/seeds/<target>/`, the fixture files for the matcher, the
//! built-in rule file for rules) run through its fuzz target's body, so `cargo test` keeps them
//! fixed without a fuzzer or a nightly compiler.

mod fuzz_targets;

use std::path::Path;

fn run_saved(target: &str, body: fn(&[u8]), seeds: Vec<Vec<u8>>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs = seeds;
    for kind in ["regressions", "seeds"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join(target)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            inputs.push(std::fs::read(&path).expect("saved input is readable"));
        }
    }
    if root.is_dir() {
        assert!(!inputs.is_empty(), "no saved inputs for {target}");
    } else {
        // A packaged crate: cargo leaves out `fuzz/`, a package of its own.
        eprintln!("fuzz/ is not here: only the built-in inputs of {target} run");
    }
    for (i, data) in inputs.iter().enumerate() {
        let outcome = std::panic::catch_unwind(|| body(data));
        assert!(outcome.is_ok(), "input {i} breaks the {target} target");
    }
}

/// Every file below `dir`, in path order.
fn files_below(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("fixture directory")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn matcher_inputs() {
    // Each fixture file, with a leading byte that picks the chunk size and the matcher's
    // configuration (explaining, decoding depth), as scripts/fuzz.sh seeds the corpus.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let seeds = ["positive", "negative"]
        .iter()
        .flat_map(|d| files_below(&root.join(d)))
        .enumerate()
        .map(|(i, path)| {
            let mut input = vec![(i * 37 % 256) as u8];
            input.extend(std::fs::read(path).expect("fixture is readable"));
            input
        })
        .collect();
    run_saved("matcher", fuzz_targets::matcher, seeds);
}

#[test]
fn rules_inputs() {
    let builtin = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/aws.toml"));
    run_saved(
        "rules",
        fuzz_targets::rules,
        vec![builtin.expect("rules/aws.toml")],
    );
}

#[test]
fn settings_inputs() {
    run_saved("settings", fuzz_targets::settings, Vec::new());
}

#[test]
fn diff_inputs() {
    run_saved("diff", fuzz_targets::diff, Vec::new());
}

/// Archives as real writers make them, for the `archive` and `image` targets: a zip, a tar, a
/// gzip of that tar, and a docker-save tarball with one layer that deletes a file.
fn archive_seeds() -> Vec<Vec<u8>> {
    use std::io::Write;
    let text = b"aws_access_key_id = AKIAQYLPMN5HHHFPZAM2\n";
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("config/app.env", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(text).unwrap();
    let zip = zip.finish().unwrap().into_inner();
    let tar_of = |files: &[(&str, &[u8])]| {
        let mut tar = tar::Builder::new(Vec::new());
        for (name, data) in files {
            let mut header = tar::Header::new_ustar();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, *data).unwrap();
        }
        tar.into_inner().unwrap()
    };
    let tar = tar_of(&[("app.env", text), ("nested.zip", &zip)]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    let gz = gz.finish().unwrap();
    let layer = tar_of(&[("etc/.wh.app.env", b""), ("app/app.env", text)]);
    let manifest = br#"[{"Config":"config.json","RepoTags":["app:1"],"Layers":["layer.tar"]}]"#;
    let config = br#"{"rootfs":{"type":"layers","diff_ids":["sha256:0"]},"history":[{"created_by":"COPY app.env /app/"}]}"#;
    let image = tar_of(&[
        ("manifest.json", manifest),
        ("config.json", config),
        ("layer.tar", &layer),
    ]);
    vec![zip, tar, gz, image]
}

#[test]
fn archive_inputs() {
    run_saved("archive", fuzz_targets::archive, archive_seeds());
}

#[test]
fn image_inputs() {
    run_saved("image", fuzz_targets::image, archive_seeds());
}

#[test]
fn gitleaks_inputs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gitleaks");
    let seeds = files_below(&root)
        .iter()
        .map(|path| std::fs::read(path).expect("fixture is readable"))
        .collect();
    run_saved("gitleaks", fuzz_targets::gitleaks, seeds);
}

#[test]
fn report_inputs() {
    // A report keyhound writes, of the fixtures, as `merge` and `respond` read them back.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keyhound"))
        .args(["scan", "fixtures/positive", "-f", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("keyhound runs");
    assert!(
        !out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    run_saved("report", fuzz_targets::report, vec![out.stdout]);
}

#[test]
fn aws_reply_inputs() {
    let seeds = [
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::418295736041:user/deploy\
         </Arn><UserId>AIDAX</UserId><Account>418295736041</Account></GetCallerIdentityResult>\
         </GetCallerIdentityResponse>",
        "<ErrorResponse><Error><Code>InvalidClientTokenId</Code></Error></ErrorResponse>",
        r#"{"Events":[{"EventId":"1","EventName":"GetObject","ReadOnly":"true","EventTime":1700000000.5,
            "EventSource":"s3.amazonaws.com","CloudTrailEvent":"{\"sourceIPAddress\":\"203.0.113.9\"}"}],
            "NextToken":"t"}"#,
        "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow\
         %22%2C%22Action%22%3A%22s3%3AGet*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D",
        r#"{"Statement":{"Effect":"Deny","NotAction":["iam:*"],"Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}}"#,
    ];
    run_saved(
        "aws_reply",
        fuzz_targets::aws_reply,
        seeds.iter().map(|s| s.as_bytes().to_vec()).collect(),
    );
}

#[test]
fn cache_inputs() {
    // An empty cache as keyhound makes it, and the same file cut short.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.sqlite");
    drop(keyhound::cache::Cache::open(&path, "fuzz").expect("a new cache"));
    let whole = std::fs::read(&path).unwrap();
    let cut = whole[..whole.len() / 2].to_vec();
    run_saved("cache", fuzz_targets::cache, vec![whole, cut]);
}
