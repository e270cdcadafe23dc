//! How fast the ways of reading every blob of a repository are, on a repository you name:
//!
//! ```sh
//! KEYHOUND_BENCH_REPO=/tmp/vim.git cargo bench --bench git_read
//! ```
//!
//! - `git cat-file` (what keyhound falls back to where it cannot read a pack itself): list the
//!   blobs with `--batch-check` in pack order, read them through one `git cat-file --batch`;
//! - libgit2 (`git2`): `Odb::foreach` to list, `Odb::read` per blob, on 1 and on 2 threads (one
//!   repository handle per thread).
//!
//! Each method reads every blob's bytes once; the figures are wall-clock seconds of one pass
//! (run it twice to see the page cache warm). Without `KEYHOUND_BENCH_REPO` it does nothing.

use std::path::Path;
use std::time::Instant;

use keyhound::source::git::catfile;
use keyhound::source::git::Repo;

fn main() {
    let Some(repo_path) = std::env::var_os("KEYHOUND_BENCH_REPO") else {
        eprintln!("git_read: set KEYHOUND_BENCH_REPO to a repository to measure");
        return;
    };
    let repo = Repo::open(Path::new(&repo_path)).expect("a git repository");
    let started = Instant::now();
    let listing = catfile::list_blobs(&repo).expect("blob listing");
    let mut bytes = 0u64;
    let mut buffer = Vec::new();
    catfile::read_blobs(
        &repo,
        &listing.blobs,
        |_, content| {
            buffer.clear();
            content.read_to_end(&mut buffer)?;
            bytes += buffer.len() as u64;
            Ok(())
        },
        |blob, reason| eprintln!("unreadable {}: {reason}", blob.oid),
    )
    .expect("cat-file read");
    report(
        "git cat-file --batch, pack order",
        listing.blobs.len(),
        bytes,
        started,
    );

    for threads in [1usize, 2] {
        let started = Instant::now();
        let odb = repo.repo.odb().expect("object database");
        let mut ids = Vec::new();
        odb.foreach(|id| {
            ids.push(*id);
            true
        })
        .expect("odb listing");
        let chunk = ids.len().div_ceil(threads);
        let (count, bytes) = std::thread::scope(|scope| {
            let handles: Vec<_> = ids
                .chunks(chunk.max(1))
                .map(|part| {
                    let path = repo.git_dir.clone();
                    scope.spawn(move || {
                        let repository = git2::Repository::open(path).expect("repository");
                        let odb = repository.odb().expect("object database");
                        let (mut count, mut bytes) = (0usize, 0u64);
                        for id in part {
                            if let Ok(object) = odb.read(*id) {
                                if object.kind() == git2::ObjectType::Blob {
                                    count += 1;
                                    bytes += object.data().len() as u64;
                                }
                            }
                        }
                        (count, bytes)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("reader thread"))
                .fold((0, 0), |(c, b), (c2, b2)| (c + c2, b + b2))
        });
        report(
            &format!("libgit2 Odb::read, {threads} thread(s)"),
            count,
            bytes,
            started,
        );
    }
}

fn report(method: &str, blobs: usize, bytes: u64, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{method:<36} {blobs:>8} blobs {:>9.1} MiB {secs:>8.2} s {:>7.0} MiB/s",
        bytes as f64 / 1048576.0,
        bytes as f64 / 1048576.0 / secs
    );
}
