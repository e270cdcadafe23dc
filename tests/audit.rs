//! `keyhound audit` and `keyhound merge` end to end: an organisation's repositories (local,
//! bare, cloned from `file://` URLs, one broken) audited at once, in shards merged back, and
//! with kept clones fetched again.

#[allow(dead_code)]
mod common;

use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

use common::repo::{git_in, keyhound_for_git, Creds, Repo};
use common::{run, Run};

/// `keyhound ARGS` in `dir`, away from the user's git configuration.
fn keyhound(dir: &Path, args: &[&str]) -> Run {
    run(keyhound_for_git(dir).args(args))
}

/// The organisation of the tests: twelve repositories listed in `repos.txt`, one of them not a
/// repository at all.
struct Org {
    dir: TempDir,
    /// In four repositories: two working copies, a bare clone and a `file://` URL, and in one
    /// of them only in history.
    shared: Creds,
    /// One pair in each of eight other repositories.
    own: Vec<Creds>,
}

const BROKEN: &str = "broken";

impl Org {
    fn new() -> Org {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let shared = Creds::new(100);
        let own: Vec<Creds> = (0..8).map(|i| Creds::new(200 + i)).collect();
        let mut list = String::from("# every repository of the organisation\n");
        for i in 0..11 {
            let name = format!("r{i:02}");
            let repo = Repo::init(root, &name);
            repo.write("README.md", &format!("# {name}\n"));
            repo.commit("start");
            match i {
                // The shared key: committed in r00 and r01, and deleted again in r01.
                0 | 1 => {
                    repo.write("config/.env", &shared.dotenv());
                    repo.commit("configure");
                    if i == 1 {
                        repo.remove("config/.env");
                        repo.commit("remove the key");
                    }
                }
                // r02 carries the shared key too, and is listed as a bare clone and as a URL.
                2 => {
                    repo.write("deploy/credentials", &shared.ini());
                    repo.commit("deploy");
                }
                _ => {
                    let creds = &own[i - 3];
                    repo.write(&format!("src/settings_{i}.ini"), &creds.ini());
                    repo.commit("settings");
                    repo.git(&["checkout", "-q", "-b", "topic"]);
                    repo.write("notes.txt", "nothing here\n");
                    repo.commit("notes");
                }
            }
            let entry = match i {
                2 => {
                    git_in(root, &["clone", "-q", "--bare", &name, "r02-bare.git"]);
                    format!("r02-bare.git\n{}", repo.url())
                }
                3..=5 => repo.url(),
                _ => name.clone(),
            };
            list.push_str(&format!("{entry}   # {name}\n"));
        }
        std::fs::create_dir(root.join(BROKEN)).unwrap();
        std::fs::write(root.join(BROKEN).join("HEAD"), "not a repository\n").unwrap();
        list.push_str(&format!("{BROKEN}\n"));
        std::fs::write(root.join("repos.txt"), &list).unwrap();
        Org { dir, shared, own }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn audit(&self, args: &[&str]) -> Run {
        let mut all = vec!["audit", "--repos", "repos.txt", "--no-progress"];
        all.extend_from_slice(args);
        keyhound(self.root(), &all)
    }
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("a findings array")
}

/// The report without what differs from run to run.
fn comparable(mut report: Value) -> Value {
    report["summary"]["elapsed_ms"] = Value::Null;
    report
}

#[test]
fn one_audit_reports_each_key_once_with_every_repository_it_is_in() {
    let org = Org::new();
    let run = org.audit(&["-f", "json", "--show-secrets"]);
    // Secrets are found, so the exit status says so; the broken repository is named.
    run.expect_code(1);
    assert!(
        run.stderr.contains("broken") && run.stderr.contains("not audited"),
        "{}",
        run.stderr
    );
    let report = run.json();
    let summary = &report["summary"];
    assert_eq!(summary["audit"]["repositories"], 12, "{summary}");
    assert_eq!(summary["audit"]["failed"], 1, "{summary}");
    assert_eq!(summary["incomplete"], true);
    let skipped = summary["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{summary}");
    assert_eq!(skipped[0]["category"], "repository not audited");
    assert!(skipped[0]["repo"].as_str().unwrap().ends_with("/broken"));

    let found = findings(&report);
    assert_eq!(found.len(), 1 + org.own.len(), "one finding per key pair");
    let shared: Vec<&Value> = found
        .iter()
        .filter(|f| f["pair"]["key_id"] == org.shared.id.as_str())
        .collect();
    assert_eq!(shared.len(), 1);
    let shared = shared[0];
    assert_eq!(shared["secret"], org.shared.secret.as_str());
    let repos: Vec<&str> = shared["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let root = std::fs::canonicalize(org.root()).unwrap();
    let root = root.to_str().unwrap();
    let url = format!("file://{}/r02", org.root().display());
    let mut expected = vec![
        format!("{root}/r00"),
        format!("{root}/r01"),
        format!("{root}/r02-bare.git"),
        url.clone(),
    ];
    expected.sort();
    assert_eq!(repos, expected);
    assert_eq!(shared["occurrences"], 4);
    // Still in the HEAD of three repositories, though deleted from r01.
    assert_eq!(shared["in_head"], true);
    let r01 = shared["locations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["repo"] == format!("{root}/r01").as_str())
        .expect("the r01 place");
    assert_eq!(r01["path"], "config/.env");
    assert_eq!(r01["git"]["in_head"], false);
    for creds in &org.own {
        let mine: Vec<&Value> = found
            .iter()
            .filter(|f| f["pair"]["key_id"] == creds.id.as_str())
            .collect();
        assert_eq!(mine.len(), 1, "{}", creds.id);
        assert_eq!(mine[0]["occurrences"], 1);
        assert_eq!(
            mine[0]["repositories"],
            serde_json::json!([mine[0]["repo"]])
        );
    }

    // The text report names the repository of every place, and that the key is in four.
    let text = org.audit(&["--color", "never"]);
    let stdout = text.stdout_text();
    assert!(stdout.contains("in 4 repositories"), "{stdout}");
    assert!(
        stdout.contains(&format!("{root}/r01:config/.env")),
        "{stdout}"
    );
    assert!(
        text.stderr.contains("of 12 repositories (1 not audited)"),
        "{}",
        text.stderr
    );

    // SARIF places every artifact under its repository's base id.
    let sarif: Value = serde_json::from_slice(&org.audit(&["-f", "sarif"]).stdout).unwrap();
    let run = &sarif["runs"][0];
    let provenance = run["versionControlProvenance"].as_array().unwrap();
    // Every repository: those with findings, and the one that could not be audited.
    assert_eq!(provenance.len(), 13, "{provenance:?}");
    assert!(provenance
        .iter()
        .any(|p| p["repositoryUri"] == url.as_str()));
    let bases = run["originalUriBaseIds"].as_object().unwrap();
    for result in run["results"].as_array().unwrap() {
        let artifact = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        let base = artifact["uriBaseId"].as_str().expect("a uriBaseId");
        assert!(bases.contains_key(base), "{base}");
    }
}

#[test]
fn shards_merged_report_what_one_audit_reports() {
    let org = Org::new();
    let whole = org.audit(&["-f", "json", "-o", "whole.json", "-q"]);
    whole.expect_code(1);
    let mut parts = Vec::new();
    let mut audited = 0;
    for k in 0..3 {
        let shard = format!("{k}/3");
        let out = format!("shard-{k}.json");
        let run = org.audit(&["--shard", &shard, "-f", "json", "-o", &out, "-q"]);
        assert!(matches!(run.code, Some(0..=2)), "{}", run.stderr);
        let report: Value =
            serde_json::from_slice(&std::fs::read(org.root().join(&out)).unwrap()).unwrap();
        let summary = &report["summary"]["audit"];
        audited += summary["repositories"].as_u64().unwrap() + summary["failed"].as_u64().unwrap();
        parts.push(out);
    }
    assert_eq!(audited, 13, "every repository in exactly one shard");
    let mut args = vec!["merge", "-f", "json", "-o", "merged.json", "-q"];
    args.extend(parts.iter().map(String::as_str));
    keyhound(org.root(), &args).expect_code(1);
    let read = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(org.root().join(name)).unwrap()).unwrap()
    };
    assert_eq!(
        comparable(read("merged.json")),
        comparable(read("whole.json"))
    );

    // A report merged alone is the report; any format can come out of a merge.
    keyhound(
        org.root(),
        &["merge", "-f", "json", "-o", "again.json", "whole.json"],
    );
    assert_eq!(
        comparable(read("again.json")),
        comparable(read("whole.json"))
    );
    let text = keyhound(org.root(), &["merge", "--color", "never", "whole.json"]);
    text.expect_code(1);
    assert!(text.stdout_text().contains("in 4 repositories"));
    let sarif = keyhound(org.root(), &["merge", "-f", "sarif", "whole.json"]);
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 9);
}

#[test]
fn merged_reports_stay_redacted() {
    let org = Org::new();
    org.audit(&["-f", "json", "-o", "whole.json", "-q"]);
    for format in ["json", "text", "sarif"] {
        let merged = keyhound(org.root(), &["merge", "-f", format, "whole.json"]);
        let out = merged.stdout_text();
        assert!(!out.contains(&org.shared.secret), "{format}:\n{out}");
        for creds in &org.own {
            assert!(!out.contains(&creds.secret), "{format}:\n{out}");
        }
    }
}

#[test]
fn merge_refuses_what_is_not_a_keyhound_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), "{\"runs\": []}").unwrap();
    let run = keyhound(dir.path(), &["merge", "a.json"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("a.json") && run.stderr.contains("not a keyhound JSON report"),
        "{}",
        run.stderr
    );
    let run = keyhound(dir.path(), &["merge", "missing.json"]);
    run.expect_code(2);
    assert!(run.stderr.contains("missing.json"), "{}", run.stderr);
}

#[test]
fn kept_clones_are_fetched_again_next_time() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let origin = Repo::init(root, "origin");
    let first = Creds::new(7);
    origin.write("a.env", &first.dotenv());
    origin.commit("first");
    std::fs::write(root.join("repos.txt"), format!("{}\n", origin.url())).unwrap();
    let audit = || {
        keyhound(
            root,
            &[
                "audit",
                "--repos",
                "repos.txt",
                "--keep-clones",
                "clones",
                "-f",
                "json",
                "--show-secrets",
            ],
        )
    };
    let before = audit();
    before.expect_code(1);
    assert_eq!(findings(&before.json()).len(), 1);
    let kept: Vec<_> = std::fs::read_dir(root.join("clones")).unwrap().collect();
    assert_eq!(kept.len(), 1, "one kept clone");

    let second = Creds::new(8);
    origin.write("b.env", &second.dotenv());
    origin.commit("second");
    let after = audit();
    after.expect_code(1);
    let report = after.json();
    let ids: Vec<&str> = findings(&report)
        .iter()
        .map(|f| f["pair"]["key_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&second.id.as_str()));
    // The origin is read, never written.
    assert_eq!(origin.git(&["status", "--porcelain"]), "");
}

#[test]
fn an_audit_that_could_not_read_a_repository_is_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let clean = Repo::init(root, "clean");
    clean.write("README.md", "nothing to see\n");
    clean.commit("start");
    std::fs::write(
        root.join("repos.txt"),
        "clean\nfile:///nonexistent/keyhound-test.git\n",
    )
    .unwrap();
    let run = keyhound(root, &["audit", "--repos", "repos.txt", "-f", "json"]);
    run.expect_code(2);
    assert!(run.stderr.contains("git clone failed"), "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["summary"]["audit"]["repositories"], 1);
    assert_eq!(report["summary"]["audit"]["failed"], 1);

    let empty = keyhound(root, &["audit", "--repos", "/dev/null"]);
    empty.expect_code(2);
    assert!(
        empty.stderr.contains("lists no repository"),
        "{}",
        empty.stderr
    );
    let bad_shard = keyhound(root, &["audit", "--repos", "repos.txt", "--shard", "3/3"]);
    bad_shard.expect_code(2);
}

/// `keyhound git --cache` on `repo`, as JSON.
fn git_cached(repo: &Repo, cache: &Path, extra: &[&str]) -> Run {
    let cache = cache.to_str().unwrap();
    let mut args = vec!["git", "--no-progress", "-f", "json", "--cache", cache];
    args.extend_from_slice(extra);
    keyhound(&repo.path, &args)
}

fn cache_counts(report: &Value) -> (u64, u64) {
    let cache = &report["summary"]["cache"];
    (
        cache["blobs_scanned"].as_u64().unwrap(),
        cache["blobs_from_cache"].as_u64().unwrap(),
    )
}

/// The report without what differs from run to run, or between a cached and a fresh run.
fn without_cache(report: Value) -> Value {
    let mut report = comparable(report);
    report["summary"]["cache"] = Value::Null;
    report
}

#[test]
fn a_cached_re_audit_reads_only_new_blobs_and_reports_what_a_fresh_one_does() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("audit.cache");
    let repo = Repo::init(dir.path(), "repo");
    let (kept, moved, added) = (Creds::new(31), Creds::new(32), Creds::new(33));
    repo.write("app/.env", &kept.dotenv());
    repo.write("old/credentials", &moved.ini());
    repo.write("docs/README.md", "# docs\n");
    for i in 0..40 {
        repo.write(&format!("src/module_{i}.py"), &format!("VALUE = {i}\n"));
    }
    repo.commit("first");
    let first = git_cached(&repo, &cache, &["-v"]);
    first.expect_code(1);
    assert!(first.stderr.contains("in process"), "{}", first.stderr);
    let first = first.json();
    let (scanned, recalled) = cache_counts(&first);
    assert_eq!((scanned, recalled), (43, 0));

    // Nothing new: every blob comes from the cache, and the report is the same.
    let again = git_cached(&repo, &cache, &[]).json();
    assert_eq!(cache_counts(&again), (0, 43));
    assert_eq!(without_cache(again), without_cache(first));

    // New commits: a secret moves to another path, a new one is added, a file changes.
    std::fs::create_dir_all(repo.path.join("new")).unwrap();
    std::fs::rename(
        repo.path.join("old/credentials"),
        repo.path.join("new/credentials"),
    )
    .unwrap();
    repo.commit("move");
    repo.write("lib/settings.ini", &added.ini());
    repo.write("docs/README.md", "# docs, longer\n");
    repo.commit("more");
    let cached = git_cached(&repo, &cache, &["-v"]);
    cached.expect_code(1);
    // So few objects are new that git reads them alone.
    assert!(
        cached.stderr.contains("git reads the 8 new objects"),
        "{}",
        cached.stderr
    );
    let cached = cached.json();
    // Two new blobs; the moved file's blob is the same blob, read from the cache.
    assert_eq!(cache_counts(&cached), (2, 43));
    let fresh = keyhound(&repo.path, &["git", "--no-progress", "-f", "json"]);
    let fresh = fresh.json();
    assert!(fresh["summary"]["cache"].is_null());
    assert_eq!(without_cache(cached.clone()), without_cache(fresh));
    let moved_finding = findings(&cached)
        .iter()
        .find(|f| f["pair"]["key_id"] == moved.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        moved_finding["git"]["paths"],
        serde_json::json!(["new/credentials", "old/credentials"])
    );

    // Other rules or options are another rule set: nothing comes from the cache.
    let other = git_cached(&repo, &cache, &["--max-decode-depth", "0"]).json();
    assert_eq!(cache_counts(&other).1, 0);
    let other = git_cached(&repo, &cache, &["--disable-rule", "aws-session-token"]).json();
    assert_eq!(cache_counts(&other).1, 0);
}

#[test]
fn an_audit_of_many_repositories_shares_one_cache() {
    let org = Org::new();
    let cache = org.root().join("org.cache");
    let cache = cache.to_str().unwrap();
    let first = org.audit(&["-f", "json", "--cache", cache, "--concurrency", "4"]);
    first.expect_code(1);
    let first = first.json();
    let (scanned, recalled) = cache_counts(&first);
    // Repositories audited at once may both scan a blob they share (r02 and its clones) before
    // either records it, so only the total is fixed.
    assert!(scanned > 0);
    let fresh = org.audit(&["-f", "json"]).json();
    assert_eq!(without_cache(first.clone()), without_cache(fresh.clone()));

    // Two audits at once on one cache, then one more: all equal the fresh audit.
    let root = org.root().to_path_buf();
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let root = root.clone();
                scope.spawn(move || {
                    keyhound(
                        &root,
                        &[
                            "audit",
                            "--repos",
                            "repos.txt",
                            "--no-progress",
                            "-f",
                            "json",
                            "--cache",
                            cache,
                        ],
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for run in runs {
        run.expect_code(1);
        assert_eq!(without_cache(run.json()), without_cache(fresh.clone()));
    }
    let last = org.audit(&["-f", "json", "--cache", cache]).json();
    assert_eq!(cache_counts(&last).0, 0, "everything is known by now");
    assert_eq!(cache_counts(&last).1, scanned + recalled);
    assert_eq!(without_cache(last), without_cache(fresh));
}

#[test]
fn a_file_that_is_not_a_cache_is_an_error_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repo::init(dir.path(), "repo");
    repo.write("a.txt", "hello\n");
    repo.commit("start");
    let not_a_cache = dir.path().join("notes.txt");
    std::fs::write(&not_a_cache, "my notes, not a database\n".repeat(100)).unwrap();
    let run = git_cached(&repo, &not_a_cache, &[]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("is not a keyhound cache"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&not_a_cache).unwrap(),
        "my notes, not a database\n".repeat(100)
    );
    let run = git_cached(&repo, dir.path(), &[]);
    run.expect_code(2);
}

#[test]
fn a_baseline_written_by_an_audit_accepts_its_findings_and_names_their_repositories() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let creds = Creds::new(41);
    for name in ["one", "two"] {
        let repo = Repo::init(root, name);
        repo.write("ci/.env", &creds.dotenv());
        repo.commit("ci");
    }
    std::fs::write(root.join("repos.txt"), "one\ntwo\n").unwrap();
    let audit = |extra: &[&str]| {
        let mut args = vec!["audit", "--repos", "repos.txt", "-q"];
        args.extend_from_slice(extra);
        keyhound(root, &args)
    };
    audit(&[]).expect_code(1);
    audit(&["--write-baseline", "baseline.json"]).expect_code(0);
    let baseline: Value =
        serde_json::from_slice(&std::fs::read(root.join("baseline.json")).unwrap()).unwrap();
    let entries = baseline["findings"].as_array().unwrap();
    assert_eq!(
        entries.len(),
        1,
        "one fingerprint: the same secret at the same path"
    );
    assert!(
        entries[0]["repo"].as_str().unwrap().ends_with("/one"),
        "{baseline}"
    );
    audit(&["--baseline", "baseline.json"]).expect_code(0);
}

/// A cache-writing history audit of `repo` started and killed with `SIGKILL` after `delay`;
/// whether it was still running when killed.
#[cfg(unix)]
fn kill_cached_audit(repo: &Repo, cache: &Path, delay: std::time::Duration) -> bool {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyhound"))
        .args(["git", "--no-progress", "-f", "json", "--cache"])
        .arg(cache)
        .current_dir(&repo.path)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("keyhound starts");
    std::thread::sleep(delay);
    let running = child.try_wait().expect("the audit's status").is_none();
    child.kill().expect("SIGKILL the audit");
    child.wait().expect("the killed audit is reaped");
    running
}

/// A cache file and the files SQLite keeps beside it (its write-ahead log and index).
fn cache_files(cache: &Path) -> [std::path::PathBuf; 3] {
    let beside = |suffix: &str| {
        let mut name = cache.as_os_str().to_owned();
        name.push(suffix);
        std::path::PathBuf::from(name)
    };
    [cache.to_path_buf(), beside("-wal"), beside("-shm")]
}

#[cfg(unix)]
#[test]
fn an_audit_killed_at_any_moment_leaves_a_cache_the_next_run_can_trust() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repo::init(dir.path(), "repo");
    // Enough blobs that recording them takes a while, so kills land inside the writes too.
    let keys: Vec<Creds> = (0..12).map(|i| Creds::new(700 + i)).collect();
    for (i, creds) in keys.iter().enumerate().take(6) {
        repo.write(&format!("old/{i}/.env"), &creds.dotenv());
    }
    for i in 0..600 {
        repo.write(
            &format!("src/a/m{i}.py"),
            &format!("VALUE_{i} = {}\n", i * 7),
        );
    }
    repo.commit("first");
    let base = dir.path().join("base.cache");
    git_cached(&repo, &base, &[]).expect_code(1);
    for (i, creds) in keys.iter().enumerate().skip(6) {
        repo.write(&format!("new/{i}/credentials"), &creds.ini());
    }
    for i in 0..600 {
        repo.write(
            &format!("src/b/m{i}.py"),
            &format!("OTHER_{i} = {}\n", i * 11),
        );
    }
    repo.commit("second");

    let fresh = keyhound(&repo.path, &["git", "--no-progress", "-f", "json"]);
    fresh.expect_code(1);
    let fresh = without_cache(fresh.json());
    // How long a cached audit from an empty cache takes here: the kills are spread over it.
    let timing = dir.path().join("timing.cache");
    let started = std::time::Instant::now();
    git_cached(&repo, &timing, &[]).expect_code(1);
    let whole = started.elapsed();

    let cache = dir.path().join("audit.cache");
    let mut killed_running = 0;
    const KILLS: u32 = 24;
    for k in 0..KILLS {
        for file in cache_files(&cache) {
            let _ = std::fs::remove_file(file);
        }
        // Every other run starts from the cache of the first commit, so the killed run adds
        // to entries already there; the others start with no cache at all.
        if k % 2 == 1 {
            for (from, to) in cache_files(&base).iter().zip(cache_files(&cache)) {
                if from.exists() {
                    std::fs::copy(from, to).unwrap();
                }
            }
        }
        let delay = whole * k / (KILLS - 4);
        if kill_cached_audit(&repo, &cache, delay) {
            killed_running += 1;
        }
        let next = git_cached(&repo, &cache, &[]);
        next.expect_code(1);
        assert_eq!(
            without_cache(next.json()),
            fresh,
            "the run after a kill at {delay:?} reports otherwise than a fresh one"
        );
    }
    // The runs from the first commit's cache are shorter than the timed one, and other work
    // on the machine moves every run's length: a third of the kills landing inside a run is
    // what this test needs to mean something.
    assert!(
        killed_running >= KILLS / 3,
        "only {killed_running} of {KILLS} kills found the audit still running"
    );
}
