//! The store behind incremental history audits: which git blobs a rule set has scanned, and
//! what it found in them, so a re-audit scans only blobs it has not seen.
//!
//! A blob id is the hash of the blob's content, so what one rule set finds in a blob never
//! changes, and one cache can serve every repository a user audits. Entries are keyed by the
//! caller's digest of the rule set (the rules and every option that changes what is found) and
//! the blob id: other rules or options start a separate set of entries rather than serving
//! stale ones. Findings are stored as the matcher made them, before anything that depends on a
//! repository, a baseline or the moment of the scan (git provenance, key pairs, baseline state,
//! verification) is added; that is worked out afresh on every audit.
//!
//! The file is an SQLite database in WAL mode, so several keyhound processes (or threads, each
//! with its own [`Cache`]) can share it: readers never wait, and writers take turns, each
//! waiting up to 30 seconds for the others. It holds the raw secrets found, the same ones the audited repositories
//! hold, so it is created readable and writable by its owner only (mode 0600 on unix, set when
//! the file is created; SQLite gives its `-wal` and `-shm` files the same mode). A file that is
//! not a keyhound cache, or that a newer keyhound wrote, is an error and is never overwritten.

use std::collections::{HashMap, HashSet};
use std::fs::OpenOptions;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gix_hash::ObjectId;
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension};
use rusqlite::{Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::decode::Encoding;
use crate::finding::{AwsAccount, Finding, Location, ALLOW_MARKERS};
use crate::matcher::Rejection;
use crate::rules::{Confidence, Severity};
use crate::source::Origin;

/// `PRAGMA application_id`: the bytes `KHnd`, which mark the file as a keyhound cache.
const APPLICATION_ID: i32 = i32::from_be_bytes(*b"KHnd");

/// `PRAGMA user_version`: the layout of the tables and of the stored findings. Any change to
/// either takes a new version, so an older keyhound refuses the file instead of misreading it.
const FORMAT_VERSION: i32 = 1;

/// How long a writer waits for another one to finish before it gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A rule set's id is a small integer, so the blob table does not repeat each digest.
const SCHEMA: &str = "
    CREATE TABLE rule_sets (
        id INTEGER PRIMARY KEY,
        digest TEXT NOT NULL UNIQUE
    );
    CREATE TABLE blobs (
        rule_set INTEGER NOT NULL REFERENCES rule_sets (id),
        oid BLOB NOT NULL,
        bytes INTEGER NOT NULL,
        is_binary INTEGER NOT NULL,
        findings TEXT,
        PRIMARY KEY (rule_set, oid)
    ) WITHOUT ROWID;
    CREATE TABLE other_objects (
        oid BLOB PRIMARY KEY
    ) WITHOUT ROWID;
";

/// An open cache, for one rule set. Threads sharing a cache file each open their own.
pub struct Cache {
    conn: Connection,
    /// The row of the rule set's digest in `rule_sets`.
    rule_set: i64,
    path: PathBuf,
}

/// What the cache knows of one blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownBlob {
    pub bytes: u64,
    /// Skipped as binary, so never matched.
    pub binary: bool,
    /// Whether [`Cache::findings`] has findings for it.
    pub has_findings: bool,
}

/// What one scan of a blob produced, to be recorded.
pub struct BlobRecord {
    pub bytes: u64,
    pub binary: bool,
    /// The matcher's findings, before git attribution (see the module doc).
    pub findings: Vec<Finding>,
}

/// Why the cache cannot be used. A bad cache file is reported, never replaced.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error(
        "cannot open the keyhound cache {path} for writing; give the path of a file keyhound \
         may create or write"
    )]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is not a keyhound cache (not an SQLite database, or a damaged one); move it \
         away or give another cache path"
    )]
    NotACache { path: PathBuf },
    #[error(
        "the keyhound cache {path} is damaged ({detail}); delete it, and the next audit scans \
         every blob again"
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "{path} is some other program's SQLite database, and keyhound will not touch it; give \
         another cache path"
    )]
    Foreign { path: PathBuf },
    #[error(
        "the keyhound cache {path} has format {found}, written by a newer keyhound (this one \
         reads format {current}); upgrade keyhound or give another cache path",
        current = FORMAT_VERSION
    )]
    Newer { path: PathBuf, found: i32 },
    #[error(
        "cannot record the findings of blob {blob} in the keyhound cache {path} (a keyhound \
         bug: please report it)"
    )]
    Unrecordable {
        path: PathBuf,
        blob: ObjectId,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "cannot use the keyhound cache {path}; if another keyhound is writing it, retry when \
         that one is done, and if the error persists, delete the file"
    )]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

impl Cache {
    /// Opens (creating it if absent) the cache at `path` for rule-set `digest`.
    pub fn open(path: &Path, digest: &str) -> Result<Cache, CacheError> {
        create_private(path)?;
        let sql = sqlite(path);
        // Without SQLITE_OPEN_CREATE: the file exists, with its mode, since `create_private`.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(&sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(&sql)?;
        // Read before anything is written: switching another program's database to WAL
        // would already change it.
        is_new(&conn, path)?;
        use_wal(&conn).map_err(&sql)?;
        // A crash loses at most the last records, which the next audit scans again.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(&sql)?;
        let rule_set = {
            let tx =
                Transaction::new_unchecked(&conn, TransactionBehavior::Immediate).map_err(&sql)?;
            // Again under the write lock: another process may have set the file up meanwhile.
            if is_new(&tx, path)? {
                tx.execute_batch(SCHEMA).map_err(&sql)?;
                tx.pragma_update(None, "application_id", APPLICATION_ID)
                    .map_err(&sql)?;
                tx.pragma_update(None, "user_version", FORMAT_VERSION)
                    .map_err(&sql)?;
            }
            tx.execute(
                "INSERT OR IGNORE INTO rule_sets (digest) VALUES (?1)",
                [digest],
            )
            .map_err(&sql)?;
            let id = tx
                .query_row(
                    "SELECT id FROM rule_sets WHERE digest = ?1",
                    [digest],
                    |row| row.get(0),
                )
                .map_err(&sql)?;
            tx.commit().map_err(&sql)?;
            id
        };
        Ok(Cache {
            conn,
            rule_set,
            path: path.to_path_buf(),
        })
    }

    /// Every blob recorded for this digest.
    pub fn known(&self) -> Result<HashMap<ObjectId, KnownBlob>, CacheError> {
        let sql = sqlite(&self.path);
        let mut select = self
            .conn
            .prepare_cached(
                "SELECT oid, bytes, is_binary, findings IS NOT NULL FROM blobs
                 WHERE rule_set = ?1",
            )
            .map_err(&sql)?;
        let mut rows = select.query([self.rule_set]).map_err(&sql)?;
        let mut known = HashMap::new();
        while let Some(row) = rows.next().map_err(&sql)? {
            let oid = self.object_id(row.get_ref(0).map_err(&sql)?)?;
            let blob = KnownBlob {
                bytes: row.get::<_, i64>(1).map_err(&sql)?.cast_unsigned(),
                binary: row.get(2).map_err(&sql)?,
                has_findings: row.get(3).map_err(&sql)?,
            };
            known.insert(oid, blob);
        }
        Ok(known)
    }

    /// Every object recorded as not a blob (a commit, tree or tag): nothing in it is scanned,
    /// whatever the rules, so an audit need not even look at it again.
    pub fn known_others(&self) -> Result<HashSet<ObjectId>, CacheError> {
        let sql = sqlite(&self.path);
        let mut select = self
            .conn
            .prepare_cached("SELECT oid FROM other_objects")
            .map_err(&sql)?;
        let mut rows = select.query([]).map_err(&sql)?;
        let mut known = HashSet::new();
        while let Some(row) = rows.next().map_err(&sql)? {
            known.insert(self.object_id(row.get_ref(0).map_err(&sql)?)?);
        }
        Ok(known)
    }

    /// Records objects that are not blobs, in one transaction.
    pub fn record_others(&self, ids: &[ObjectId]) -> Result<(), CacheError> {
        let sql = sqlite(&self.path);
        let tx =
            Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(&sql)?;
        {
            let mut insert = tx
                .prepare_cached("INSERT OR IGNORE INTO other_objects (oid) VALUES (?1)")
                .map_err(&sql)?;
            for oid in ids {
                insert.execute([oid.as_slice()]).map_err(&sql)?;
            }
        }
        tx.commit().map_err(&sql)
    }

    /// The object id stored in a row's `oid` column.
    fn object_id(&self, value: rusqlite::types::ValueRef<'_>) -> Result<ObjectId, CacheError> {
        value
            .as_blob()
            .ok()
            .and_then(|bytes| ObjectId::try_from(bytes).ok())
            .ok_or_else(|| self.corrupt(format!("{value:?} is not an object id")))
    }

    /// The recorded findings of `blobs` (those with has_findings), in the order of `blobs`, each
    /// Finding restored exactly as it was recorded.
    pub fn findings(
        &self,
        blobs: &[ObjectId],
    ) -> Result<Vec<(ObjectId, Vec<Finding>)>, CacheError> {
        let sql = sqlite(&self.path);
        // One read transaction: one lock and one snapshot for every lookup.
        let tx =
            Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred).map_err(&sql)?;
        let mut found = Vec::new();
        {
            let mut select = tx
                .prepare_cached(
                    "SELECT findings FROM blobs
                     WHERE rule_set = ?1 AND oid = ?2 AND findings IS NOT NULL",
                )
                .map_err(&sql)?;
            for oid in blobs {
                let json: Option<String> = select
                    .query_row(params![self.rule_set, oid.as_slice()], |row| row.get(0))
                    .optional()
                    .map_err(&sql)?;
                if let Some(json) = json {
                    found.push((*oid, self.restore(oid, &json)?));
                }
            }
        }
        tx.commit().map_err(&sql)?;
        Ok(found)
    }

    /// Records many blobs in one transaction; a blob already recorded for this digest is left as
    /// it is.
    pub fn record(&self, blobs: &[(ObjectId, BlobRecord)]) -> Result<(), CacheError> {
        let sql = sqlite(&self.path);
        // Serialised first, so the write lock is held for the inserts alone.
        let findings = blobs
            .iter()
            .map(|(oid, record)| self.store(oid, &record.findings))
            .collect::<Result<Vec<_>, _>>()?;
        let tx =
            Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(&sql)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO blobs (rule_set, oid, bytes, is_binary, findings)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(&sql)?;
            for ((oid, record), findings) in blobs.iter().zip(findings) {
                insert
                    .execute(params![
                        self.rule_set,
                        oid.as_slice(),
                        record.bytes.cast_signed(),
                        record.binary,
                        findings,
                    ])
                    .map_err(&sql)?;
            }
        }
        tx.commit().map_err(&sql)
    }

    /// The JSON the cache keeps of a blob's findings; `None` when it has none.
    fn store(&self, oid: &ObjectId, findings: &[Finding]) -> Result<Option<String>, CacheError> {
        if findings.is_empty() {
            return Ok(None);
        }
        let stored: Vec<StoredFinding> = findings.iter().map(StoredFinding::from).collect();
        serde_json::to_string(&stored)
            .map(Some)
            .map_err(|source| CacheError::Unrecordable {
                path: self.path.clone(),
                blob: *oid,
                source,
            })
    }

    /// The findings of blob `oid` from the JSON that [`Cache::store`] made of them.
    fn restore(&self, oid: &ObjectId, json: &str) -> Result<Vec<Finding>, CacheError> {
        let stored: Vec<StoredFinding> = serde_json::from_str(json)
            .map_err(|error| self.corrupt(format!("findings of blob {oid}: {error}")))?;
        stored
            .into_iter()
            .map(StoredFinding::into_finding)
            .collect::<Result<_, _>>()
            .map_err(|detail| self.corrupt(format!("a finding of blob {oid}: {detail}")))
    }

    fn corrupt(&self, detail: String) -> CacheError {
        CacheError::Corrupt {
            path: self.path.clone(),
            detail,
        }
    }
}

/// Creates the cache file if it is absent, readable and writable by its owner only, and checks
/// that keyhound may write it (SQLite would quietly open a read-only file read-only).
fn create_private(path: &Path) -> Result<(), CacheError> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map(drop)
        .map_err(|source| CacheError::Open {
            path: path.to_path_buf(),
            source,
        })
}

/// Puts the database in WAL mode, which the file keeps. SQLite makes no use of the busy timeout
/// for this switch, so when openers of a new cache race to make it, this waits for the switch
/// itself. A file system without WAL support keeps the rollback journal: slower to share, but
/// still correct.
fn use_wal(conn: &Connection) -> rusqlite::Result<()> {
    let start = Instant::now();
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |row| {
            row.get::<_, String>(0)
        }) {
            Ok(mode) => {
                tracing::debug!(mode, "cache journal mode");
                return Ok(());
            }
            Err(error)
                if error.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && start.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(error) => return Err(error),
        }
    }
}

/// Maps an SQLite error to the cache error that says what went wrong with the file at `path`.
fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> CacheError + '_ {
    move |error| match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => CacheError::NotACache {
            path: path.to_path_buf(),
        },
        Some(ErrorCode::DatabaseCorrupt) => CacheError::Corrupt {
            path: path.to_path_buf(),
            detail: error.to_string(),
        },
        _ => CacheError::Sqlite {
            path: path.to_path_buf(),
            source: error,
        },
    }
}

/// Whether the file is new (empty, to be set up) or a cache in this keyhound's format; any
/// other file is an error, and is left as it is.
fn is_new(conn: &Connection, path: &Path) -> Result<bool, CacheError> {
    // One statement, so one snapshot: an opener that sets the file up meanwhile is seen
    // entirely or not at all.
    let (application_id, version, objects): (i32, i32, i64) = conn
        .query_row(
            "SELECT (SELECT application_id FROM pragma_application_id()),
                    (SELECT user_version FROM pragma_user_version()),
                    (SELECT count(*) FROM sqlite_schema)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .map_err(sqlite(path))?;
    let path = path.to_path_buf();
    match (application_id, version) {
        (APPLICATION_ID, FORMAT_VERSION) => Ok(false),
        (APPLICATION_ID, found) if found > FORMAT_VERSION => Err(CacheError::Newer { path, found }),
        (APPLICATION_ID, found) => Err(CacheError::Corrupt {
            path,
            detail: format!("it claims format version {found}, which never existed"),
        }),
        (0, 0) if objects == 0 => Ok(true),
        _ => Err(CacheError::Foreign { path }),
    }
}

/// A [`Finding`] as the cache keeps it, in compact JSON with empty fields left out. Its own
/// types, rather than serde on the finding's, keep the file's format in this module.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredFinding {
    rule_id: String,
    rule_name: String,
    severity: Severity,
    confidence: Confidence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    secret: String,
    redact: bool,
    origin: StoredOrigin,
    /// Line, column, end line, end column, offset.
    location: [u64; 5],
    snippet: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    snippet_hidden: Vec<(usize, usize, bool)>,
    fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aws_account: Option<StoredAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    allow_marker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rejection: Option<StoredRejection>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    decoded: Vec<StoredEncoding>,
    /// Only rules imported with allowlists set it (or the `allowlisted` rejection), and
    /// findings are stored per rule set: an older keyhound, which cannot load such rules, never
    /// reads a row that has it, so the format stays the same.
    #[serde(default, skip_serializing_if = "is_zero")]
    content_allowed: u64,
}

fn is_zero(bits: &u64) -> bool {
    *bits == 0
}

impl From<&Finding> for StoredFinding {
    fn from(finding: &Finding) -> StoredFinding {
        // Every field named, so a field added to `Finding` fails to compile here until the
        // cache stores it (and `FORMAT_VERSION` is raised) or says why not. `git`, `pair`,
        // `baseline`, `verification` and `restored` are facts of a repository, a run, a moment
        // or a report, not of the blob's content, so they are neither stored nor served;
        // `image` is known only for image tarballs on disk, never for a blob.
        let Finding {
            rule_id,
            rule_name,
            severity,
            confidence,
            kind,
            secret,
            redact,
            origin,
            location,
            snippet,
            snippet_hidden,
            fingerprint,
            git,
            aws_account,
            allow_marker,
            pair,
            baseline,
            rejection,
            decoded,
            verification,
            restored,
            image,
            content_allowed,
        } = finding;
        debug_assert!(
            git.is_none()
                && pair.is_none()
                && baseline.is_none()
                && verification.is_none()
                && restored.is_none()
                && image.is_none(),
            "the cache records findings as a scan makes them, before git attribution, pairing, \
             baseline and verification: {finding:?}"
        );
        let Location {
            line,
            column,
            end_line,
            end_column,
            offset,
        } = *location;
        StoredFinding {
            rule_id: rule_id.clone(),
            rule_name: rule_name.clone(),
            severity: *severity,
            confidence: *confidence,
            kind: kind.clone(),
            secret: secret.clone(),
            redact: *redact,
            origin: StoredOrigin::from(origin),
            location: [line, column, end_line, end_column, offset],
            snippet: snippet.clone(),
            snippet_hidden: snippet_hidden
                .iter()
                .map(|(range, cut)| (range.start, range.end, *cut))
                .collect(),
            fingerprint: fingerprint.clone(),
            aws_account: aws_account.as_ref().map(StoredAccount::from),
            allow_marker: allow_marker.map(str::to_string),
            rejection: rejection.map(StoredRejection::from),
            decoded: decoded.iter().copied().map(StoredEncoding::from).collect(),
            content_allowed: *content_allowed,
        }
    }
}

impl StoredFinding {
    /// The finding this was made from, or what in it no finding can hold.
    fn into_finding(self) -> Result<Finding, String> {
        let StoredFinding {
            rule_id,
            rule_name,
            severity,
            confidence,
            kind,
            secret,
            redact,
            origin,
            location: [line, column, end_line, end_column, offset],
            snippet,
            snippet_hidden,
            fingerprint,
            aws_account,
            allow_marker,
            rejection,
            decoded,
            content_allowed,
        } = self;
        let allow_marker = allow_marker
            .map(|marker| {
                ALLOW_MARKERS
                    .into_iter()
                    .find(|known| *known == marker)
                    .ok_or_else(|| format!("unknown allow marker `{marker}`"))
            })
            .transpose()?;
        let aws_account = aws_account.map(StoredAccount::into_account).transpose()?;
        let snippet_hidden: Vec<(Range<usize>, bool)> = snippet_hidden
            .into_iter()
            .map(|(start, end, cut)| (start..end, cut))
            .collect();
        Ok(Finding {
            rule_id,
            rule_name,
            severity,
            confidence,
            kind,
            secret,
            redact,
            origin: origin.into(),
            location: Location {
                line,
                column,
                end_line,
                end_column,
                offset,
            },
            snippet,
            snippet_hidden,
            fingerprint,
            git: None,
            aws_account,
            allow_marker,
            pair: None,
            baseline: None,
            rejection: rejection.map(Rejection::from),
            decoded: decoded.into_iter().map(Encoding::from).collect(),
            verification: None,
            restored: None,
            image: None,
            content_allowed,
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
enum StoredOrigin {
    File(PathBuf),
    Stdin,
    Git {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        repo: Option<String>,
        path: PathBuf,
        blob: String,
    },
    Inner {
        outer: Box<StoredOrigin>,
        entry: String,
    },
}

impl From<&Origin> for StoredOrigin {
    fn from(origin: &Origin) -> StoredOrigin {
        match origin {
            Origin::File(path) => StoredOrigin::File(path.clone()),
            Origin::Stdin => StoredOrigin::Stdin,
            Origin::Git { repo, path, blob } => StoredOrigin::Git {
                repo: repo.as_deref().map(str::to_string),
                path: path.clone(),
                blob: blob.clone(),
            },
            Origin::Inner { outer, entry } => StoredOrigin::Inner {
                outer: Box::new(StoredOrigin::from(&**outer)),
                entry: entry.clone(),
            },
        }
    }
}

impl From<StoredOrigin> for Origin {
    fn from(origin: StoredOrigin) -> Origin {
        match origin {
            StoredOrigin::File(path) => Origin::File(path),
            StoredOrigin::Stdin => Origin::Stdin,
            StoredOrigin::Git { repo, path, blob } => Origin::Git {
                repo: repo.map(Arc::from),
                path,
                blob,
            },
            StoredOrigin::Inner { outer, entry } => Origin::Inner {
                outer: Arc::new(Origin::from(*outer)),
                entry,
            },
        }
    }
}

/// An [`AwsAccount`], with its canary service by name.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredAccount {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    canary: Option<String>,
}

impl From<&AwsAccount> for StoredAccount {
    fn from(account: &AwsAccount) -> StoredAccount {
        let AwsAccount { id, name, canary } = account;
        StoredAccount {
            id: id.clone(),
            name: name.clone(),
            canary: canary.map(str::to_string),
        }
    }
}

impl StoredAccount {
    /// The account, its canary service taken from the built-in list (a finding holds it as a
    /// `&'static str` from there).
    fn into_account(self) -> Result<AwsAccount, String> {
        let StoredAccount { id, name, canary } = self;
        let canary = canary
            .map(|service| {
                crate::aws::canary_service(&id)
                    .filter(|known| *known == service)
                    .ok_or_else(|| {
                        format!("account {id} is not one of canary service `{service}`'s")
                    })
            })
            .transpose()?;
        Ok(AwsAccount { id, name, canary })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
enum StoredRejection {
    Boundary,
    CharClasses { found: u8, min: u8 },
    Entropy { found: u16, min: u16 },
    Placeholder,
    Path,
    Der,
    Code,
    NoContext,
    Allowlisted,
}

impl From<Rejection> for StoredRejection {
    fn from(rejection: Rejection) -> StoredRejection {
        match rejection {
            Rejection::Boundary => StoredRejection::Boundary,
            Rejection::CharClasses { found, min } => StoredRejection::CharClasses { found, min },
            Rejection::Entropy { found, min } => StoredRejection::Entropy { found, min },
            Rejection::Placeholder => StoredRejection::Placeholder,
            Rejection::Path => StoredRejection::Path,
            Rejection::Der => StoredRejection::Der,
            Rejection::Code => StoredRejection::Code,
            Rejection::NoContext => StoredRejection::NoContext,
            Rejection::Allowlisted => StoredRejection::Allowlisted,
        }
    }
}

impl From<StoredRejection> for Rejection {
    fn from(rejection: StoredRejection) -> Rejection {
        match rejection {
            StoredRejection::Boundary => Rejection::Boundary,
            StoredRejection::CharClasses { found, min } => Rejection::CharClasses { found, min },
            StoredRejection::Entropy { found, min } => Rejection::Entropy { found, min },
            StoredRejection::Placeholder => Rejection::Placeholder,
            StoredRejection::Path => Rejection::Path,
            StoredRejection::Der => Rejection::Der,
            StoredRejection::Code => Rejection::Code,
            StoredRejection::NoContext => Rejection::NoContext,
            StoredRejection::Allowlisted => Rejection::Allowlisted,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum StoredEncoding {
    Utf16,
    Base64,
    Percent,
    Escape,
    Html,
    Split,
}

impl From<Encoding> for StoredEncoding {
    fn from(encoding: Encoding) -> StoredEncoding {
        match encoding {
            Encoding::Utf16 => StoredEncoding::Utf16,
            Encoding::Base64 => StoredEncoding::Base64,
            Encoding::Percent => StoredEncoding::Percent,
            Encoding::Escape => StoredEncoding::Escape,
            Encoding::Html => StoredEncoding::Html,
            Encoding::Split => StoredEncoding::Split,
        }
    }
}

impl From<StoredEncoding> for Encoding {
    fn from(encoding: StoredEncoding) -> Encoding {
        match encoding {
            StoredEncoding::Utf16 => Encoding::Utf16,
            StoredEncoding::Base64 => Encoding::Base64,
            StoredEncoding::Percent => Encoding::Percent,
            StoredEncoding::Escape => Encoding::Escape,
            StoredEncoding::Html => Encoding::Html,
            StoredEncoding::Split => Encoding::Split,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::finding::findings_in;
    use crate::rules::RuleSet;

    /// A small xorshift generator, so every run makes the same fake keys.
    struct Rng(u64);

    impl Rng {
        fn pick(&mut self, alphabet: &[u8]) -> char {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            alphabet[(self.0 % alphabet.len() as u64) as usize] as char
        }

        /// A made-up access key ID whose account decodes (its fifth character is `Q` or later).
        fn key_id(&mut self) -> String {
            let first = self.pick(b"QRSTUVWXYZ234567");
            let rest: String = (0..15)
                .map(|_| self.pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))
                .collect();
            format!("AKIA{first}{rest}")
        }

        /// A made-up secret access key, with the mix of character classes the rule asks for.
        fn secret(&mut self) -> String {
            (0..40)
                .map(|i| match i % 10 {
                    3 => self.pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                    5 => self.pick(b"abcdefghijklmnopqrstuvwxyz"),
                    7 => self.pick(b"0123456789"),
                    _ => self
                        .pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
                })
                .collect()
        }
    }

    /// A blob id made from a number.
    fn oid(n: u64) -> ObjectId {
        let mut bytes = [0u8; 20];
        bytes[12..].copy_from_slice(&n.to_be_bytes());
        ObjectId::from(bytes)
    }

    /// A blob with no findings.
    fn clean(bytes: u64, binary: bool) -> BlobRecord {
        BlobRecord {
            bytes,
            binary,
            findings: Vec::new(),
        }
    }

    /// Findings of every shape the matcher makes, as a history scan records them for blob `oid`:
    /// a key pair on one line, a plain ID and secret, an allowed ID, a base64-encoded ID.
    fn raw_findings(rng: &mut Rng, oid: &ObjectId) -> Vec<Finding> {
        let encoded = format!("aws_access_key_id={}", rng.key_id());
        let text = format!(
            "aws_access_key_id = {}\naws_secret_access_key = {}\nid = {}  # keyhound:allow\n\
             creds: {}\n{},{}\n",
            rng.key_id(),
            rng.secret(),
            rng.key_id(),
            crate::decode::base64_encode(encoded.as_bytes()),
            rng.key_id(),
            rng.secret(),
        );
        let origin = Origin::git(PathBuf::new(), oid.to_string());
        let found = findings_in(&RuleSet::builtin().unwrap(), text.as_bytes(), &origin, 1, 0);
        assert_eq!(found.len(), 6, "{text}");
        assert!(found
            .iter()
            .any(|f| f.allow_marker == Some("keyhound:allow")));
        assert!(found.iter().any(|f| f.decoded == [Encoding::Base64]));
        assert!(found.iter().any(|f| !f.snippet_hidden.is_empty()));
        found
    }

    /// A finding with what the matcher's findings above lack: a rejection (as `--explain`
    /// keeps), an account with a name and a canary service, a chain of decodings.
    fn unusual_finding(rng: &mut Rng, oid: &ObjectId) -> Finding {
        let mut finding = raw_findings(rng, oid).remove(0);
        let canary_account = "052310077262".to_string();
        finding.aws_account = Some(AwsAccount {
            name: Some("décor \"prod\"\n".into()),
            ..AwsAccount::new(canary_account)
        });
        assert!(finding.canary().is_some());
        finding.rejection = Some(Rejection::Entropy {
            found: 297,
            min: 300,
        });
        finding.decoded = vec![Encoding::Utf16, Encoding::Split, Encoding::Escape];
        finding.kind = None;
        finding
    }

    #[test]
    fn records_survive_a_reopen_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let with_findings = [oid(1), oid(4), oid(7)];
        let recorded = vec![
            raw_findings(&mut rng, &with_findings[0]),
            vec![unusual_finding(&mut rng, &with_findings[1])],
            raw_findings(&mut rng, &with_findings[2]),
        ];
        let mut blobs: Vec<(ObjectId, BlobRecord)> = vec![
            (oid(2), clean(0, false)),
            (oid(3), clean(u64::MAX, true)),
            (oid(5), clean(12_345, false)),
        ];
        for (id, findings) in with_findings.iter().zip(&recorded) {
            let record = BlobRecord {
                bytes: 300,
                binary: false,
                findings: findings.clone(),
            };
            blobs.push((*id, record));
        }
        Cache::open(&path, "rules-a")
            .unwrap()
            .record(&blobs)
            .unwrap();

        let cache = Cache::open(&path, "rules-a").unwrap();
        let known = cache.known().unwrap();
        assert_eq!(known.len(), blobs.len());
        for (id, record) in &blobs {
            let expected = KnownBlob {
                bytes: record.bytes,
                binary: record.binary,
                has_findings: !record.findings.is_empty(),
            };
            assert_eq!(known[id], expected, "{id}");
        }
        // In the order asked, skipping blobs without findings and blobs never recorded.
        let asked = [oid(7), oid(2), oid(1), oid(99), oid(4)];
        let found = cache.findings(&asked).unwrap();
        let expected = vec![
            (oid(7), recorded[2].clone()),
            (oid(1), recorded[0].clone()),
            (oid(4), recorded[1].clone()),
        ];
        assert_eq!(found, expected);
    }

    #[test]
    fn objects_that_are_not_blobs_are_known_to_every_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let first = Cache::open(&path, "rules-a").unwrap();
        first.record_others(&[oid(1), oid(2)]).unwrap();
        first.record_others(&[oid(2), oid(3)]).unwrap();
        let second = Cache::open(&path, "rules-b").unwrap();
        let expected: HashSet<ObjectId> = [oid(1), oid(2), oid(3)].into();
        assert_eq!(second.known_others().unwrap(), expected);
        assert!(second.known().unwrap().is_empty());
    }

    #[test]
    fn each_digest_sees_only_its_own_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let first = Cache::open(&path, "rules-a").unwrap();
        let second = Cache::open(&path, "rules-b").unwrap();
        first.record(&[(oid(1), clean(10, false))]).unwrap();
        assert!(second.known().unwrap().is_empty());
        second.record(&[(oid(1), clean(20, true))]).unwrap();
        assert_eq!(first.known().unwrap()[&oid(1)].bytes, 10);
        assert_eq!(second.known().unwrap()[&oid(1)].bytes, 20);
    }

    #[test]
    fn a_blob_recorded_twice_keeps_its_first_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let cache = Cache::open(&path, "rules-a").unwrap();
        let mut rng = Rng(7);
        let findings = raw_findings(&mut rng, &oid(1));
        let first = BlobRecord {
            bytes: 300,
            binary: false,
            findings: findings.clone(),
        };
        cache.record(&[(oid(1), first)]).unwrap();
        cache
            .record(&[(oid(1), clean(1, true)), (oid(2), clean(2, false))])
            .unwrap();
        let known = cache.known().unwrap();
        let kept = KnownBlob {
            bytes: 300,
            binary: false,
            has_findings: true,
        };
        assert_eq!(known[&oid(1)], kept);
        assert_eq!(known[&oid(2)].bytes, 2);
        assert_eq!(cache.findings(&[oid(1)]).unwrap(), [(oid(1), findings)]);
    }

    #[test]
    fn an_empty_file_becomes_a_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        std::fs::write(&path, b"").unwrap();
        let cache = Cache::open(&path, "rules-a").unwrap();
        cache.record(&[(oid(1), clean(1, false))]).unwrap();
        assert_eq!(cache.known().unwrap().len(), 1);
    }

    /// Asserts that `error` names `path`, and returns its message.
    fn message_naming(error: &CacheError, path: &Path) -> String {
        let message = error.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        message
    }

    #[test]
    fn a_file_of_random_bytes_is_not_a_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let mut rng = Rng(42);
        let bytes: Vec<u8> = (0..8192)
            .map(|_| rng.pick(&[0, 1, 0xfe, b'a']) as u8)
            .collect();
        std::fs::write(&path, &bytes).unwrap();
        let error = Cache::open(&path, "rules-a").err().unwrap();
        assert!(matches!(error, CacheError::NotACache { .. }), "{error:?}");
        assert!(message_naming(&error, &path).contains("not a keyhound cache"));
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "the file was changed");
    }

    #[test]
    fn a_truncated_cache_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let blobs: Vec<_> = (0..2_000).map(|n| (oid(n), clean(n, false))).collect();
        Cache::open(&path, "rules-a")
            .unwrap()
            .record(&blobs)
            .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
        let error = Cache::open(&path, "rules-a")
            .and_then(|cache| cache.known())
            .err()
            .unwrap();
        assert!(
            matches!(
                error,
                CacheError::Corrupt { .. } | CacheError::NotACache { .. }
            ),
            "{error:?}"
        );
        message_naming(&error, &path);
    }

    #[test]
    fn another_programs_database_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.db");
        let other = Connection::open(&path).unwrap();
        other
            .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        drop(other);
        let before = std::fs::read(&path).unwrap();
        let error = Cache::open(&path, "rules-a").err().unwrap();
        assert!(matches!(error, CacheError::Foreign { .. }), "{error:?}");
        assert!(message_naming(&error, &path).contains("will not touch it"));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the file was changed"
        );
    }

    #[test]
    fn a_cache_of_a_newer_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        drop(Cache::open(&path, "rules-a").unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let error = Cache::open(&path, "rules-a").err().unwrap();
        assert!(
            matches!(error, CacheError::Newer { found: 99, .. }),
            "{error:?}"
        );
        assert!(message_naming(&error, &path).contains("newer keyhound"));
    }

    #[test]
    fn a_directory_is_not_a_cache_file() {
        let dir = tempfile::tempdir().unwrap();
        let error = Cache::open(dir.path(), "rules-a").err().unwrap();
        assert!(matches!(error, CacheError::Open { .. }), "{error:?}");
        message_naming(&error, dir.path());
    }

    #[test]
    fn an_unknown_allow_marker_is_damage_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let cache = Cache::open(&path, "rules-a").unwrap();
        let record = BlobRecord {
            bytes: 300,
            binary: false,
            findings: raw_findings(&mut Rng(3), &oid(1)),
        };
        cache.record(&[(oid(1), record)]).unwrap();
        cache
            .conn
            .execute(
                "UPDATE blobs SET findings = replace(findings, 'keyhound:allow', 'nobody:allow')",
                [],
            )
            .unwrap();
        let error = cache.findings(&[oid(1)]).err().unwrap();
        assert!(matches!(error, CacheError::Corrupt { .. }), "{error:?}");
        assert!(message_naming(&error, &path).contains("nobody:allow"));
    }

    #[test]
    fn threads_with_their_own_cache_record_side_by_side() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|scope| {
            for thread in 0..2u64 {
                let (path, barrier) = (&path, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let cache = Cache::open(path, "rules-a").unwrap();
                    for batch in 0..20 {
                        let blobs: Vec<_> = (0..100)
                            .map(|n| (oid((thread << 32) | (batch * 100 + n)), clean(n, true)))
                            .collect();
                        cache.record(&blobs).unwrap();
                    }
                });
            }
        });
        let known = Cache::open(&path, "rules-a").unwrap().known().unwrap();
        assert_eq!(known.len(), 4_000);
        assert!(known.contains_key(&oid((1 << 32) | 1_999)) && known.contains_key(&oid(1_999)));
    }

    #[cfg(unix)]
    #[test]
    fn only_its_owner_may_read_the_cache() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let cache = Cache::open(&path, "rules-a").unwrap();
        cache.record(&[(oid(1), clean(1, false))]).unwrap();
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        for file in [path.as_path(), Path::new(&wal)] {
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", file.display());
        }
    }

    /// Prints how long an audit of a large history spends in the cache; asserts nothing of it.
    #[test]
    fn a_large_history_is_recorded_and_listed_quickly() {
        const BLOBS: u64 = 130_000;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let cache = Cache::open(&path, &"d".repeat(64)).unwrap();
        let mut rng = Rng(11);
        let blobs: Vec<_> = (0..BLOBS)
            .map(|n| match n % 1_000 {
                0 => (
                    oid(n),
                    BlobRecord {
                        bytes: 300,
                        binary: false,
                        findings: raw_findings(&mut rng, &oid(n)),
                    },
                ),
                _ => (oid(n), clean(n * 37 % 50_000, n % 50 == 0)),
            })
            .collect();
        let start = std::time::Instant::now();
        cache.record(&blobs).unwrap();
        let recorded = start.elapsed();
        let start = std::time::Instant::now();
        let known = Cache::open(&path, &"d".repeat(64))
            .unwrap()
            .known()
            .unwrap();
        let listed = start.elapsed();
        assert_eq!(known.len() as u64, BLOBS);
        let with_findings: Vec<ObjectId> = (0..BLOBS).step_by(1_000).map(oid).collect();
        let start = std::time::Instant::now();
        let found = cache.findings(&with_findings).unwrap();
        let restored = start.elapsed();
        assert_eq!(found.len(), with_findings.len());
        let size = std::fs::metadata(&path).unwrap().len();
        println!(
            "{BLOBS} blobs: record {recorded:?}, open + known {listed:?}, findings of {} blobs \
             {restored:?}, file {size} bytes",
            with_findings.len()
        );
    }
}
