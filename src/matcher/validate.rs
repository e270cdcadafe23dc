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

/// Whether `secret` holds a run of more than [`MAX_RUN`] repeated or consecutive characters.
pub fn looks_like_placeholder(secret: &[u8]) -> bool {
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
    fn runs_mark_placeholders() {
        for placeholder in [
            &b"AKIAABCDEFGHIJKLMNOP"[..],
            b"AKIAQYLPMN5HXXXXXXXX",
            b"AKIA234567QYLPMN5HHH",
            b"AKIAZYXWVUTQYLPMN5HH",
            b"r4ij3uscWHtkZTNzyh0IWx9p5s93q9f000000000",
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
