//! The cheapest stage: one Aho-Corasick pass over a buffer for every enabled rule's keywords.
//!
//! Keywords are matched in their lower, UPPER and Title case spellings (plus the spelling the
//! rule wrote) rather than with an ASCII case-insensitive automaton: the explicit variants keep
//! the automaton small enough for the SIMD literal search, which is several times faster, and
//! they cover the snake_case, SCREAMING_CASE and camelCase names that keys appear under.

use aho_corasick::{AhoCorasick, MatchKind};

/// Finds keyword hits and says which rules each hit concerns.
pub struct Prefilter {
    automaton: AhoCorasick,
    /// Pattern index → indices (into the rule set) of the rules that own the keyword.
    owners: Vec<Vec<u32>>,
}

/// The case spellings of a keyword that the prefilter looks for.
pub fn spellings(keyword: &str) -> Vec<String> {
    let lower = keyword.to_ascii_lowercase();
    let upper = keyword.to_ascii_uppercase();
    let mut title = lower.clone();
    if let Some(first) = title.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    let mut all = vec![keyword.to_string(), lower, upper, title];
    all.sort();
    all.dedup();
    all
}

impl Prefilter {
    /// Builds the automaton over `(rule index, keywords, exact keywords)` triples.
    pub fn new<'a>(
        rules: impl IntoIterator<Item = (u32, &'a [String], &'a [String])>,
    ) -> Prefilter {
        let mut patterns: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<u32>> = Vec::new();
        for (rule, keywords, exact) in rules {
            let all = keywords
                .iter()
                .flat_map(|k| spellings(k))
                .chain(exact.iter().cloned());
            {
                for spelling in all {
                    match patterns.iter().position(|p| *p == spelling) {
                        Some(i) if owners[i].contains(&rule) => {}
                        Some(i) => owners[i].push(rule),
                        None => {
                            patterns.push(spelling);
                            owners.push(vec![rule]);
                        }
                    }
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&patterns)
            .expect("keyword automaton within size limits");
        Prefilter { automaton, owners }
    }

    /// Calls `hit(start, end, rules)` for each keyword occurrence, in order of position.
    #[inline]
    pub fn for_each_hit(&self, haystack: &[u8], mut hit: impl FnMut(usize, usize, &[u32])) {
        for m in self.automaton.find_iter(haystack) {
            hit(m.start(), m.end(), &self.owners[m.pattern().as_usize()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_cover_common_cases() {
        assert_eq!(spellings("secret"), ["SECRET", "Secret", "secret"]);
        assert_eq!(spellings("AKIA"), ["AKIA", "Akia", "akia"]);
        assert_eq!(
            spellings("IQoJb3"),
            ["IQOJB3", "IQoJb3", "Iqojb3", "iqojb3"]
        );
    }

    #[test]
    fn shared_keywords_report_every_owner() {
        let kw_a = vec!["secret".to_string()];
        let kw_b = vec!["SECRET".to_string(), "akia".to_string()];
        let exact_b = vec!["ABSK".to_string()];
        let pf = Prefilter::new([
            (0, kw_a.as_slice(), &[][..]),
            (1, kw_b.as_slice(), exact_b.as_slice()),
        ]);
        let mut hits = Vec::new();
        pf.for_each_hit(b"x Secret AKIA absk ABSK", |s, e, r| {
            hits.push((s, e, r.to_vec()))
        });
        assert_eq!(
            hits,
            vec![(2, 8, vec![0, 1]), (9, 13, vec![1]), (19, 23, vec![1])]
        );
    }
}
