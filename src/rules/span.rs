//! What a rule's regex says about its matches: how many line breaks one can hold, and whether
//! every one holds a keyword. Together they bound the lines around a keyword hit that the
//! regex must search: a match that holds its keyword and at most `n` line breaks lies within
//! `n` lines of that keyword.

use regex_syntax::hir::{Class, Hir, HirKind};

/// Line breaks counted past this are as good as unbounded.
const MANY: u32 = 1 << 16;

/// Sets of exact strings larger than this are not worked out.
const MAX_STRINGS: usize = 256;

/// The most line breaks a match of `hir` can hold; None when there is no bound.
pub fn max_line_breaks(hir: &Hir) -> Option<u32> {
    let breaks = match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => 0,
        HirKind::Literal(literal) => literal.0.iter().filter(|&&b| b == b'\n').count() as u32,
        HirKind::Class(class) => u32::from(class_has_line_break(class)),
        HirKind::Capture(capture) => max_line_breaks(&capture.sub)?,
        HirKind::Repetition(repetition) => {
            let each = max_line_breaks(&repetition.sub)?;
            match (each, repetition.max) {
                (0, _) => 0,
                (_, None) => return None,
                (each, Some(max)) => each.saturating_mul(max),
            }
        }
        HirKind::Concat(parts) => parts
            .iter()
            .map(max_line_breaks)
            .try_fold(0u32, |sum, part| part.map(|p| sum.saturating_add(p)))?,
        HirKind::Alternation(parts) => parts
            .iter()
            .map(max_line_breaks)
            .try_fold(0u32, |most, part| part.map(|p| most.max(p)))?,
    };
    (breaks < MANY).then_some(breaks)
}

fn class_has_line_break(class: &Class) -> bool {
    match class {
        Class::Bytes(class) => class
            .ranges()
            .iter()
            .any(|r| (r.start()..=r.end()).contains(&b'\n')),
        Class::Unicode(class) => class
            .ranges()
            .iter()
            .any(|r| (r.start()..=r.end()).contains(&'\n')),
    }
}

/// Whether every match of `hir` holds one of `keywords` (lower case), compared in any ASCII
/// case, as a prefilter that folds case finds them.
pub fn holds_a_keyword(hir: &Hir, keywords: &[String]) -> bool {
    if let Some(strings) = exact_strings(hir) {
        return contain_keywords(&strings, keywords);
    }
    match hir.kind() {
        HirKind::Capture(capture) => holds_a_keyword(&capture.sub, keywords),
        HirKind::Repetition(repetition) => {
            repetition.min > 0 && holds_a_keyword(&repetition.sub, keywords)
        }
        // A parser flattens `(?:key)` into the letters around it: runs of parts count too.
        HirKind::Concat(parts) => {
            parts.iter().any(|part| holds_a_keyword(part, keywords))
                || (0..parts.len()).any(|start| run_holds_a_keyword(&parts[start..], keywords))
        }
        HirKind::Alternation(parts) => parts.iter().all(|part| holds_a_keyword(part, keywords)),
        HirKind::Empty | HirKind::Look(_) | HirKind::Literal(_) | HirKind::Class(_) => false,
    }
}

/// Whether some run of `parts` from the first on has few exact strings that each hold a
/// keyword.
fn run_holds_a_keyword(parts: &[Hir], keywords: &[String]) -> bool {
    let mut run = vec![Vec::new()];
    for part in parts {
        let Some(next) = exact_strings(part).and_then(|tails| product(&run, &tails)) else {
            return false;
        };
        run = next;
        if contain_keywords(&run, keywords) {
            return true;
        }
    }
    false
}

/// Whether each of `strings` holds one of `keywords`.
fn contain_keywords(strings: &[Vec<u8>], keywords: &[String]) -> bool {
    !strings.is_empty()
        && strings.iter().all(|s| {
            keywords
                .iter()
                .any(|k| !k.is_empty() && memchr::memmem::find(s, k.as_bytes()).is_some())
        })
}

/// Every string `hir` matches, in lower case, when they are few.
fn exact_strings(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let strings = match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => vec![Vec::new()],
        HirKind::Literal(literal) => vec![literal.0.to_ascii_lowercase()],
        HirKind::Class(class) => {
            let mut bytes: Vec<u8> = match class {
                Class::Bytes(class) => class
                    .ranges()
                    .iter()
                    .flat_map(|r| r.start()..=r.end())
                    .take(MAX_STRINGS + 1)
                    .collect(),
                Class::Unicode(class) => class
                    .ranges()
                    .iter()
                    .flat_map(|r| r.start()..=r.end())
                    .take(MAX_STRINGS + 1)
                    .map(|c| u8::try_from(c).ok())
                    .collect::<Option<_>>()?,
            };
            bytes.iter_mut().for_each(|b| *b = b.to_ascii_lowercase());
            bytes.sort_unstable();
            bytes.dedup();
            bytes.into_iter().map(|b| vec![b]).collect()
        }
        HirKind::Capture(capture) => exact_strings(&capture.sub)?,
        HirKind::Repetition(repetition) => {
            let max = repetition.max?;
            if max > 4 {
                return None;
            }
            let each = exact_strings(&repetition.sub)?;
            let mut all = Vec::new();
            let mut power = vec![Vec::new()];
            for count in 0..=max {
                if count >= repetition.min {
                    all.extend(power.iter().cloned());
                }
                power = product(&power, &each)?;
            }
            all
        }
        HirKind::Concat(parts) => {
            let mut all = vec![Vec::new()];
            for part in parts {
                all = product(&all, &exact_strings(part)?)?;
            }
            all
        }
        HirKind::Alternation(parts) => {
            let mut all = Vec::new();
            for part in parts {
                all.extend(exact_strings(part)?);
            }
            all
        }
    };
    (strings.len() <= MAX_STRINGS).then_some(strings)
}

/// Each of `heads` followed by each of `tails`, when that is few.
fn product(heads: &[Vec<u8>], tails: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if heads.len().saturating_mul(tails.len()) > MAX_STRINGS {
        return None;
    }
    Some(
        heads
            .iter()
            .flat_map(|h| tails.iter().map(move |t| [h.as_slice(), t].concat()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hir(pattern: &str) -> Hir {
        regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .unwrap()
    }

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn line_breaks_are_counted_through_repetitions() {
        assert_eq!(max_line_breaks(&hir(r"key\s*=\s*\w+")), None);
        assert_eq!(
            max_line_breaks(&hir(r"key[\s'\x22]{0,3}=[\s]{0,5}\w+")),
            Some(8)
        );
        assert_eq!(max_line_breaks(&hir(r"a|b\nc\n")), Some(2));
        assert_eq!(max_line_breaks(&hir(r"[^\n]{0,100}")), Some(0));
        assert_eq!(max_line_breaks(&hir(r"(?s:.{0,3})")), Some(3));
    }

    #[test]
    fn a_keyword_is_held_when_every_alternative_holds_one() {
        let keywords = words(&["access", "key", "passwd", "password", "token"]);
        let generic = r"[\w.-]{0,50}?(?i:access|(?-i:[Kk]ey|KEY)|passw(?:or)?d|token)[\s'\x22]{0,3}=(\w{10,})";
        assert!(holds_a_keyword(&hir(generic), &keywords));
        // one alternative without a keyword: a match may hold none
        let loose = r"[\w.-]{0,50}?(?i:access|secret|token)\s*=(\w{10,})";
        assert!(!holds_a_keyword(&hir(loose), &keywords));
        // an optional keyword is not held
        assert!(!holds_a_keyword(&hir(r"(?:token)?\w{20}"), &keywords));
        assert!(holds_a_keyword(&hir(r"(?:token)+\w{20}"), &keywords));
        assert!(holds_a_keyword(
            &hir(r"(?i)-----BEGIN[ A-Z]{0,9}KEY-----"),
            &words(&["-----begin"])
        ));
        // `(?:adafruit)` is flattened into the letters around it
        let flattened = r"(?i)[\w.-]{0,50}?(?:adafruit)(?:[ \t\w.-]{0,20})[\s'\x22]{0,3}=(\w{32})";
        assert!(holds_a_keyword(&hir(flattened), &words(&["adafruit"])));
    }
}
