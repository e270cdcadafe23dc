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
    fn hex_and_placeholders_have_few_classes_or_low_entropy() {
        assert_eq!(char_classes(b"8f2d3c4b5a6e7f8091a2b3c4d5e6f708192a3b4c"), 2);
        assert_eq!(char_classes(b"Qm9+kX2vT7Lp4Rz8Yw1Nc6Hd3Jf5Gs0Ba/EuVtIo"), 4);
        assert!(entropy(b"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX") < 0.1);
        assert!(entropy(b"Qm9+kX2vT7Lp4Rz8Yw1Nc6Hd3Jf5Gs0Ba/EuVtIo") > 4.5);
    }
}
