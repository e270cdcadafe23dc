//! Keys inside archives and compressed streams, end to end: every format, nesting up to the
//! depth limit and past it, bombs stopped by their limits, damaged and encrypted archives,
//! hostile entry names, and an archive committed to git history. Every archive is built here,
//! around fake credentials.

#[allow(dead_code)]
mod common;

use std::io::Write;
use std::path::Path;

use common::repo::{keyhound_for_git, Creds, Repo};
use common::{keyhound_in, run, Run};

/// `keyhound scan ARGS -f json --show-secrets` in `dir`.
fn scan(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = keyhound_in(dir);
    cmd.args(["scan", "-f", "json", "--show-secrets"])
        .args(args);
    run(&mut cmd)
}

/// Every place the report gives for the key pair `creds`, sorted.
fn places(run: &Run, creds: &Creds) -> Vec<String> {
    run.places_of(&creds.id)
}

/// The skipped inputs of a report, as (path, category).
fn skipped(run: &Run) -> Vec<(String, String)> {
    run.skipped()
}

fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn zip_of(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, data) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn deflated_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    zip_of(entries, zip::CompressionMethod::Deflated)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn bzip2(data: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn xz(data: &[u8]) -> Vec<u8> {
    let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 6);
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

#[test]
fn a_key_is_found_at_its_inner_path_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let creds = Creds::new(51);
    let file = creds.ini().into_bytes();
    let tar = tar_of(&[("home/dev/.aws/credentials", &file), ("README", b"hello\n")]);
    let zip = deflated_zip(&[("config/application.properties", &file)]);
    let archives: Vec<(&str, Vec<u8>)> = vec![
        ("backup.tar", tar.clone()),
        ("backup.tar.gz", gzip(&tar)),
        ("backup.tgz.bin", gzip(&tar)),
        ("backup.tar.bz2", bzip2(&tar)),
        ("backup.tar.xz", xz(&tar)),
        ("backup.tar.zst", zstd(&tar)),
        ("app.jar", zip.clone()),
        ("lib.whl", zip.clone()),
        ("no-extension", zip),
        ("credentials.gz", gzip(&file)),
        ("credentials.bz2", bzip2(&file)),
        ("credentials.xz", xz(&file)),
        ("credentials.zst", zstd(&file)),
    ];
    for (name, bytes) in &archives {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let run = scan(dir.path(), &["."]);
    run.expect_code(1);
    let expected: Vec<String> = {
        let mut e: Vec<String> = archives
            .iter()
            .map(|(name, _)| match *name {
                n if n.starts_with("credentials.") => n.to_string(),
                n if n.starts_with("backup") => format!("{n}!/home/dev/.aws/credentials"),
                n => format!("{n}!/config/application.properties"),
            })
            .collect();
        e.sort();
        e
    };
    assert_eq!(places(&run, &creds), expected);
    assert!(skipped(&run).is_empty(), "{:?}", skipped(&run));
    // Each file read counts: two in each of the five different tars, one in the zip and in
    // each stream. The second gzip of the tar and the zip's two copies are the same bytes as
    // a file already read: they are not read again, and their findings are theirs all the same.
    assert_eq!(run.json()["summary"]["files_scanned"], 15);

    // With archives turned off, none is opened: they are binary files.
    let off = scan(dir.path(), &[".", "--max-archive-depth", "0"]);
    assert!(places(&off, &creds).is_empty());
}

#[test]
fn archives_nest_up_to_the_depth_limit_and_say_where_they_stop() {
    let dir = tempfile::tempdir().unwrap();
    let creds = Creds::new(52);
    let file = creds.ini().into_bytes();
    let jar = deflated_zip(&[("application.properties", &file)]);
    let war = deflated_zip(&[("WEB-INF/lib/core.jar", &jar)]);
    let bundle = gzip(&tar_of(&[("dist/app.war", &war)]));
    std::fs::write(dir.path().join("release.tar.gz"), bundle).unwrap();
    let run = scan(dir.path(), &["."]);
    run.expect_code(1);
    assert_eq!(
        places(&run, &creds),
        ["release.tar.gz!/dist/app.war!/WEB-INF/lib/core.jar!/application.properties"]
    );
    let text = run_text(dir.path(), &["."]);
    assert!(text
        .contains("release.tar.gz!/dist/app.war!/WEB-INF/lib/core.jar!/application.properties:3:"));

    let shallow = scan(dir.path(), &[".", "--max-archive-depth", "2"]);
    shallow.expect_code(2);
    assert!(places(&shallow, &creds).is_empty());
    assert_eq!(
        skipped(&shallow),
        [(
            "release.tar.gz!/dist/app.war!/WEB-INF/lib/core.jar".to_string(),
            "archive limit".to_string()
        )]
    );
    assert!(
        shallow.stderr.contains("--max-archive-depth 2"),
        "{}",
        shallow.stderr
    );
}

fn run_text(dir: &Path, args: &[&str]) -> String {
    let mut cmd = keyhound_in(dir);
    cmd.args(["scan", "--color", "never"]).args(args);
    run(&mut cmd).stdout_text()
}

#[test]
fn bombs_are_stopped_by_their_limits() {
    let dir = tempfile::tempdir().unwrap();
    let creds = Creds::new(53);
    // A key first, then a long run of empty lines: the key is found, the rest not inflated.
    let mut payload = creds.dotenv().into_bytes();
    payload.resize(16 << 20, b'\n');
    std::fs::write(dir.path().join("zeros.bz2"), bzip2(&payload)).unwrap();
    let run = scan(dir.path(), &["zeros.bz2"]);
    run.expect_code(1);
    assert_eq!(places(&run, &creds), ["zeros.bz2"]);
    assert_eq!(
        skipped(&run),
        [("zeros.bz2".into(), "archive limit".into())]
    );
    assert!(run.stderr.contains("ratio over 1000"), "{}", run.stderr);

    // One zip entry that would inflate far beyond its size.
    let zip = zip_of(&[("huge.bin", &payload)], zip::CompressionMethod::Bzip2);
    std::fs::write(dir.path().join("ratio.zip"), zip).unwrap();
    let run = scan(dir.path(), &["ratio.zip"]);
    run.expect_code(2);
    assert_eq!(
        skipped(&run),
        [("ratio.zip".into(), "archive limit".into())]
    );

    // 42.zip's shape: each layer holds sixteen copies of the one below; the bottom one holds
    // a megabyte of zeros. Four layers would inflate 64 GiB; the copies are the same bytes, so
    // each layer is read once and the whole is a few megabytes of work, read to its end.
    let mut layer = deflated_zip(&[("zeros", &vec![0u8; 1 << 20])]);
    for _ in 0..4 {
        let names: Vec<String> = (0..16).map(|i| format!("{i:x}.zip")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &layer[..])).collect();
        layer = deflated_zip(&entries);
    }
    std::fs::write(dir.path().join("42.zip"), &layer).unwrap();
    let started = std::time::Instant::now();
    let run = scan(dir.path(), &["42.zip", "--max-archive-depth", "5"]);
    run.expect_code(0);
    // Each of the 65,536 files at the bottom is there, and binary.
    let skips = skipped(&run);
    assert_eq!(skips.len(), 1 << 16);
    assert!(skips.iter().all(|(_, category)| category == "binary"));
    assert!(skips.contains(&(
        "42.zip!/f.zip!/3.zip!/0.zip!/c.zip!/zeros".into(),
        "binary".into()
    )));
    eprintln!("42.zip read in {:?}", started.elapsed());

    // Different bytes in every entry: each is read, until the budget of inflated bytes is
    // spent.
    let parts: Vec<Vec<u8>> = (0..100u8)
        .map(|i| {
            let mut zeros = vec![0u8; 1 << 20];
            zeros[0] = i;
            zeros
        })
        .collect();
    let names: Vec<String> = (0..100).map(|i| format!("part{i}.bin")).collect();
    let entries: Vec<(&str, &[u8])> = names
        .iter()
        .zip(&parts)
        .map(|(n, p)| (n.as_str(), &p[..]))
        .collect();
    std::fs::write(dir.path().join("parts.zip"), deflated_zip(&entries)).unwrap();
    let run = scan(
        dir.path(),
        &["parts.zip", "--scan-binary", "--max-archive-bytes", "64M"],
    );
    run.expect_code(2);
    let limits: Vec<(String, String)> = skipped(&run)
        .into_iter()
        .filter(|(_, category)| category == "archive limit")
        .collect();
    assert!(!limits.is_empty());
    assert!(
        run.stderr.contains("67108864 bytes inflated"),
        "{}",
        run.stderr
    );
}

#[test]
fn damaged_and_encrypted_archives_are_skipped_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (Creds::new(54), Creds::new(55));
    let zip = deflated_zip(&[
        ("first.env", first.dotenv().as_bytes()),
        ("second.env", second.dotenv().as_bytes()),
    ]);
    // Cut inside the second entry: the first is still read.
    let second_header = zip
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"PK\x03\x04")
        .nth(1)
        .map(|(i, _)| i)
        .unwrap();
    std::fs::write(dir.path().join("cut.zip"), &zip[..second_header + 40]).unwrap();
    let run = scan(dir.path(), &["cut.zip"]);
    run.expect_code(1);
    assert_eq!(places(&run, &first), ["cut.zip!/first.env"]);
    assert!(places(&run, &second).is_empty());
    // Read as far as it goes: the damage is a note, not a gap in the scan.
    assert_eq!(
        skipped(&run),
        [
            ("cut.zip".to_string(), "damaged".to_string()),
            ("cut.zip!/second.env".to_string(), "damaged".to_string())
        ]
    );
    assert_eq!(run.json()["summary"]["incomplete"], false);

    // The "encrypted" flag of the only entry's local header set: it is not read, by design, and
    // said.
    let mut encrypted = zip_of(
        &[("secret.env", first.dotenv().as_bytes())],
        zip::CompressionMethod::Stored,
    );
    encrypted[6] |= 1;
    std::fs::write(dir.path().join("locked.zip"), &encrypted).unwrap();
    let run = scan(dir.path(), &["locked.zip"]);
    run.expect_code(0);
    assert_eq!(
        skipped(&run),
        [(
            "locked.zip!/secret.env".to_string(),
            "encrypted".to_string()
        )]
    );
}

#[test]
fn hostile_entry_names_are_shown_escaped_and_never_used() {
    let dir = tempfile::tempdir().unwrap();
    let creds = Creds::new(56);
    let mut tar = Vec::new();
    {
        // tar::Builder refuses `..`; a raw header does not.
        let data = creds.dotenv().into_bytes();
        let mut header = tar::Header::new_ustar();
        let name = b"../../x/\x1b[31m.env";
        header.as_ustar_mut().unwrap().name[..name.len()].copy_from_slice(name);
        header.set_size(data.len() as u64);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar.extend_from_slice(header.as_bytes());
        tar.extend_from_slice(&data);
        tar.resize(tar.len().div_ceil(512) * 512 + 1024, 0);
    }
    std::fs::write(dir.path().join("evil.tar"), &tar).unwrap();
    let run = scan(dir.path(), &["evil.tar"]);
    run.expect_code(1);
    assert_eq!(
        places(&run, &creds),
        ["evil.tar!/%2E%2E/%2E%2E/x/%1B[31m.env"]
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "nothing is written anywhere");
}

#[test]
fn an_archive_in_git_history_is_opened_and_attributed() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repo::init(dir.path(), "repo");
    let creds = Creds::new(57);
    let bundle = gzip(&tar_of(&[(
        "home/.aws/credentials",
        creds.ini().as_bytes(),
    )]));
    std::fs::write(repo.path.join("backup.tgz"), bundle).unwrap();
    let commit = repo.commit("backup");
    repo.git(&["rm", "-q", "backup.tgz"]);
    repo.commit("remove the backup");
    let mut cmd = keyhound_for_git(&repo.path);
    cmd.args(["git", "--no-progress", "-f", "json", "--show-secrets"]);
    let run = run(&mut cmd);
    run.expect_code(1);
    let report = run.json();
    let finding = &report["findings"][0];
    assert_eq!(finding["path"], "backup.tgz!/home/.aws/credentials");
    assert_eq!(finding["git"]["commit"]["id"], commit.as_str());
    assert_eq!(finding["in_head"], false);
}

/// How the property test packs its entries: with keyhound's test writers, or with the tools
/// people use (which CI installs; where one is missing, the case is packed as a plain zip and
/// says so).
#[derive(Debug, Clone, Copy)]
enum Packing {
    Zip,
    StoredZip,
    Tar,
    TarGz,
    TarXz,
    ZipInTarGz,
    /// OpenJDK's `jar`: sizes in data descriptors.
    JarTool,
    /// Info-ZIP `zip` writing to a pipe: data descriptors, deflated or stored.
    InfoZipPipe,
    /// Python's `zipfile` on a stream that cannot seek, stored: found by its descriptor.
    PythonStream,
    /// `bsdtar --format pax`, gzipped.
    BsdtarPaxGz,
}

/// Writes `entries` into a new directory and runs `shell` there, which writes `out`; returns
/// what it wrote, or None when `tool` is not installed.
fn packed_by(tool: &str, entries: &[(&str, &[u8])], shell: &str) -> Option<Vec<u8>> {
    if !common::archiver_installed(tool) {
        eprintln!("{tool} is not installed: a plain zip stands in");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, data) in entries {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
    let names: Vec<&str> = entries.iter().map(|(n, _)| *n).collect();
    let output = std::process::Command::new("sh")
        .args(["-c", &shell.replace("NAMES", &names.join(" "))])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{shell}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(std::fs::read(dir.path().join("out")).unwrap())
}

impl Packing {
    /// The archive of `entries`, and the prefix reports put before an entry's name.
    fn pack(self, entries: &[(&str, &[u8])]) -> (Vec<u8>, &'static str) {
        match self {
            Packing::Zip => (deflated_zip(entries), "-!/"),
            Packing::StoredZip => (zip_of(entries, zip::CompressionMethod::Stored), "-!/"),
            Packing::Tar => (tar_of(entries), "-!/"),
            Packing::TarGz => (gzip(&tar_of(entries)), "-!/"),
            Packing::TarXz => (xz(&tar_of(entries)), "-!/"),
            Packing::ZipInTarGz => {
                let inner = deflated_zip(entries);
                let outer = gzip(&tar_of(&[("lib/inner.jar", &inner)]));
                (outer, "-!/lib/inner.jar!/")
            }
            Packing::JarTool => Self::by("jar", entries, "jar cf out NAMES", "-!/"),
            Packing::InfoZipPipe => Self::by("zip", entries, "zip -q - NAMES | cat > out", "-!/"),
            Packing::PythonStream => Self::by(
                "python3",
                entries,
                "python3 -c \"import sys, zipfile\nclass Pipe:\n    def __init__(s, f): s.f = f\n    \
                 def write(s, b): return s.f.write(b)\n    def flush(s): s.f.flush()\nwith \
                 open('out', 'wb') as f, zipfile.ZipFile(Pipe(f), 'w') as z:\n    \
                 [z.write(n) for n in sys.argv[1:]]\" NAMES",
                "-!/",
            ),
            Packing::BsdtarPaxGz => Self::by(
                "bsdtar",
                entries,
                "bsdtar --format pax -czf out NAMES",
                "-!/",
            ),
        }
    }

    /// What `tool` packs with `shell`, or a plain zip where it is not installed.
    fn by(
        tool: &str,
        entries: &[(&str, &[u8])],
        shell: &str,
        prefix: &'static str,
    ) -> (Vec<u8>, &'static str) {
        match packed_by(tool, entries, shell) {
            Some(archive) => (archive, prefix),
            None => (deflated_zip(entries), "-!/"),
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]

    /// A key planted in any entry of a random archive is found at that entry's inner path,
    /// on its line.
    #[test]
    fn a_key_in_any_entry_of_any_archive_is_found_at_its_inner_path(
        packing in proptest::prop_oneof![
            proptest::prelude::Just(Packing::Zip),
            proptest::prelude::Just(Packing::StoredZip),
            proptest::prelude::Just(Packing::Tar),
            proptest::prelude::Just(Packing::TarGz),
            proptest::prelude::Just(Packing::TarXz),
            proptest::prelude::Just(Packing::ZipInTarGz),
            proptest::prelude::Just(Packing::JarTool),
            proptest::prelude::Just(Packing::InfoZipPipe),
            proptest::prelude::Just(Packing::PythonStream),
            proptest::prelude::Just(Packing::BsdtarPaxGz),
        ],
        names in proptest::collection::btree_set("[a-z]{1,8}(/[a-z]{1,8}){0,2}\\.[a-z]{2,4}", 1..6),
        fillers in proptest::collection::vec(proptest::collection::vec("[a-z0-9 =:_./-]{0,60}", 0..40), 6),
        target in 0usize..6,
        seed in 0u64..1_000_000,
    ) {
        let names: Vec<String> = names.into_iter().collect();
        let target = target % names.len();
        let creds = Creds::new(seed);
        let contents: Vec<Vec<u8>> = names
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let mut text = fillers[i].join("\n");
                text.push('\n');
                if i == target {
                    text.push_str(&creds.ini());
                }
                text.into_bytes()
            })
            .collect();
        let entries: Vec<(&str, &[u8])> = names
            .iter()
            .zip(&contents)
            .map(|(n, c)| (n.as_str(), c.as_slice()))
            .collect();
        let (archive, prefix) = packing.pack(&entries);
        let mut cmd = keyhound_in(Path::new("."));
        cmd.args(["scan", "-", "-f", "json", "--show-secrets"]).write_stdin(archive);
        let run = run(&mut cmd);
        proptest::prop_assert_eq!(run.code, Some(1), "{}", run.stderr);
        proptest::prop_assert_eq!(
            places(&run, &creds),
            vec![format!("{prefix}{}", names[target])]
        );
        let report = run.json();
        let finding = &report["findings"][0];
        // The filler takes its lines (at least the one its final newline ends), the ini's
        // profile line the next; the key ID is on the line after that.
        let id_line = fillers[target].len().max(1) as u64 + 2;
        proptest::prop_assert_eq!(finding["pair"]["line"].as_u64(), Some(id_line));
    }
}

#[test]
fn sarif_points_at_the_outer_file_and_names_the_path_inside() {
    let dir = tempfile::tempdir().unwrap();
    let creds = Creds::new(58);
    let bundle = gzip(&tar_of(&[("etc/app/.env", creds.dotenv().as_bytes())]));
    std::fs::write(dir.path().join("bundle.tgz"), bundle).unwrap();
    let mut cmd = keyhound_in(dir.path());
    cmd.args(["scan", ".", "-f", "sarif"]);
    let run = run(&mut cmd);
    run.expect_code(1);
    let log: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let result = &log["runs"][0]["results"][0];
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "bundle.tgz");
    assert_eq!(
        location["region"]["properties"]["archivePath"],
        "bundle.tgz!/etc/app/.env"
    );
    let message = result["message"]["text"].as_str().unwrap();
    assert!(message.contains("bundle.tgz!/etc/app/.env"), "{message}");
    assert!(!run.stdout_text().contains(&creds.secret));
}

#[test]
fn an_image_tarball_names_the_layer_and_marks_files_a_later_layer_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let (deleted, kept) = (Creds::new(59), Creds::new(60));
    let first = tar_of(&[
        ("app/.env", deleted.dotenv().as_bytes()),
        ("app/config.ini", kept.ini().as_bytes()),
    ]);
    // The second layer deletes app/.env with a whiteout, and is gzipped as OCI layers are.
    let second = gzip(&tar_of(&[
        ("app/.wh..env", b""),
        ("app/run.sh", b"exec app\n"),
    ]));
    let config = br#"{"rootfs":{"diff_ids":["sha256:1111","sha256:2222"]},"history":[
        {"created_by":"COPY . /app # buildkit"},
        {"created_by":"ENV MODE=prod","empty_layer":true},
        {"created_by":"RUN rm /app/.env"}]}"#;
    let manifest = br#"[{"Config":"config.json","RepoTags":["app:1"],
        "Layers":["blobs/sha256/aaaa","blobs/sha256/bbbb"]}]"#;
    let image = tar_of(&[
        ("blobs/sha256/aaaa", &first),
        ("blobs/sha256/bbbb", &second),
        ("config.json", config),
        ("manifest.json", manifest),
    ]);
    std::fs::write(dir.path().join("app-image.tar"), image).unwrap();
    let run = scan(dir.path(), &["app-image.tar"]);
    run.expect_code(1);
    let report = run.json();
    let of = |creds: &Creds| -> serde_json::Value {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["pair"]["key_id"] == creds.id.as_str())
            .unwrap()
            .clone()
    };
    let gone = of(&deleted);
    assert_eq!(gone["path"], "app-image.tar!/blobs/sha256/aaaa!/app/.env");
    assert_eq!(gone["image"]["index"], 1);
    assert_eq!(gone["image"]["digest"], "sha256:aaaa");
    assert_eq!(gone["image"]["created_by"], "COPY . /app # buildkit");
    assert_eq!(gone["image"]["in_final_image"], false);
    let there = of(&kept);
    assert_eq!(there["image"]["in_final_image"], true);
    let text = run_text(dir.path(), &["app-image.tar"]);
    assert!(
        text.contains("in image layer 1 (sha256:aaaa), made by `COPY . /app # buildkit`"),
        "{text}"
    );
    assert!(text.contains("deleted by a later layer"), "{text}");
}

#[test]
fn a_known_unreadable_fixture_accepted_by_path_is_listed_and_does_not_fail_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let creds = Creds::new(61);
    let zip = deflated_zip(&[
        ("first.env", creds.dotenv().as_bytes()),
        ("second.env", b"nothing here\n"),
    ]);
    // The second entry damaged, as test suites keep such fixtures on purpose.
    std::fs::create_dir_all(dir.path().join("t/fixtures")).unwrap();
    let cut = &corrupt_second_entry(&zip);
    std::fs::write(dir.path().join("t/fixtures/cut.zip"), cut).unwrap();
    std::fs::write(dir.path().join("t/fixtures/cut-too.zip"), cut).unwrap();
    std::fs::create_dir_all(dir.path().join("vendor")).unwrap();
    std::fs::write(dir.path().join("vendor/cut.zip"), cut).unwrap();
    std::fs::write(
        dir.path().join("keyhound.toml"),
        "[[accept]]\npath = \"t/fixtures/cut*.zip\"\nreason = \"truncated on purpose by the \
         tests\"\n\n[allowlist]\npaths = [\"vendor/\"]\n",
    )
    .unwrap();
    let run = scan(dir.path(), &["."]);
    // The key before the damage is still found; nothing left unread counts against the scan.
    run.expect_code(1);
    assert_eq!(
        places(&run, &creds),
        [
            "t/fixtures/cut-too.zip!/first.env",
            "t/fixtures/cut.zip!/first.env"
        ]
    );
    let report = run.json();
    assert_eq!(report["summary"]["incomplete"], false);
    let accepted: Vec<(String, String)> = skipped(&run)
        .into_iter()
        .filter(|(_, category)| category == "accepted")
        .collect();
    assert_eq!(
        accepted,
        [
            "t/fixtures/cut-too.zip!/second.env",
            "t/fixtures/cut.zip!/second.env",
        ]
        .map(|path| (path.to_string(), "accepted".to_string()))
    );
    let reasons = report["summary"]["skipped"].to_string();
    assert!(
        reasons.contains("truncated on purpose by the tests"),
        "{reasons}"
    );
    // What the allowlist covers is not read at all: nothing found there would be reported.
    assert!(!reasons.contains("vendor"), "{reasons}");
    // Named on the command line, it is read, and what it could not read is accepted.
    let named = scan(dir.path(), &["vendor/cut.zip"]);
    named.expect_code(0);
    assert_eq!(
        skipped(&named),
        ["vendor/cut.zip!/second.env"].map(|path| (path.to_string(), "accepted".to_string()))
    );
    let reasons = named.json()["summary"]["skipped"].to_string();
    assert!(
        reasons.contains("[allowlist] paths glob `vendor/`"),
        "{reasons}"
    );
    // Every format says so.
    let text = run_text(dir.path(), &["t/fixtures/cut.zip"]);
    let mut cmd = keyhound_in(dir.path());
    cmd.args(["scan", "t/fixtures/cut.zip", "--color", "never"]);
    let stderr = common::run(&mut cmd).stderr;
    assert!(
        stderr.contains("accepted as unread: t/fixtures/cut.zip"),
        "{text}{stderr}"
    );
    for (format, expected) in [
        ("markdown", "Accepted as unread"),
        ("sarif", "Accepted as unread: t/fixtures/cut.zip"),
        ("junit", "inputs accepted as unread"),
    ] {
        let mut cmd = keyhound_in(dir.path());
        cmd.args(["scan", "t/fixtures/cut.zip", "-f", format]);
        let out = common::run(&mut cmd);
        out.expect_code(1);
        assert!(
            out.stdout_text().contains(expected),
            "{format}: {}",
            out.stdout_text()
        );
    }
    // Without the configuration the same scan is incomplete.
    std::fs::remove_file(dir.path().join("keyhound.toml")).unwrap();
    let run = scan(dir.path(), &["."]);
    assert_eq!(run.json()["summary"]["incomplete"], true);
}

#[test]
fn an_unreadable_archive_in_history_is_shown_at_its_path_and_can_be_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repo::init(dir.path(), "repo");
    let zip = deflated_zip(&[("a.env", b"x=1\n"), ("b.env", b"y=2\n")]);
    std::fs::create_dir_all(repo.path.join("t")).unwrap();
    std::fs::write(repo.path.join("t/cut.zip"), corrupt_second_entry(&zip)).unwrap();
    repo.git(&["add", "t/cut.zip"]);
    repo.commit("a damaged fixture");
    let mut cmd = keyhound_for_git(&repo.path);
    cmd.args(["git", ".", "-f", "json"]);
    let run = run(&mut cmd);
    run.expect_code(2);
    assert_eq!(
        skipped(&run),
        [("t/cut.zip!/b.env".to_string(), "unreadable".to_string())]
    );
    repo.write(
        "keyhound.toml",
        "[[accept]]\npath = \"t/cut.zip\"\nreason = \"a damaged fixture\"\n",
    );
    let mut cmd = keyhound_for_git(&repo.path);
    cmd.args(["git", ".", "-f", "json"]);
    let run = common::run(&mut cmd);
    run.expect_code(0);
    assert_eq!(
        skipped(&run),
        [("t/cut.zip!/b.env".to_string(), "accepted".to_string())]
    );
}

/// Where the second local header of `zip` starts.
/// `zip` with the deflated data of its second entry (a five-letter name and an extension, no
/// extra field) made unreadable: a reserved block type.
fn corrupt_second_entry(zip: &[u8]) -> Vec<u8> {
    let mut damaged = zip.to_vec();
    let data = second_entry(zip) + 30 + "second.env".len();
    damaged[data] = 0xff;
    damaged
}

fn second_entry(zip: &[u8]) -> usize {
    zip.windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"PK\x03\x04")
        .nth(1)
        .map(|(i, _)| i)
        .unwrap()
}

#[test]
fn an_archive_or_stream_cut_short_is_a_note_not_a_gap() {
    // As test suites keep them: a GNU tar cut inside an entry's data, and a gzip whose
    // checksum does not match what it inflates to. Everything there was read.
    let dir = tempfile::tempdir().unwrap();
    let creds = Creds::new(62);
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("a.env"), creds.dotenv()).unwrap();
    std::fs::write(tree.join("b.txt"), "x".repeat(20_000)).unwrap();
    let tar = dir.path().join("full.tar");
    let made = std::process::Command::new("tar")
        .args(["--format=gnu", "-cf"])
        .arg(&tar)
        .args(["-C", tree.to_str().unwrap(), "a.env", "b.txt"])
        .status()
        .unwrap();
    assert!(made.success());
    let bytes = std::fs::read(&tar).unwrap();
    std::fs::create_dir_all(dir.path().join("t")).unwrap();
    std::fs::write(dir.path().join("t/cut.tar"), &bytes[..3 * 512 + 5_000]).unwrap();
    let mut gz = gzip(creds.dotenv().as_bytes());
    let crc = gz.len() - 8;
    gz[crc] ^= 0xff;
    std::fs::write(dir.path().join("t/bad-crc.env.gz"), &gz).unwrap();
    std::fs::remove_file(&tar).unwrap();

    let run = scan(dir.path(), &["t"]);
    run.expect_code(1);
    assert_eq!(
        places(&run, &creds),
        ["t/bad-crc.env.gz", "t/cut.tar!/a.env"].map(str::to_string)
    );
    assert_eq!(run.json()["summary"]["incomplete"], false);
    let categories: Vec<String> = skipped(&run).into_iter().map(|(_, c)| c).collect();
    assert!(
        !categories.is_empty() && categories.iter().all(|c| c == "damaged"),
        "{:?}",
        skipped(&run)
    );
    let reasons = run.json()["summary"]["skipped"].to_string();
    assert!(reasons.contains("matching checksum"), "{reasons}");
    assert!(reasons.contains("ends inside an entry's data"), "{reasons}");
}
