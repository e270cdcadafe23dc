//! Checks on a captured secret that a regex cannot express: token boundaries, Shannon entropy
//! and the mix of character classes. Each runs only on a candidate the regex already found.

use crate::rules::ByteSet;

/// Whether the bytes right before and after `secret` (if any) are outside the boundary set,
/// i.e. the secret is not part of a longer token.
#[inline]
pub fn at_token_boundary(buf: &[u8], start: usize, end: usize, boundary: &ByteSet) -> bool {
    let before_ok = start == 0 || !boundary.contains(buf[start - 1]);
    let after_ok = end >= buf.len() || !boundary.contains(buf[end]);
    before_ok && after_ok
}

/// Whether the candidate at `start` begins inside a percent escape, `%2B` cut after its `%`:
/// then it is a slice of a percent-encoded token (a presigned URL's signature or token, an
/// SQS receipt handle), and what the token holds is found in its decoding.
#[inline]
pub fn starts_inside_percent_escape(buf: &[u8], start: usize) -> bool {
    start > 0
        && buf[start - 1] == b'%'
        && buf
            .get(start..start + 2)
            .is_some_and(|digits| digits.iter().all(u8::is_ascii_hexdigit))
}

/// Shannon entropy of the secret in bits per byte.
#[inline]
pub fn entropy(secret: &[u8]) -> f32 {
    entropy::shannon_entropy(secret)
}

/// How many of the classes upper case, lower case, digit and other the secret contains.
#[inline]
pub fn char_classes(secret: &[u8]) -> u8 {
    let (mut upper, mut lower, mut digit, mut other) = (false, false, false, false);
    for &b in secret {
        match b {
            b'A'..=b'Z' => upper = true,
            b'a'..=b'z' => lower = true,
            b'0'..=b'9' => digit = true,
            _ => other = true,
        }
    }
    upper as u8 + lower as u8 + digit as u8 + other as u8
}

/// Longest run of one repeated character, or of consecutive characters (`ABCDEF`, `234567`,
/// `fedcba`), that a random key plausibly holds; a longer run marks a placeholder. For a random
/// 16-character base32 tail a run of 6 has odds of about 1 in 3 million.
const MAX_RUN: usize = 5;

/// How many `X`s (or `x`s) at the end mark a masked value, `AKIAQYLPMN5HHHFPXXXX`: a random key
/// ID ends so about once in a million, a random secret once in eight million.
const MASK_RUN: usize = 4;

/// Whether `secret` holds a run of more than [`MAX_RUN`] repeated or consecutive characters,
/// or ends masked by [`MASK_RUN`] `X`s.
pub fn looks_like_placeholder(secret: &[u8]) -> bool {
    let masked = |x: u8| {
        secret.len() > MASK_RUN && secret[secret.len() - MASK_RUN..].iter().all(|&b| b == x)
    };
    if masked(b'X') || masked(b'x') {
        return true;
    }
    let (mut repeated, mut ascending, mut descending) = (1, 1, 1);
    for pair in secret.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        repeated = if a == b { repeated + 1 } else { 1 };
        ascending = if b.wrapping_sub(a) == 1 {
            ascending + 1
        } else {
            1
        };
        descending = if a.wrapping_sub(b) == 1 {
            descending + 1
        } else {
            1
        };
        if repeated > MAX_RUN || ascending > MAX_RUN || descending > MAX_RUN {
            return true;
        }
    }
    false
}

/// Whether `secret` is a slice of a URL or file path rather than random base64: three or more
/// segments between slashes, every one of letters alone, at least two of them lower-case words
/// (`com/AmazonECS/latest/developerguide/task`). A random 40-character base64 secret has that
/// shape about once in a billion.
pub fn looks_like_path(secret: &[u8]) -> bool {
    let segments: Vec<&[u8]> = secret
        .split(|&b| b == b'/')
        .filter(|s| !s.is_empty())
        .collect();
    let words = segments
        .iter()
        .filter(|s| s.len() >= 3 && s.iter().all(u8::is_ascii_lowercase))
        .count();
    segments.len() >= 3
        && words >= 2
        && segments
            .iter()
            .all(|s| s.len() >= 2 && s.iter().all(u8::is_ascii_alphabetic))
}

/// Whether a long base64 `secret` is a DER structure, such as an X.509 certificate or a key:
/// base64 of a DER SEQUENCE with a two-byte length starts `MII`. No session token does (theirs
/// start with their own version bytes: `IQoJ`, `FwoG`, `AQoD`), and only values of 100
/// characters or more are judged: a 40-character secret starts `MII` once in 262,144.
pub fn looks_like_der(secret: &[u8]) -> bool {
    secret.len() >= 100 && secret.starts_with(b"MII")
}

/// How much more likely each letter trigram is in identifier words than in random letters, in
/// tenths of a nat: index `((a * 26) + b) * 26 + c`, with `a` = 26 for the start of a word.
/// Made by `scripts/identifier_trigrams.py` from English prose and code (its docstring says
/// which); a trigram it never saw after its first two letters scores 0.
static TRIGRAMS: &[u8; 27 * 26 * 26] = include_bytes!("trigrams.bin");

/// The start-of-word code of [`TRIGRAMS`].
const WORD_START: usize = 26;

/// Evidence of identifier words, in tenths of a nat per character, at or above which a
/// candidate is judged code. Of 50 million random base64 candidates of 40 characters none
/// scored that much (about one in a million scores 0.3); symbol names such as Swift's mangled
/// `15AWSSDKSwiftCore9AWSClientC11accessKeyId` score 0.45 and more. Longer candidates
/// (session tokens) average out, so random ones stay further below.
const CODE_EVIDENCE_PER_BYTE: i32 = 4;

/// Whether `secret` reads as identifier words rather than random base64: symbol names, mangled
/// names and paths in generated documentation and search indexes (Sphinx's `searchindex.js`,
/// Jazzy's `search.json`), `s:15AWSSDKSwiftCore9AWSClientC11accessKeyId…` or
/// `V4Signer/credentials/secretAccessKeyProvider`.
///
/// Each word (three or more lower-case letters, with the capital before them) is scored by
/// how much likelier its letter trigrams are in words than in random letters; the words that
/// score above nothing add up, and a candidate whose words carry enough evidence for its
/// length is code. A key's random base64 forms short words of unlikely letters.
pub fn looks_like_code(secret: &[u8]) -> bool {
    let mut evidence = 0i32;
    let mut i = 0;
    while i < secret.len() {
        if !secret[i].is_ascii_lowercase() {
            i += 1;
            continue;
        }
        let run = i;
        while i < secret.len() && secret[i].is_ascii_lowercase() {
            i += 1;
        }
        if i - run < 3 {
            continue;
        }
        let start = if run > 0 && secret[run - 1].is_ascii_uppercase() {
            run - 1
        } else {
            run
        };
        evidence += word_evidence(&secret[start..i]).max(0);
    }
    evidence >= CODE_EVIDENCE_PER_BYTE * secret.len() as i32
}

/// The sum of [`TRIGRAMS`] over `word`'s trigrams, its first letters after a word start.
fn word_evidence(word: &[u8]) -> i32 {
    let code = |b: u8| usize::from(b.to_ascii_lowercase() - b'a');
    let mut previous = (WORD_START, code(word[0]));
    let mut sum = 0;
    for &b in &word[1..] {
        let c = code(b);
        sum += i32::from(TRIGRAMS[(previous.0 * 26 + previous.1) * 26 + c] as i8);
        previous = (previous.1, c);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_rejects_longer_tokens() {
        let set = ByteSet::for_test("[A-Za-z0-9]");
        let buf = b"xAKIAQ 'AKIAQ'";
        assert!(!at_token_boundary(buf, 1, 6, &set));
        assert!(at_token_boundary(buf, 8, 13, &set));
        assert!(at_token_boundary(b"AKIAQ", 0, 5, &set));
    }

    #[test]
    fn a_candidate_cut_from_a_percent_escape_is_inside_it() {
        let buf = b"Token=MbZj%2BQm9kX2vT7Lp4Rz8Yw1Nc6Hd3Jf5Gs0BaEuVtIo%2F9C6";
        assert!(starts_inside_percent_escape(buf, 11));
        assert!(!starts_inside_percent_escape(buf, 6));
        assert!(!starts_inside_percent_escape(b"100% Qm9", 5));
        assert!(!starts_inside_percent_escape(b"%zz", 1));
        assert!(!starts_inside_percent_escape(b"%2", 1));
    }

    #[test]
    fn slices_of_paths_and_urls_are_not_random() {
        for path in [
            &b"com/AmazonECS/latest/developerguide/task"[..],
            b"amazon/aws/services/lambda/runtime/handl",
            b"usr/share/doc/awscli/examples/ssm/params",
        ] {
            assert_eq!(path.len(), 40, "{}", String::from_utf8_lossy(path));
            assert!(looks_like_path(path), "{}", String::from_utf8_lossy(path));
        }
        for secret in [
            &b"r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD"[..],
            b"Kq3v/Xw9Zt2LmN8pR4sYb7HcJ6dF1gA5eUoQiWxT",
            // Slashes and letters alone, but no lower-case words: random, not a path.
            b"KqJvXwZtaLmNbpRcsYbdHcJedFfgAheUoQiW/xTz",
            b"QkZr/MbWqTyPx/LnVcHgFd/JsKaWeRtYuIo/PlMn",
        ] {
            assert!(
                !looks_like_path(secret),
                "{}",
                String::from_utf8_lossy(secret)
            );
        }
    }

    #[test]
    fn base64_certificates_are_not_tokens() {
        let certificate = format!(
            "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa{}",
            "A".repeat(80)
        );
        assert!(looks_like_der(certificate.as_bytes()));
        let token = format!(
            "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDm{}",
            "q".repeat(80)
        );
        assert!(!looks_like_der(token.as_bytes()));
        assert!(!looks_like_der(
            b"MIIr4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNk"
        ));
    }

    #[test]
    fn symbol_names_and_paths_of_generated_docs_are_code() {
        for symbol in [
            &b"15AWSSDKSwiftCore9AWSClientC11accessKeyId"[..],
            b"9AWSClientC11accessKeyId012secretAccessE0",
            b"V4Signer/credentials/secretAccessKeySSvp",
            b"AssumeRoleWithWebIdentityCredentialFetch",
            b"s3Transfer/S3Client/putObjectWithRequest",
            b"15AWSSDKSwiftCore9AWSClientC11accessKeyId012secretAccessE012sessionToken6region10partition7service8signingName10serviceProtocol",
            b"8SotoCore9AWSClientC18credentialProvider7options14httpClientAcAA012CredentialProviderFactoryV",
        ] {
            assert!(looks_like_code(symbol), "{}", String::from_utf8_lossy(symbol));
        }
    }

    #[test]
    fn random_base64_is_not_code() {
        // A fixed-seed generator of base64 text: random secrets and session tokens are judged
        // code about once in a million at most, so none of these may be.
        const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            BASE64[(state >> 58) as usize]
        };
        for len in [40, 100, 400] {
            for _ in 0..20_000 {
                let candidate: Vec<u8> = (0..len).map(|_| next()).collect();
                assert!(
                    !looks_like_code(&candidate),
                    "{}",
                    String::from_utf8_lossy(&candidate)
                );
            }
        }
        assert!(!looks_like_code(
            b"r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD"
        ));
    }

    #[test]
    fn runs_mark_placeholders() {
        for placeholder in [
            &b"AKIAABCDEFGHIJKLMNOP"[..],
            b"AKIAQYLPMN5HXXXXXXXX",
            b"AKIA234567QYLPMN5HHH",
            b"AKIAZYXWVUTQYLPMN5HH",
            b"r4ij3uscWHtkZTNzyh0IWx9p5s93q9f000000000",
            // Masked: the last characters replaced.
            b"AKIAQYLPMN5HHHFPXXXX",
            b"r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmxxxx",
        ] {
            assert!(
                looks_like_placeholder(placeholder),
                "{}",
                String::from_utf8_lossy(placeholder)
            );
        }
        for key in [
            &b"AKIAQYLPMN5HHHFPZAM2"[..],
            b"r4ij3uscWHtkZTNzyh0IWx9p5s93q9fQ4mzmNkWD",
            // Three Xs end a random key ID once in 32,768 draws.
            b"AKIAQYLPMN5HHHFPZXXX",
        ] {
            assert!(!looks_like_placeholder(key));
        }
    }

    #[test]
    fn hex_and_placeholders_have_few_classes_or_low_entropy() {
        assert_eq!(char_classes(b"8f2d3c4b5a6e7f8091a2b3c4d5e6f708192a3b4c"), 2);
        assert_eq!(char_classes(b"Qm9+kX2vT7Lp4Rz8Yw1Nc6Hd3Jf5Gs0Ba/EuVtIo"), 4);
        assert!(entropy(b"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX") < 0.1);
        assert!(entropy(b"Qm9+kX2vT7Lp4Rz8Yw1Nc6Hd3Jf5Gs0Ba/EuVtIo") > 4.5);
    }
}
