//! The bodies of the fuzz targets in `fuzz/`, shared with `tests/fuzz_regressions.rs`, which
//! runs every saved input through them in `cargo test`. Each body panics when keyhound breaks
//! one of its promises on the input, which is how libFuzzer learns of a failure.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use keyhound::matcher::{Matcher, RawMatch};
use keyhound::rules::RuleSet;
use keyhound::source::{ChunkReader, Mode};
use keyhound::source::{LEAD, TAIL};

fn builtin() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::builtin().expect("built-in rules compile"))
}

/// The decoding depths the matcher target tries: none, one layer, the default, the most.
const DEPTHS: [u8; 4] = [0, 1, 2, 4];

/// The built-in rules' matcher in configuration `config` (0 to 7): the low bit turns on
/// explaining (rejected candidates are reported too), the next two pick from [`DEPTHS`].
fn configured_matcher(config: usize) -> &'static Matcher<'static> {
    static MATCHERS: [OnceLock<Matcher<'static>>; 8] = [const { OnceLock::new() }; 8];
    MATCHERS[config].get_or_init(|| {
        Matcher::new(builtin())
            .explaining(config & 1 == 1)
            .decoding(DEPTHS[config >> 1])
    })
}

/// What `matcher` finds in `input` read in chunks of `chunk_size`: absolute offset, rule, value
/// and rejection of each match.
fn matches_in_chunks(
    matcher: &Matcher<'_>,
    input: &[u8],
    chunk_size: usize,
) -> BTreeSet<(u64, u32, Vec<u8>, Option<String>)> {
    let mut scratch = matcher.scratch();
    let mut reader = ChunkReader::new(chunk_size);
    let mut raw: Vec<RawMatch> = Vec::new();
    let mut found = BTreeSet::new();
    reader
        .read(
            input,
            Mode {
                skip_binary: false,
                archives: false,
            },
            |chunk| {
                raw.clear();
                matcher.find(&mut scratch, chunk.data, chunk.owned.clone(), &mut raw);
                for m in &raw {
                    assert!(
                        m.secret.start < m.secret.end && m.secret.end <= chunk.data.len(),
                        "match {:?} outside a chunk of {} bytes",
                        m.secret,
                        chunk.data.len()
                    );
                    assert!(chunk.owned.contains(&m.secret.start));
                    let value = match &m.decoded {
                        Some(decoded) => decoded.value.clone(),
                        None => chunk.data[m.secret.clone()].to_vec(),
                    };
                    let rejection = m.rejection.as_ref().map(ToString::to_string);
                    found.insert((
                        chunk.offset + m.secret.start as u64,
                        m.rule,
                        value,
                        rejection,
                    ));
                }
            },
        )
        .expect("reading from memory cannot fail");
    found
}

/// A line with nothing for any rule to find.
const FILLER_LINE: &[u8] = b"a line of filler with nothing to find in it\n";

/// The matcher over arbitrary bytes: no panic, every match inside its buffer, and the same
/// matches whatever the chunk size. The first byte picks the chunk size (its high five bits,
/// 16 bytes to about 4 KiB) and the matcher's configuration (its low three bits: explaining or
/// not, and the decoding depth).
pub fn matcher(data: &[u8]) {
    let Some((&pick, input)) = data.split_first() else {
        return;
    };
    let matcher = configured_matcher(usize::from(pick & 7));
    // Filler after the input overflows the reader's first buffer (a chunk plus the overlap of
    // LEAD and TAIL bytes), so the input is cut into chunks and carried from one buffer to the
    // next: without it, inputs of a few KiB fit in one buffer and are never cut. (Filler ahead
    // of the input would hide a byte order mark from the UTF-16 detection.)
    let mut text = input.to_vec();
    text.extend_from_slice(&FILLER_LINE.repeat((LEAD + TAIL) / FILLER_LINE.len() + 1));
    // Chunks of 16 bytes and up: each costs a pass over the overlap, so smaller ones would
    // slow fuzzing tenfold; the property tests cover chunks of a single byte.
    let chunk_size = 16 + usize::from(pick >> 3) * 128;
    let whole = matches_in_chunks(matcher, &text, 1 << 20);
    let small = matches_in_chunks(matcher, &text, chunk_size);
    assert_eq!(whole, small, "chunk size {chunk_size} changed the matches");
}

/// Rule files from arbitrary text: refused with an error or compiled into rules that run.
pub fn rules(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut rules = RuleSet::empty();
    if rules.add_toml(&text, "fuzz.toml").is_err() {
        return;
    }
    let matcher = Matcher::with_every_rule(&rules);
    let mut scratch = matcher.scratch();
    let mut out = Vec::new();
    let sample = format!("aws_access_key_id = AKIAQYLPMN5HHHFPZAM2\n{text}\n");
    matcher.find(&mut scratch, sample.as_bytes(), 0..sample.len(), &mut out);
    let _ = keyhound::matcher::examples::check_examples(&rules);
}

/// A scratch directory for the files of one fuzzing process (settings, cache), in memory
/// where the system has a `/dev/shm`: the targets that must write a file run several times
/// faster there.
fn scratch_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("keyhound-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        dir
    })
}

/// The config file, a baseline and an accounts file (TOML and CSV) from arbitrary bytes: each
/// loads or is refused with an error, never a panic.
pub fn settings(data: &[u8]) {
    let dir = scratch_dir();
    let config = dir.join("keyhound.toml");
    std::fs::write(&config, data).expect("write the config file");
    let args = keyhound::cli::RuleArgs {
        rule_paths: Vec::new(),
        enable: Vec::new(),
        disable: Vec::new(),
        config: Some(config),
    };
    let _ = keyhound::config::load_settings(&args, dir);
    let baseline = dir.join("baseline.json");
    std::fs::write(&baseline, data).expect("write the baseline");
    let _ = keyhound::filter::baseline::Baseline::load(&baseline);
    for name in ["accounts.toml", "accounts.csv"] {
        let accounts = dir.join(name);
        std::fs::write(&accounts, data).expect("write the accounts file");
        let _ = keyhound::aws::AccountNames::load(&accounts);
    }
}

/// Diff handling from arbitrary bytes: `git diff --raw -z` output parses without a panic, and
/// the lines a change adds (old and new content split at the first 0xFF byte) are increasing
/// ranges within the new content.
pub fn diff(data: &[u8]) {
    let _ = keyhound::source::git::changes::parse_raw_diff(data);
    let (old, new) = match data.iter().position(|&b| b == 0xFF) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&data[..data.len() / 2], &data[data.len() / 2..]),
    };
    let Ok(added) = keyhound::source::git::changes::added_lines(old, new) else {
        return;
    };
    let lines = new.split(|&b| b == b'\n').count() as u64;
    let mut previous_end = 1;
    for range in added {
        assert!(
            range.start >= previous_end && range.start < range.end && range.end <= lines + 1,
            "added lines {range:?} in content of {lines} lines"
        );
        previous_end = range.end;
    }
}

/// Limits small enough that one input never takes long: what a hostile archive may cost is
/// bounded by them, and the target checks that it is.
fn fuzz_limits() -> keyhound::source::archive::Limits {
    keyhound::source::archive::Limits {
        max_depth: 3,
        max_bytes: 8 << 20,
    }
}

/// Reads every entry of the container or compressed stream `data` is, and of what it holds,
/// to the nesting limit: every path ends with entries, a skip or a stop, never a panic, and
/// never more inflated bytes than the budget allows.
pub fn archive(data: &[u8]) {
    use keyhound::source::archive::{self, Budget, Input, Kind};
    use std::io::Read;
    fn open(kind: Kind, data: &[u8], budget: &Budget, depth: u8) {
        let mut read_entry = |entry: archive::Entry<'_>| {
            let mut content = Vec::new();
            let _ = entry.data.take(16 << 20).read_to_end(&mut content);
            nested(&content, budget, depth + 1);
        };
        if kind.is_container() {
            let _ = archive::each_entry(
                kind,
                Input::Bytes(data),
                budget,
                &mut read_entry,
                &mut |_| {},
            );
            // The streaming reader sees the same bytes as a pipe would give them.
            let mut stream: &[u8] = data;
            let _ = archive::each_entry(
                kind,
                Input::Stream(&mut stream),
                budget,
                &mut read_entry,
                &mut |_| {},
            );
        } else {
            let compressed = std::cell::Cell::new(0);
            let mut input: &[u8] = data;
            let mut inflated = Vec::new();
            let _ = archive::inflate(kind, &mut input, budget, &compressed)
                .take(16 << 20)
                .read_to_end(&mut inflated);
            nested(&inflated, budget, depth + 1);
        }
    }
    fn nested(data: &[u8], budget: &Budget, depth: u8) {
        if depth > 3 {
            return;
        }
        if let Some(kind) = Kind::sniff_whole(data) {
            open(kind, data, budget, depth);
        }
    }
    let limits = fuzz_limits();
    let budget = Budget::new(&limits);
    // The first byte picks the kind to read the rest as, so every reader sees every input.
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let kinds = [
        Kind::Zip,
        Kind::Tar,
        Kind::Gzip,
        Kind::Bzip2,
        Kind::Xz,
        Kind::Zstd,
    ];
    let kind = Kind::sniff_whole(rest).unwrap_or(kinds[usize::from(pick) % kinds.len()]);
    open(kind, rest, &budget, 0);
}

/// A container image tarball's metadata (docker-save and OCI manifests, configs, layer
/// lists, whiteouts) from arbitrary bytes: read or refused, never a panic.
pub fn image(data: &[u8]) {
    if let Some(image) = keyhound::source::image::Image::read(std::io::Cursor::new(data)) {
        for entry in ["layer.tar", "blobs/sha256/0", "x/layer.tar", "./layer.tar"] {
            let _ = image.layer(entry);
        }
    }
    // Whiteouts, from entry names the input makes up.
    let mut whiteouts = keyhound::source::image::Whiteouts::default();
    let text = String::from_utf8_lossy(data);
    let names: Vec<&str> = text.split(['\n', '\0']).take(64).collect();
    for (layer, name) in names.iter().enumerate() {
        whiteouts.note(layer % 4, name);
    }
    for (layer, name) in names.iter().enumerate() {
        let _ = whiteouts.deletes(layer % 4, name);
    }
}

/// A gitleaks configuration from arbitrary bytes: translated or refused with an error, and
/// what translates compiles and runs, or is refused, never a panic. The rule loader tells a
/// gitleaks file from keyhound's own, so this is the `rules` body on gitleaks seeds.
pub fn gitleaks(data: &[u8]) {
    rules(data);
}

/// keyhound's own JSON reports and baselines from arbitrary bytes, as `merge`, `respond` and
/// `--baseline` read them: read or refused, never a panic; a report read back lists its keys.
pub fn report(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(report) = keyhound::report::json::read(&text) {
        let _ = keyhound::respond::leaked::keys(&report.findings);
    }
    let _ = keyhound::filter::baseline::Baseline::parse(&text, "fuzz.json".as_ref());
}

/// Replies of STS, IAM and CloudTrail from arbitrary bytes, as keyhound reads them: an STS
/// identity only from a well-formed reply, a CloudTrail page, an IAM policy document and its
/// evaluation; never a panic.
pub fn aws_reply(data: &[u8]) {
    use keyhound::finding::VerificationStatus;
    use keyhound::verify::{policy, query::Reply, sts};
    let text = String::from_utf8_lossy(data).into_owned();
    if let VerificationStatus::Live { arn, account, .. } = sts::status_of(Reply::Ok(text.clone())) {
        assert!(
            !arn.is_empty() && !account.is_empty(),
            "a live identity without a name"
        );
    }
    let _ = sts::status_of(Reply::Refused {
        code: text.clone(),
        status: 403,
    });
    let _ = keyhound::respond::activity::read_page(&text);
    if let Ok(document) = policy::decode_document(&text) {
        let policies = [document];
        for spec in policy::high_impact_actions() {
            let _ = policy::evaluate(&policies, &spec.name, true);
        }
        let _ = policy::is_administrator(&policies);
    }
}

/// A cache file from arbitrary bytes (a damaged or hostile SQLite database): opened and read,
/// or refused with an error, never a panic.
pub fn cache(data: &[u8]) {
    let path = scratch_dir().join("cache.sqlite");
    let _ = std::fs::remove_file(&path);
    std::fs::write(&path, data).expect("write the cache");
    if let Ok(cache) = keyhound::cache::Cache::open(&path, "fuzz") {
        if let Ok(known) = cache.known() {
            let blobs: Vec<_> = known.keys().copied().take(64).collect();
            let _ = cache.findings(&blobs);
        }
        let _ = cache.known_others();
    }
}
