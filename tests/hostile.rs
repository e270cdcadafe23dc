//! Hostile inputs: huge lines, millions of lines, deep trees, names that are not UTF-8, archives
//! and UTF-16. Each test asserts that the scan finishes and finds (or skips, saying so) what is
//! planted; the slowest, 200,000 files, is `#[ignore]`d (run it with `cargo test -- --ignored`).

#[allow(dead_code)]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{keyhound_in, network_calls, run, str_field, u64_field, Fakes};

/// Runs `keyhound scan - -f jsonl` on what `feed` writes to its standard input, streamed, and
/// returns the findings.
fn scan_stream(feed: impl FnOnce(&mut dyn Write) + Send + 'static) -> Vec<serde_json::Value> {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("keyhound"))
        .args(["scan", "-", "-f", "jsonl", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keyhound starts");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, &mut stdin);
        feed(&mut out);
        out.flush().expect("keyhound reads its input");
    });
    let output = child.wait_with_output().expect("keyhound runs");
    writer.join().expect("the writer finishes");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    common::parse_jsonl(&output.stdout)
}

#[test]
fn a_one_gib_line_streamed_on_standard_input_is_scanned_to_its_end() {
    let id = Fakes::new(90).key_id("AKIA");
    // Varied letters and no keyword: the prefilter has nothing to stop on for a whole GiB.
    let block: Vec<u8> = (0..1 << 16)
        .map(|i: u32| {
            b"bcdefghjlmnopqrtuvwxyz"[(i.wrapping_mul(2_654_435_761) >> 27) as usize % 22]
        })
        .collect();
    let blocks = (1usize << 30) / block.len();
    let planted = id.clone();
    let findings = scan_stream(move |out| {
        for _ in 0..blocks {
            out.write_all(&block).unwrap();
        }
        write!(out, " {planted} ").unwrap();
    });
    let found: Vec<_> = findings
        .iter()
        .filter(|f| f["secret"] == id.as_str())
        .collect();
    assert_eq!(found.len(), 1, "{findings:?}");
    assert_eq!(u64_field(found[0], "line"), 1);
    assert_eq!(u64_field(found[0], "column"), (1u64 << 30) + 2);
}

#[test]
fn ten_million_short_lines_are_counted_exactly() {
    let id = Fakes::new(91).key_id("AKIA");
    let planted = id.clone();
    let findings = scan_stream(move |out| {
        for _ in 0..10_000_000 {
            out.write_all(b"x\n").unwrap();
        }
        writeln!(out, "aws_access_key_id = {planted}").unwrap();
    });
    let found: Vec<_> = findings
        .iter()
        .filter(|f| f["secret"] == id.as_str())
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(u64_field(found[0], "line"), 10_000_001);
    assert_eq!(u64_field(found[0], "column"), 21);
}

#[test]
fn a_directory_1000_levels_deep_is_walked_to_the_bottom() {
    let dir = tempfile::tempdir().unwrap();
    let mut path = dir.path().to_path_buf();
    for _ in 0..1000 {
        path.push("d");
    }
    std::fs::create_dir_all(&path).unwrap();
    let id = Fakes::new(92).key_id("AKIA");
    std::fs::write(path.join("creds.env"), format!("AWS_ACCESS_KEY_ID={id}\n")).unwrap();
    let run = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "jsonl"]));
    run.expect_code(1);
    let findings = run.jsonl();
    assert_eq!(findings.len(), 1);
    assert_eq!(str_field(&findings[0], "path").matches("d/").count(), 1000);
}

#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8_is_scanned_and_shown_safely() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9-\x1b[31m.env");
    let id = Fakes::new(93).key_id("AKIA");
    std::fs::write(dir.path().join(name), format!("AWS_ACCESS_KEY_ID={id}\n")).unwrap();
    for format in ["jsonl", "text"] {
        let run =
            run(keyhound_in(dir.path()).args(["scan", ".", "--color", "never", "-f", format]));
        run.expect_code(1);
        let out = run.stdout_text();
        assert!(out.contains(&id), "{out}");
        assert!(
            !run.stdout.contains(&0x1b),
            "a raw escape reached the output: {out:?}"
        );
    }
}

#[test]
fn an_archive_is_opened_unless_archives_are_turned_off() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let id = Fakes::new(94).key_id("AKIA");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!("AWS_ACCESS_KEY_ID={id}\n").as_bytes())
        .unwrap();
    std::fs::write(dir.path().join("creds.env.gz"), gz.finish().unwrap()).unwrap();
    let opened = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "json"]));
    opened.expect_code(1);
    assert_eq!(opened.json()["findings"][0]["path"], "creds.env.gz");
    let args = ["scan", ".", "-f", "json", "--max-archive-depth", "0"];
    let run = run(keyhound_in(dir.path()).args(args));
    run.expect_code(0);
    let json = run.json();
    let skipped = json["summary"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{json}");
    assert_eq!(skipped[0]["category"], "binary");
    assert!(run.stderr.contains("skipped 1 binary"), "{}", run.stderr);
}

#[test]
fn utf16_files_in_either_byte_order_are_scanned_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut fakes = Fakes::new(95);
    let (id, secret) = (fakes.key_id("AKIA"), fakes.secret_key());
    let text = format!(
        "\u{feff}[default]\r\naws_access_key_id = {id}\r\naws_secret_access_key = {secret}\r\n"
    );
    let units: Vec<u16> = text.encode_utf16().collect();
    let le: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
    let be: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
    std::fs::write(dir.path().join("le.ini"), le).unwrap();
    std::fs::write(dir.path().join("be.ini"), be).unwrap();
    let run = run(keyhound_in(dir.path()).args(["scan", ".", "-f", "json", "--show-secrets"]));
    run.expect_code(1);
    let json = run.json();
    let finding = &json["findings"][0];
    assert_eq!(finding["rule_id"], "aws-access-key-pair");
    assert_eq!(finding["secret"], secret.as_str());
    assert_eq!(finding["occurrences"], 2);
    for location in finding["locations"].as_array().unwrap() {
        assert_eq!(location["line"], 3, "{location}");
        assert_eq!(location["column"], 25, "{location}");
        assert_eq!(location["decoded"], serde_json::json!(["utf-16"]));
    }
}

#[test]
#[ignore = "slow: creates 200,000 files; run with cargo test -- --ignored"]
fn two_hundred_thousand_tiny_files_in_a_deep_tree_are_all_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let id = Fakes::new(96).key_id("AKIA");
    for i in 0..200_000u32 {
        let sub = dir
            .path()
            .join(format!("{}/{}/{}", i % 50, (i / 50) % 40, (i / 2000) % 10));
        std::fs::create_dir_all(&sub).unwrap();
        let content = if i == 123_457 {
            format!("AWS_ACCESS_KEY_ID={id}\n")
        } else {
            format!("n = {i}\n")
        };
        std::fs::write(sub.join(format!("f{i}.txt")), content).unwrap();
    }
    let run = run(keyhound_in(dir.path())
        .args(["scan", ".", "-f", "json"])
        .timeout(std::time::Duration::from_secs(600)));
    run.expect_code(1);
    let json = run.json();
    assert_eq!(json["summary"]["files_scanned"], 200_000);
    assert_eq!(json["findings"][0]["secret"], id.as_str());
}

#[test]
fn scans_and_history_audits_open_no_network_socket() {
    let dir = tempfile::tempdir().unwrap();
    let id = Fakes::new(97).key_id("AKIA");
    std::fs::write(
        dir.path().join("creds.env"),
        format!("AWS_ACCESS_KEY_ID={id}\n"),
    )
    .unwrap();
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .status()
            .expect("git runs");
        assert!(status.success());
    };
    git(&["init", "-q"]);
    git(&["add", "creds.env"]);
    git(&["commit", "-q", "-m", "add"]);
    for args in [
        &["scan", ".", "-q"][..],
        &["git", ".", "-q", "--no-progress"],
        &["git", "--staged", "-q"],
    ] {
        if args[0] == "git" && args[1] == "--staged" {
            std::fs::write(dir.path().join("more.env"), format!("id = {id}\n")).unwrap();
            git(&["add", "more.env"]);
        }
        if let Some(calls) = network_calls(dir.path(), args, 1) {
            assert!(
                calls.trim().is_empty(),
                "keyhound {args:?} used the network:\n{calls}"
            );
        }
    }
}

/// Files listed by the walk and deleted before keyhound opens them are reported as vanished.
/// keyhound reads a directory's entries before it visits them, and with one thread it opens
/// the others only after the big file: deleting them while it holds the big file open makes
/// them vanish between listing and reading.
#[cfg(target_os = "linux")]
#[test]
fn files_deleted_after_the_walk_listed_them_are_reported_as_vanished() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let big = root.join("big.log");
    let line = b"2026-11-28T10:00:00Z GET /healthz 200 0.4ms\n";
    let content = line.repeat((128 << 20) / line.len());
    for _ in 0..5 {
        std::fs::write(&big, &content).unwrap();
        let doomed: Vec<_> = (0..50)
            .map(|i| root.join(format!("note-{i}.txt")))
            .collect();
        for path in &doomed {
            std::fs::write(path, "nothing secret\n").unwrap();
        }
        let child = start_scan_holding(&root, &["-j", "1"], &big);
        for path in &doomed {
            std::fs::remove_file(path).unwrap();
        }
        let output = child.wait_with_output().expect("keyhound runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let vanished: Vec<&str> = report["summary"]["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["category"] == "vanished")
            .map(|s| s["path"].as_str().unwrap())
            .collect();
        if vanished.is_empty() {
            // keyhound visited every note before the big file: try again.
            assert_eq!(output.status.code(), Some(0), "{stderr}");
            continue;
        }
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert_eq!(report["summary"]["incomplete"], true);
        assert!(
            stderr.contains("disappeared before it could be read"),
            "{stderr}"
        );
        let scanned = report["summary"]["files_scanned"].as_u64().unwrap();
        // Every note was either read before the deletion or reported as vanished.
        assert_eq!(scanned + vanished.len() as u64, 51, "{stderr}");
        for path in vanished {
            assert!(path.contains("note-"), "{path}");
        }
        return;
    }
    panic!("no note was deleted between listing and reading: the race could not be set up");
}

/// CI runs the whole test suite in a network namespace of its own with no interface up
/// (`unshare --net`), so every keyhound run of every test had no network to reach. This test
/// checks that the isolation is real when CI says it is there (`KEYHOUND_EXPECT_NO_NETWORK`).
#[cfg(target_os = "linux")]
#[test]
fn the_suite_runs_with_no_network_when_ci_isolates_it() {
    if std::env::var_os("KEYHOUND_EXPECT_NO_NETWORK").is_none() {
        eprintln!("not in a network namespace: the isolated run is CI's (.ci/run)");
        return;
    }
    // /proc/net follows the reading process's network namespace (unlike /sys/class/net).
    let devices = std::fs::read_to_string("/proc/net/dev").unwrap();
    let interfaces: Vec<&str> = devices
        .lines()
        .skip(2)
        .filter_map(|line| line.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(interfaces, ["lo"], "{devices}");
    let routes = std::fs::read_to_string("/proc/net/route").unwrap();
    assert_eq!(routes.lines().skip(1).count(), 0, "IPv4 routes:\n{routes}");
    let err = std::net::TcpStream::connect(("192.0.2.1", 443)).expect_err("no route anywhere");
    assert_eq!(err.kind(), std::io::ErrorKind::NetworkUnreachable, "{err}");
}

/// Starts `keyhound scan . -f json ARGS` in `dir` and returns once it holds `file` open (or has
/// ended, or 30 s have passed): the moment to change the file system under it.
#[cfg(target_os = "linux")]
fn start_scan_holding(
    dir: &std::path::Path,
    args: &[&str],
    file: &std::path::Path,
) -> std::process::Child {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("keyhound"))
        .args(["scan", ".", "-f", "json"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keyhound starts");
    let started = std::time::Instant::now();
    while !holds_open(child.id(), file)
        && child.try_wait().unwrap().is_none()
        && started.elapsed() < std::time::Duration::from_secs(30)
    {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    child
}

/// Whether process `pid` holds `path` open (from `/proc/PID/fd`).
#[cfg(target_os = "linux")]
fn holds_open(pid: u32, path: &std::path::Path) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.flatten()
                .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == path))
        })
        .unwrap_or(false)
}

#[cfg(target_os = "linux")]
#[test]
fn a_file_cut_short_while_it_is_read_makes_the_scan_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().canonicalize().unwrap().join("big.log");
    let id = Fakes::new(98).key_id("AKIA");
    let line = b"2026-11-28T10:00:00Z GET /healthz 200 0.4ms\n";
    let mut content = Vec::with_capacity(128 << 20);
    while content.len() < 128 << 20 {
        content.extend_from_slice(line);
    }
    content.extend_from_slice(format!("AWS_ACCESS_KEY_ID={id}\n").as_bytes());
    // The truncation races the read: it is made once keyhound holds the file open, and the
    // attempt is repeated when keyhound got there first or stat'ed the file after the cut
    // (which happens more often on a machine busy with other tests).
    for _ in 0..20 {
        std::fs::write(&path, &content).unwrap();
        let child = start_scan_holding(dir.path(), &[], &path);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(1 << 20)
            .unwrap();
        let output = child.wait_with_output().expect("keyhound runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        if stderr.contains("while being read") {
            assert_eq!(output.status.code(), Some(2), "{stderr}");
            assert!(stderr.contains("big.log"), "{stderr}");
            assert!(stderr.contains("the scan is incomplete"), "{stderr}");
            return;
        }
        // keyhound read it all before the cut (the key is found), or saw the cut size.
        assert!(matches!(output.status.code(), Some(0 | 1)), "{stderr}");
    }
    panic!("the file was never cut short during the read: the race could not be set up");
}
