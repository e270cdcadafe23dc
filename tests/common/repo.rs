//! Git repositories built for the tests with the `git` executable, away from the user's and the
//! system's configuration, with fixed identities and dates; and fake credential pairs to plant
//! in them.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Output;

use super::{keyhound_in, Fakes};

/// Author time of the first commit of every repository: 2023-11-14T22:13:20Z.
pub const EPOCH: i64 = 1_700_000_000;

/// Seconds between consecutive commits of a repository.
pub const TICK: i64 = 60;

pub struct Author {
    pub name: &'static str,
    pub email: &'static str,
}

pub const ADA: Author = Author {
    name: "Ada Lovelace",
    email: "ada@example.org",
};

pub const BOB: Author = Author {
    name: "Bob Tables",
    email: "bob@example.net",
};

/// Environment that keeps the user's and the system's git configuration (and any repository the
/// test process itself runs in) out of the repositories the tests build.
pub fn isolate(cmd: &mut std::process::Command) {
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C");
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_CEILING_DIRECTORIES",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_COMMITTER_DATE",
    ] {
        cmd.env_remove(var);
    }
}

/// `git` in `dir`, isolated, with fixed identities and dates of `time`.
pub fn git_command(dir: &Path, time: i64) -> std::process::Command {
    let mut cmd = std::process::Command::new("git");
    isolate(&mut cmd);
    let date = format!("@{time} +0000");
    cmd.current_dir(dir)
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "user.name=Keyhound Tests",
            "-c",
            "user.email=tests@keyhound.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
            "-c",
            "protocol.file.allow=always",
            "-c",
            "advice.detachedHead=false",
        ]);
    cmd
}

/// Runs `git args…` in `dir`; panics with git's output unless it succeeds.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let output = git_command(dir, EPOCH)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {} failed in {}:\n{}{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A repository (or a clone, or a worktree) under a temporary directory, with its own clock.
pub struct Repo {
    pub path: PathBuf,
    clock: Cell<i64>,
}

impl Repo {
    /// `git init` of a new repository `name` in `parent`.
    pub fn init(parent: &Path, name: &str) -> Repo {
        git_in(parent, &["init", "-q", name]);
        let repo = Repo::at(parent.join(name));
        repo.git(&["config", "user.name", "Keyhound Tests"]);
        repo.git(&["config", "user.email", "tests@keyhound.invalid"]);
        repo
    }

    /// An existing repository or worktree at `path`.
    pub fn at(path: PathBuf) -> Repo {
        Repo {
            path,
            clock: Cell::new(EPOCH - TICK),
        }
    }

    pub fn command(&self) -> std::process::Command {
        git_command(&self.path, self.clock.get().max(EPOCH))
    }

    /// Runs `git args…`; panics with its output unless it succeeds. Returns stdout, trimmed.
    pub fn git(&self, args: &[&str]) -> String {
        let output = self.git_output(args);
        assert!(
            output.status.success(),
            "git {} failed in {}:\n{}{}",
            args.join(" "),
            self.path.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// Runs `git args…`, whatever its outcome.
    pub fn git_output(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("git runs")
    }

    pub fn write(&self, rel: &str, content: &str) {
        let path = self.path.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, content).unwrap();
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.path.join(rel)).unwrap();
    }

    /// Commits what is staged, as `author`, one tick after the previous commit; returns the
    /// commit's id.
    pub fn commit_staged(&self, author: &Author, message: &str) -> String {
        self.clock.set(self.clock.get() + TICK);
        let date = format!("@{} +0000", self.clock.get());
        let output = self
            .command()
            .env("GIT_AUTHOR_NAME", author.name)
            .env("GIT_AUTHOR_EMAIL", author.email)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .args(["commit", "-q", "--no-verify", "-m", message])
            .output()
            .expect("git runs");
        assert!(
            output.status.success(),
            "git commit failed in {}:\n{}{}",
            self.path.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        self.head()
    }

    /// Stages every change of the work tree and commits it as `author`.
    pub fn commit_as(&self, author: &Author, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.commit_staged(author, message)
    }

    /// Stages every change of the work tree and commits it as Ada.
    pub fn commit(&self, message: &str) -> String {
        self.commit_as(&ADA, message)
    }

    /// Continues the clock of `other` (a worktree of it, say), so commits stay in order.
    pub fn follow_clock(&self, other: &Repo) {
        self.clock.set(other.last_time());
    }

    /// The author time of the last commit made through this handle.
    pub fn last_time(&self) -> i64 {
        self.clock.get()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn rev(&self, rev: &str) -> String {
        self.git(&["rev-parse", "--verify", "--quiet", rev])
    }

    pub fn commit_count(&self) -> u64 {
        self.git(&["rev-list", "--count", "HEAD"]).parse().unwrap()
    }

    /// A `file://` URL of the repository, for clones.
    pub fn url(&self) -> String {
        format!("file://{}", self.path.display())
    }
}

/// A fake credential pair.
pub struct Creds {
    pub id: String,
    pub secret: String,
}

impl Creds {
    pub fn new(seed: u64) -> Creds {
        let mut fakes = Fakes::new(seed);
        Creds {
            id: fakes.key_id("AKIA"),
            secret: fakes.secret_key(),
        }
    }

    /// The pair as a profile of an AWS credentials file.
    pub fn ini(&self) -> String {
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            self.id, self.secret
        )
    }

    /// The pair as lines of a `.env` file.
    pub fn dotenv(&self) -> String {
        format!(
            "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\n",
            self.id, self.secret
        )
    }
}

/// `keyhound` run in `dir` away from the user's and the system's git configuration, and from
/// any repository the test process itself runs in.
pub fn keyhound_for_git(dir: &Path) -> assert_cmd::Command {
    let mut cmd = keyhound_in(dir);
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
    cmd
}
