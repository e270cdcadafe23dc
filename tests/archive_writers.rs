//! Archives as the tools people use write them: `jar` and `fastjar`, Info-ZIP `zip` to a pipe
//! and with Zip64, Python's `zipfile` on a stream that cannot seek, `bsdtar`'s zip and tar
//! formats, GNU `tar`'s sparse files in every form, zips behind launch scripts and
//! self-extracting stubs, and release tarballs that carry their predecessors. A key pair in
//! each is found at its path inside, read from a file, from standard input (where a zip can only
//! stream), from inside another archive, and from git history.
//!
//! The tools come from Debian (`zip`, `fastjar`, `libarchive-tools`, a JDK for `jar`) and the
//! Python standard library. A test whose tool is missing says so and passes, unless
//! `KEYHOUND_REQUIRE_ARCHIVERS` is set, as CI sets it: there a missing tool fails.

#[allow(dead_code)]
mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::repo::{keyhound_for_git, Creds, Repo};
use common::{keyhound_in, run, Run};

/// Whether the tool `name` is installed (see [`common::archiver_installed`]).
fn have(name: &str) -> bool {
    common::archiver_installed(name)
}

/// Runs `shell` (a `sh -c` line) in `dir`; panics with its error output if it fails.
fn sh(dir: &Path, shell: &str) {
    let output = Command::new("sh")
        .args(["-c", shell])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{shell}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `keyhound scan ARGS -f json --show-secrets` in `dir`, with `stdin` as standard input.
fn scan(dir: &Path, args: &[&str], stdin: Option<Vec<u8>>) -> Run {
    let mut cmd = keyhound_in(dir);
    cmd.args(["scan", "-f", "json", "--show-secrets"])
        .args(args);
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
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

/// A directory holding `config/app.properties` with the key pair, for the archivers to pack.
fn tree(creds: &Creds) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("config")).unwrap();
    let properties = format!(
        "spring.application.name=billing\nserver.port=8080\ncloud.aws.credentials.access-key={}\n\
         cloud.aws.credentials.secret-key={}\n",
        creds.id, creds.secret
    );
    std::fs::write(dir.path().join("config/app.properties"), properties).unwrap();
    std::fs::write(dir.path().join("README.txt"), "billing service\n").unwrap();
    dir
}

/// A zip writer: the tool it needs, and the shell line that writes `out.zip` in the tree.
struct ZipWriter {
    name: &'static str,
    tool: &'static str,
    shell: &'static str,
    /// The general-purpose flag bit 3 (sizes after the data) this writer sets on the first
    /// entry, checked so the test knows it covers what it says.
    descriptor: bool,
}

const ZIP_WRITERS: &[ZipWriter] = &[
    ZipWriter {
        name: "OpenJDK jar",
        tool: "jar",
        shell: "jar cf out.zip config README.txt",
        descriptor: true,
    },
    ZipWriter {
        name: "fastjar",
        tool: "fastjar",
        shell: "fastjar cf out.zip config README.txt",
        descriptor: false,
    },
    ZipWriter {
        name: "Info-ZIP zip to a pipe",
        tool: "zip",
        shell: "zip -q -r - config README.txt | cat > out.zip",
        descriptor: true,
    },
    ZipWriter {
        name: "Info-ZIP zip to a pipe, stored",
        tool: "zip",
        shell: "zip -q -0 -r - config README.txt | cat > out.zip",
        descriptor: true,
    },
    ZipWriter {
        name: "Info-ZIP zip to a pipe, Zip64",
        tool: "zip",
        shell: "zip -q -fz -r - config README.txt | cat > out.zip",
        descriptor: true,
    },
    ZipWriter {
        name: "Info-ZIP zip -fz to a file",
        tool: "zip",
        shell: "zip -q -fz -r out.zip config README.txt",
        descriptor: false,
    },
    ZipWriter {
        name: "Python zipfile on a stream that cannot seek",
        tool: "python3",
        shell: "python3 -c \"import sys, zipfile\nclass Pipe:\n    def __init__(s, f): s.f = f\n    def write(s, b): return s.f.write(b)\n    def flush(s): s.f.flush()\nwith open('out.zip', 'wb') as f, zipfile.ZipFile(Pipe(f), 'w', zipfile.ZIP_DEFLATED) as z:\n    z.write('config/app.properties'); z.write('README.txt')\"",
        descriptor: true,
    },
    ZipWriter {
        name: "Python zipfile on a stream that cannot seek, stored",
        tool: "python3",
        shell: "python3 -c \"import sys, zipfile\nclass Pipe:\n    def __init__(s, f): s.f = f\n    def write(s, b): return s.f.write(b)\n    def flush(s): s.f.flush()\nwith open('out.zip', 'wb') as f, zipfile.ZipFile(Pipe(f), 'w', zipfile.ZIP_STORED) as z:\n    z.write('README.txt'); z.write('config/app.properties')\"",
        descriptor: true,
    },
    ZipWriter {
        name: "bsdtar --format zip",
        tool: "bsdtar",
        shell: "bsdtar --format zip -cf out.zip config README.txt",
        descriptor: true,
    },
    ZipWriter {
        name: "bsdtar --format zip to a pipe, stored",
        tool: "bsdtar",
        shell: "bsdtar --format zip --options zip:compression=store -cf - config README.txt \
                | cat > out.zip",
        descriptor: true,
    },
];

/// The general-purpose flags of the local header of the entry `name` in `zip`.
fn flags_of(zip: &[u8], name: &str) -> u16 {
    let header = (0..zip.len().saturating_sub(30))
        .find(|&at| {
            zip[at..].starts_with(b"PK\x03\x04")
                && zip[at + 30..].starts_with(name.as_bytes())
                && usize::from(u16::from_le_bytes([zip[at + 26], zip[at + 27]])) == name.len()
        })
        .unwrap_or_else(|| panic!("no local header for {name}"));
    u16::from_le_bytes([zip[header + 6], zip[header + 7]])
}

#[test]
fn a_key_is_found_in_a_zip_whatever_wrote_it_and_however_it_is_read() {
    let creds = Creds::new(2101);
    for writer in ZIP_WRITERS {
        if !have(writer.tool) {
            continue;
        }
        let dir = tree(&creds);
        sh(dir.path(), writer.shell);
        let zip = std::fs::read(dir.path().join("out.zip")).unwrap();
        assert_eq!(
            flags_of(&zip, "config/app.properties") & 8 != 0,
            writer.descriptor,
            "{}: the data descriptor flag",
            writer.name
        );
        let inner = "config/app.properties";
        // A file, read through its central directory.
        let run = scan(dir.path(), &["out.zip"], None);
        run.expect_code(1);
        assert_eq!(
            places(&run, &creds),
            [format!("out.zip!/{inner}")],
            "{}",
            writer.name
        );
        // Standard input: the zip can only stream from its local headers.
        let run = scan(dir.path(), &["-"], Some(zip.clone()));
        run.expect_code(1);
        assert_eq!(
            places(&run, &creds),
            [format!("-!/{inner}")],
            "{}",
            writer.name
        );
        // Inside a gzipped tarball, as a release or an image layer holds it.
        sh(
            dir.path(),
            "mkdir -p lib && cp out.zip lib/app.jar && tar czf bundle.tgz lib",
        );
        let run = scan(dir.path(), &["bundle.tgz"], None);
        run.expect_code(1);
        assert_eq!(
            places(&run, &creds),
            [format!("bundle.tgz!/lib/app.jar!/{inner}")],
            "{}",
            writer.name
        );
        assert!(
            skipped(&run).is_empty(),
            "{}: {:?}",
            writer.name,
            skipped(&run)
        );
    }
}

#[test]
fn a_zip_streamed_inside_a_compressed_stream_is_read_from_its_local_headers() {
    // A zip gzipped whole can only be streamed: its central directory comes last.
    let creds = Creds::new(2102);
    for writer in ZIP_WRITERS.iter().filter(|w| w.descriptor) {
        if !have(writer.tool) {
            continue;
        }
        let dir = tree(&creds);
        sh(dir.path(), writer.shell);
        sh(dir.path(), "gzip -c out.zip > out.zip.gz");
        let run = scan(dir.path(), &["out.zip.gz"], None);
        run.expect_code(1);
        assert_eq!(
            places(&run, &creds),
            ["out.zip.gz!/config/app.properties"],
            "{}",
            writer.name
        );
    }
}

#[test]
fn a_zip_behind_a_launch_script_or_a_stub_is_opened() {
    if !have("jar") || !have("zip") {
        return;
    }
    let creds = Creds::new(2103);
    let dir = tree(&creds);
    sh(dir.path(), "jar cf app.jar config README.txt");
    // A fully executable Spring Boot jar: a launch script, then the jar, offsets unchanged.
    sh(
        dir.path(),
        "printf '#!/bin/bash\\nexec java -jar \"$0\" \"$@\"\\n' > run.jar && cat app.jar >> run.jar",
    );
    // A Windows self-extractor's stub, made large enough that the file is read from disk in
    // parts, then the offsets adjusted as `zip -A` does.
    sh(
        dir.path(),
        "{ printf 'MZ'; head -c 3000000 /dev/zero; } > sfx.exe && cat app.jar >> sfx.exe \
         && cp sfx.exe adjusted.exe && zip -q -A adjusted.exe",
    );
    for name in ["run.jar", "sfx.exe", "adjusted.exe"] {
        let run = scan(dir.path(), &[name], None);
        run.expect_code(1);
        assert_eq!(
            places(&run, &creds),
            [format!("{name}!/config/app.properties")]
        );
    }
    // A script that merely mentions a zip is a script.
    std::fs::write(dir.path().join("plain.sh"), "#!/bin/sh\necho PK\n").unwrap();
    let run = scan(dir.path(), &["plain.sh"], None);
    run.expect_code(0);
    assert!(skipped(&run).is_empty(), "{:?}", skipped(&run));
}

#[test]
fn a_jar_committed_to_git_is_opened_in_history() {
    if !have("jar") {
        return;
    }
    let creds = Creds::new(2104);
    let dir = tree(&creds);
    sh(dir.path(), "jar cf app.jar config");
    let root = tempfile::tempdir().unwrap();
    let repo = Repo::init(root.path(), "repo");
    std::fs::copy(dir.path().join("app.jar"), repo.path.join("app.jar")).unwrap();
    repo.git(&["add", "app.jar"]);
    let commit = repo.commit("add the build");
    let mut cmd = keyhound_for_git(&repo.path);
    cmd.args(["git", ".", "-f", "json", "--show-secrets"]);
    let run = run(&mut cmd);
    run.expect_code(1);
    let report = run.json();
    let finding = &report["findings"][0];
    assert_eq!(finding["path"], "app.jar!/config/app.properties");
    assert_eq!(finding["git"]["commit"]["id"], commit.as_str());
}

/// A tar writer: the tool, and the shell line that writes `out.tar` of the tree.
struct TarWriter {
    name: &'static str,
    tool: &'static str,
    shell: &'static str,
}

const TAR_WRITERS: &[TarWriter] = &[
    TarWriter {
        name: "GNU tar, gnu format",
        tool: "tar",
        shell: "tar --format=gnu -cf out.tar config README.txt",
    },
    TarWriter {
        name: "GNU tar, posix format",
        tool: "tar",
        shell: "tar --format=posix -cf out.tar config README.txt",
    },
    TarWriter {
        name: "bsdtar, pax",
        tool: "bsdtar",
        shell: "bsdtar --format pax -cf out.tar config README.txt",
    },
    TarWriter {
        name: "bsdtar, ustar",
        tool: "bsdtar",
        shell: "bsdtar --format ustar -cf out.tar config README.txt",
    },
    TarWriter {
        name: "bsdtar, gnutar",
        tool: "bsdtar",
        shell: "bsdtar --format gnutar -cf out.tar config README.txt",
    },
];

#[test]
fn a_key_is_found_in_a_tar_whatever_wrote_it_even_under_a_long_name() {
    let creds = Creds::new(2105);
    // A path past ustar's 100 + 155 bytes: a GNU long name or a PAX path record.
    let deep = format!(
        "{}/application.properties",
        ["nested-directory"; 18].join("/")
    );
    for writer in TAR_WRITERS {
        if !have(writer.tool) {
            continue;
        }
        let dir = tree(&creds);
        let long = writer.name != "bsdtar, ustar";
        if long {
            let path = dir.path().join("config").join(&deep);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::copy(dir.path().join("config/app.properties"), &path).unwrap();
        }
        sh(dir.path(), writer.shell);
        let run = scan(dir.path(), &["out.tar"], None);
        run.expect_code(1);
        let mut expected = vec!["out.tar!/config/app.properties".to_string()];
        if long {
            expected.push(format!("out.tar!/config/{deep}"));
        }
        expected.sort();
        assert_eq!(places(&run, &creds), expected, "{}", writer.name);
        assert!(
            skipped(&run).is_empty(),
            "{}: {:?}",
            writer.name,
            skipped(&run)
        );
    }
}

/// Writes a sparse file in `dir`: text, a hole of some megabytes, then the key pair; returns
/// its content as it reads back.
fn sparse_file(dir: &Path, name: &str, creds: &Creds) -> Vec<u8> {
    use std::io::{Seek, SeekFrom};
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).unwrap();
    let lines: String = (0..600)
        .map(|i| format!("setting.{i} = value {i}\n"))
        .collect();
    file.write_all(lines.as_bytes()).unwrap();
    file.seek(SeekFrom::Current(6 << 20)).unwrap();
    file.write_all(creds.ini().as_bytes()).unwrap();
    drop(file);
    std::fs::read(&path).unwrap()
}

#[test]
fn a_key_after_a_hole_in_a_gnu_sparse_file_is_found_in_every_sparse_format() {
    if !have("tar") {
        return;
    }
    let creds = Creds::new(2106);
    let dir = tempfile::tempdir().unwrap();
    sparse_file(dir.path(), "disk.log", &creds);
    let formats = [
        ("gnu", "--format=gnu"),
        ("pax-0.0", "--format=posix --sparse-version=0.0"),
        ("pax-0.1", "--format=posix --sparse-version=0.1"),
        ("pax-1.0", "--format=posix --sparse-version=1.0"),
    ];
    for (name, flags) in formats {
        let archive = format!("{name}.tar");
        sh(
            dir.path(),
            &format!("tar --sparse {flags} -cf {archive} disk.log"),
        );
        // What GNU tar stored is smaller than the file: the hole is not in it.
        let stored = std::fs::metadata(dir.path().join(&archive)).unwrap().len();
        assert!(stored < 1 << 20, "{name}: {stored} bytes, not sparse");
        let run = scan(dir.path(), &[&archive], None);
        run.expect_code(1);
        assert_eq!(
            places(&run, &creds),
            [format!("{archive}!/disk.log")],
            "{name}"
        );
        assert!(skipped(&run).is_empty(), "{name}: {:?}", skipped(&run));
        // The line is counted as in the file itself: 600 lines, the hole, then the profile.
        let report = run.json();
        assert_eq!(report["findings"][0]["pair"]["line"], 602, "{name}");
    }
}

/// Builds release tarballs `r1.tgz` … `r{count}.tgz` in `dir`, each holding the key pair's
/// file of its own release and every earlier release's tarball (in `order`), as old Python
/// source releases carry their predecessors.
fn releases(dir: &Path, count: usize, creds: &Creds, newest_first: bool) {
    for release in 1..=count {
        let tree = dir.join(format!("r{release}"));
        std::fs::create_dir_all(tree.join("Misc")).unwrap();
        let notes = format!("release {release}\n");
        std::fs::write(tree.join("NEWS"), notes).unwrap();
        if release == 1 {
            std::fs::write(tree.join("deploy.env"), creds.dotenv()).unwrap();
        }
        let mut earlier: Vec<usize> = (1..release).collect();
        if newest_first {
            earlier.reverse();
        }
        for old in &earlier {
            std::fs::copy(
                dir.join(format!("r{old}.tgz")),
                tree.join(format!("Misc/r{old}.tgz")),
            )
            .unwrap();
        }
        let members: Vec<String> = earlier
            .iter()
            .map(|o| format!("r{release}/Misc/r{o}.tgz"))
            .collect();
        sh(
            dir,
            &format!(
                "tar --no-recursion -czf r{release}.tgz r{release} r{release}/Misc r{release}/NEWS {} {}",
                if release == 1 { "r1/deploy.env" } else { "" },
                members.join(" ")
            ),
        );
    }
}

#[test]
fn release_tarballs_that_carry_their_predecessors_are_read_once_each() {
    let creds = Creds::new(2107);
    for newest_first in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        releases(dir.path(), 5, &creds, newest_first);
        let started = std::time::Instant::now();
        let run = scan(dir.path(), &["r5.tgz"], None);
        run.expect_code(1);
        assert!(skipped(&run).is_empty(), "{:?}", skipped(&run));
        assert!(!run.stderr.contains("max-archive-depth"), "{}", run.stderr);
        let found = places(&run, &creds);
        // Every path from r5 down to r1 through the chain of predecessors: r1 is in r5 once
        // directly and once more through each release that carries it.
        assert!(found.contains(&"r5.tgz!/r5/Misc/r1.tgz!/r1/deploy.env".to_string()));
        assert!(found.contains(
            &"r5.tgz!/r5/Misc/r4.tgz!/r4/Misc/r3.tgz!/r3/Misc/r2.tgz!/r2/Misc/r1.tgz!/r1/deploy.env"
                .to_string()
        ));
        // Paths from r5 to r1: one for each subset of {r2, r3, r4} passed through.
        assert_eq!(found.len(), 8, "{found:#?}");
        // Each release's own files are read once: r1 to r5, one NEWS each, and r1's env file.
        assert_eq!(run.json()["summary"]["files_scanned"], 6);
        eprintln!(
            "releases (newest first: {newest_first}) read in {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn copies_of_an_archive_in_different_files_are_read_once_and_found_in_each() {
    let creds = Creds::new(2108);
    let dir = tempfile::tempdir().unwrap();
    releases(dir.path(), 2, &creds, false);
    let copy = PathBuf::from("vendor/r1-copy.tgz");
    std::fs::create_dir_all(dir.path().join("vendor")).unwrap();
    std::fs::copy(dir.path().join("r1.tgz"), dir.path().join(&copy)).unwrap();
    for threads in ["1", "2"] {
        let run = scan(dir.path(), &[".", "-j", threads], None);
        run.expect_code(1);
        assert_eq!(
            places(&run, &creds),
            [
                "r1.tgz!/r1/deploy.env",
                "r1/deploy.env",
                "r2.tgz!/r2/Misc/r1.tgz!/r1/deploy.env",
                "r2/Misc/r1.tgz!/r1/deploy.env",
                "vendor/r1-copy.tgz!/r1/deploy.env",
            ],
            "-j {threads}"
        );
    }
}
