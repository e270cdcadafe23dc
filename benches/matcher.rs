//! Throughput of the matcher alone (prefilter, windowed regexes, validators) on in-memory buffers.
//!
//! Three buffers of about 4 MiB each are generated deterministically (a small xorshift PRNG, so
//! every run and every machine measures the same bytes):
//!
//! - `no_keywords`: source-code-like text in which no rule keyword occurs, so only the
//!   Aho-Corasick prefilter runs. This is the common case and the ceiling for everything else.
//! - `near_misses`: code dense with things that look like credentials but are not (`AKIA` inside
//!   words, key IDs with a lowercase tail, too long or too repetitive, `ASIAN`, identifiers with
//!   `aws`, `token`, `secret`, SHA-1s, base64 digests, random 40-character values without AWS
//!   context). Keyword hits open regex windows and candidates reach the validators, but nothing
//!   is reported.
//! - `dense_credentials`: `.aws/credentials` profiles and `.env` entries with a generated key ID
//!   and secret every few lines, so the regexes, validators and context checks run all the time.
//!
//! The rule set, the matcher, one scratch and one output vector are built once, outside the
//! timed loop, as a scanning thread does. Before timing, each buffer is checked to have the
//! property its name claims, so a change to the rules cannot silently turn one case into another.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use keyhound::decode::base64_encode;
use keyhound::matcher::{spellings, Matcher, RawMatch};
use keyhound::rules::RuleSet;

/// Size of each generated buffer.
const TARGET_LEN: usize = 4 << 20;

/// Base32 alphabet of the characters after an access key ID's prefix.
const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Alphabet of secret access keys and base64 digests.
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &[u8] = b"0123456789abcdef";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";

/// Identifier parts for the code-like filler; none of them contains a rule keyword.
const WORDS: &[&str] = &[
    "user", "count", "buffer", "index", "parse", "config", "value", "result", "handler", "request",
    "response", "item", "node", "path", "line", "offset", "len", "cache", "state", "event",
    "query", "page", "width", "height", "color", "name", "list", "map", "entry", "record",
    "client", "server", "retry", "limit", "batch", "queue", "worker", "field", "schema", "row",
];
/// Type names for the code-like filler.
const TYPES: &[&str] = &[
    "String",
    "Vec<u8>",
    "HashMap",
    "Option<usize>",
    "Request",
    "Response",
    "Config",
    "Error",
    "PathBuf",
    "Duration",
];
/// Words for comments and string literals in the code-like filler.
const PROSE: &[&str] = &[
    "the",
    "returns",
    "when",
    "is",
    "empty",
    "otherwise",
    "first",
    "matching",
    "entry",
    "skips",
    "invalid",
    "input",
    "and",
    "retries",
    "later",
    "note",
    "this",
    "keeps",
    "order",
    "of",
    "each",
    "row",
    "so",
    "callers",
    "can",
    "stream",
    "results",
    "without",
    "copying",
];

/// Deterministic xorshift64 generator writing text into a buffer.
struct Gen {
    state: u64,
    out: Vec<u8>,
}

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen {
            state: seed | 1,
            out: Vec::with_capacity(TARGET_LEN + 4096),
        }
    }

    fn next(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn full(&self) -> bool {
        self.out.len() >= TARGET_LEN
    }

    fn s(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
    }

    fn chars(&mut self, alphabet: &[u8], n: usize) {
        for _ in 0..n {
            let c = alphabet[self.below(alphabet.len())];
            self.out.push(c);
        }
    }

    fn num(&mut self) {
        let n = self.below(10_000);
        self.s(&n.to_string());
    }

    /// A snake_case identifier of two or three parts.
    fn ident(&mut self) {
        let parts = 2 + self.below(2);
        for i in 0..parts {
            if i > 0 {
                self.s("_");
            }
            let w = self.pick(WORDS);
            self.s(w);
        }
    }

    fn prose(&mut self, words: usize) {
        for i in 0..words {
            if i > 0 {
                self.s(" ");
            }
            let w = self.pick(PROSE);
            self.s(w);
        }
    }

    /// A fake access key ID: a real prefix and 16 base32 characters.
    fn key_id(&mut self, prefix: &str) {
        self.s(prefix);
        self.chars(B32, 16);
    }

    /// One line of code in one of a few languages' shapes.
    fn code_line(&mut self) {
        match self.below(10) {
            0 => {
                self.s("fn ");
                self.ident();
                self.s("(");
                self.ident();
                self.s(": &");
                let t = self.pick(TYPES);
                self.s(t);
                self.s(") -> Result<");
                let t = self.pick(TYPES);
                self.s(t);
                self.s(", Error> {");
            }
            1 | 2 => {
                self.s("    let ");
                self.ident();
                self.s(" = ");
                self.ident();
                self.s(".");
                self.ident();
                self.s("(");
                self.ident();
                self.s(", ");
                self.num();
                self.s(", \"");
                let n = 2 + self.below(4);
                self.prose(n);
                self.s("\");");
            }
            3 => {
                self.s("    // ");
                let n = 4 + self.below(10);
                self.prose(n);
            }
            4 => {
                self.s("    if ");
                self.ident();
                self.s(" > ");
                self.num();
                self.s(" { return ");
                self.ident();
                self.s("; }");
            }
            5 => self.s("}"),
            6 => {
                self.s("import { ");
                self.ident();
                self.s(" } from \"./");
                self.ident();
                self.s("/");
                self.ident();
                self.s("\";");
            }
            7 => {
                self.s("        ");
                self.ident();
                self.s(": ");
                self.num();
                self.s(",");
            }
            8 => {
                self.s("def ");
                self.ident();
                self.s("(self, ");
                self.ident();
                self.s("=");
                self.num();
                self.s("):");
            }
            _ => {}
        }
        self.s("\n");
    }

    /// One line that brushes against a rule without being a credential.
    fn near_miss_line(&mut self) {
        match self.below(20) {
            0 => self.s("    brand = \"MAKIAGE\"  # cosmetics vendor code, not a key\n"),
            1 => {
                self.s("cache_key = AKIA");
                self.chars(LOWER, 16);
                self.s("\n");
            }
            2 => {
                self.s("build_id = ");
                self.key_id("AKIA");
                self.chars(B32, 3);
                self.s("\n");
            }
            3 => {
                self.s("label = MAX");
                self.key_id("AKIA");
                self.s("\n");
            }
            4 => self.s("placeholder_id = AKIAXXXXXXXXXXXXXXXX\n"),
            5 => self.s("    market = Market::ASIAN_PACIFIC; // ASIAN and EMEA desks\n"),
            6 => {
                self.s("    csrf_token = \"");
                self.chars(HEX, 32);
                self.s("\"\n");
            }
            7 => {
                self.s("refresh_token = \"");
                self.chars(B64, 128);
                self.s("\"\n");
            }
            8 => self.s("    const tokenizer = new Tokenizer({ maxTokens: 512 }); // TOKEN_TTL\n"),
            9 => {
                // The comment keeps a secret-key name on the line before (`SECRET_KEY_BASE`)
                // from giving this value the AWS context of the secret access key rule.
                self.s("# signs outgoing webhooks\nWEBHOOK_SIGNING_SECRET = \"");
                self.chars(B64, 40);
                self.s("\"\n");
            }
            10 => {
                self.s("    client_secret_rev = \"");
                self.chars(HEX, 40);
                self.s("\"\n");
            }
            11 => {
                self.s("    let s = Secret::new(");
                self.ident();
                self.s(", SecretKind::Opaque); // SECRET rotation in vault\n");
            }
            12 => {
                self.s("    secretName: \"");
                self.ident();
                self.s("\",\n");
            }
            13 => {
                self.s("aws_region = \"us-east-1\"\nawsProfileName = \"");
                self.ident();
                self.s("\"\n");
            }
            14 => {
                self.s("AWS_DEFAULT_REGION=eu-west-1  # aws sdk ");
                self.num();
                self.s("\n");
            }
            15 => {
                self.s("commit ");
                self.chars(HEX, 40);
                self.s(" (parent ");
                self.chars(HEX, 40);
                self.s(")\n");
            }
            16 => {
                self.s("  \"integrity\": \"sha256-");
                self.chars(B64, 43);
                self.s("=\", \"digest\": \"");
                self.chars(B64, 27);
                self.s("=\",\n");
            }
            17 => {
                self.s("    uses: aws-actions/configure-aws-credentials@");
                self.chars(HEX, 40);
                self.s("\n");
            }
            18 => {
                self.s("ref = ");
                self.s("AKIA");
                self.chars(B32, 12);
                self.s(", id_token_hint = ");
                self.chars(HEX, 16);
                self.s("\n");
            }
            _ => {
                self.s("SECRET_KEY_BASE = \"");
                self.chars(HEX, 64);
                self.s("\"\n");
            }
        }
    }

    /// A credentials entry in `.aws/credentials` or `.env` form; returns the values planted.
    fn credential_entry(&mut self) -> usize {
        let prefix = if self.below(3) == 0 { "ASIA" } else { "AKIA" };
        if self.below(2) == 0 {
            self.s("[profile-");
            self.num();
            self.s("]\naws_access_key_id = ");
            self.key_id(prefix);
            self.s("\naws_secret_access_key = ");
            self.chars(B64, 40);
            self.s("\nregion = us-east-1\n");
        } else {
            self.s("AWS_ACCESS_KEY_ID=");
            self.key_id(prefix);
            self.s("\nAWS_SECRET_ACCESS_KEY=");
            self.chars(B64, 40);
            self.s("\nDATABASE_URL=postgres://app@db:5432/");
            self.ident();
            self.s("\nLOG_LEVEL=debug\n");
        }
        2
    }
}

impl Gen {
    /// A credential pair as it sits encoded: base64 in a Kubernetes `Secret`, percent-encoded in
    /// a URL, or `\u`-escaped in minified JavaScript; returns the values planted.
    fn encoded_credential_entry(&mut self) -> usize {
        let prefix = if self.below(3) == 0 { "ASIA" } else { "AKIA" };
        let mut id = Gen::new(self.next());
        id.key_id(prefix);
        let id = String::from_utf8(id.out).unwrap();
        let mut secret = Gen::new(self.next());
        secret.chars(B64, 40);
        let secret = String::from_utf8(secret.out).unwrap();
        match self.below(3) {
            0 => {
                self.s("data:\n  AWS_ACCESS_KEY_ID: ");
                self.s(&base64_encode(id.as_bytes()));
                self.s("\n  AWS_SECRET_ACCESS_KEY: ");
                self.s(&base64_encode(secret.as_bytes()));
                self.s("\n");
            }
            1 => {
                let escaped = secret.replace('/', "%2F").replace('+', "%2B");
                self.s(&format!("REMOTE=s3://{id}:{escaped}@bucket/path\n"));
            }
            _ => {
                let escaped = secret.replace('/', "\\u002F").replace('+', "\\u002B");
                self.s(&format!(
                    "var c={{accessKeyId:\"{id}\",secretAccessKey:\"{escaped}\"}};\n"
                ));
            }
        }
        2
    }
}

fn no_keywords() -> Vec<u8> {
    let mut g = Gen::new(0x9e37_79b9_7f4a_7c15);
    while !g.full() {
        g.code_line();
    }
    g.out
}

fn near_misses() -> Vec<u8> {
    let mut g = Gen::new(0xd1b5_4a32_d192_ed03);
    while !g.full() {
        if g.below(5) < 3 {
            g.near_miss_line();
        } else {
            g.code_line();
        }
    }
    g.out
}

/// A buffer of credential entries written by `entry`, one to three code lines apart, and the
/// number of values planted in it.
fn credentials(seed: u64, entry: fn(&mut Gen) -> usize) -> (Vec<u8>, usize) {
    let mut g = Gen::new(seed);
    let mut planted = 0;
    while !g.full() {
        planted += entry(&mut g);
        for _ in 0..1 + g.below(3) {
            g.code_line();
        }
    }
    (g.out, planted)
}

/// Occurrences of any prefilter literal of the enabled rules in `buf`.
fn keyword_hits(rules: &RuleSet, buf: &[u8]) -> usize {
    let mut literals: Vec<String> = Vec::new();
    for rule in rules.all().iter().filter(|r| r.enabled) {
        literals.extend(rule.keywords.iter().flat_map(|k| spellings(k)));
        literals.extend(rule.exact_keywords.iter().cloned());
    }
    literals.sort();
    literals.dedup();
    literals
        .iter()
        .map(|l| memchr::memmem::find_iter(buf, l.as_bytes()).count())
        .sum()
}

fn bench_matcher(c: &mut Criterion) {
    let rules = RuleSet::builtin().expect("built-in rules compile");
    let matcher = Matcher::new(&rules);
    let mut scratch = matcher.scratch();
    let mut out: Vec<RawMatch> = Vec::new();

    let mut count_matches = |buf: &[u8]| {
        out.clear();
        matcher.find(&mut scratch, buf, 0..buf.len(), &mut out);
        out.len()
    };

    let plain = no_keywords();
    assert_eq!(keyword_hits(&rules, &plain), 0, "no_keywords has a keyword");

    let near = near_misses();
    assert!(
        keyword_hits(&rules, &near) > 10_000,
        "near_misses is sparse"
    );
    if count_matches(&near) > 0 {
        let m = &out[0];
        let line_start = near[..m.secret.start]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line_end = near[m.secret.end..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(near.len(), |i| m.secret.end + i);
        panic!(
            "near_misses has {} matches; the first, of {}, is on the line {:?}",
            out.len(),
            rules.get(m.rule as usize).id,
            String::from_utf8_lossy(&near[line_start..line_end])
        );
    }

    let (dense, planted) = credentials(0x2545_f491_4f6c_dd1d, Gen::credential_entry);
    let found = count_matches(&dense);
    assert!(
        found * 100 >= planted * 99,
        "dense_credentials: {found} of {planted} planted values found"
    );

    let (encoded, planted) = credentials(0x4f6c_dd1d_2545_f491, Gen::encoded_credential_entry);
    let found = count_matches(&encoded);
    assert!(
        found * 100 >= planted * 99,
        "encoded_credentials: {found} of {planted} planted values found"
    );

    let mut group = c.benchmark_group("matcher");
    // Flat sampling: the slower cases take tens of milliseconds per call, too long for
    // criterion's default linear sampling to fit 20 samples in the measurement time.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    // Each case with decoding (the default) and without, to show what decoding costs.
    let plain_matcher = Matcher::new(&rules).decoding(0);
    let mut plain_scratch = plain_matcher.scratch();
    for (name, buf) in [
        ("no_keywords", &plain),
        ("near_misses", &near),
        ("dense_credentials", &dense),
        ("encoded_credentials", &encoded),
    ] {
        group.throughput(Throughput::Bytes(buf.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                matcher.find(&mut scratch, black_box(buf), 0..buf.len(), &mut out);
                black_box(out.len())
            })
        });
        group.bench_function(format!("{name}_no_decoding"), |b| {
            b.iter(|| {
                out.clear();
                plain_matcher.find(&mut plain_scratch, black_box(buf), 0..buf.len(), &mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_matcher);
criterion_main!(benches);
