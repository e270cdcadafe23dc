//! The cheapest stage: one Aho-Corasick pass over a buffer for every enabled rule's keywords.
//!
//! Keywords are matched in their lower, UPPER and Title case spellings (plus the spelling the
//! rule wrote) rather than with an ASCII case-insensitive automaton: the explicit variants keep
//! the automaton small enough for the SIMD literal search, which is several times faster, and
//! they cover the snake_case, SCREAMING_CASE and camelCase names that keys appear under.

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};

/// Finds keyword hits and says which rules each hit concerns.
///
/// Every position where some keyword starts is reported, with every rule that has a keyword
/// there (twice, when a keyword searched for apart starts there too): keywords of different
/// rules may overlap (`api` and `api_org_`, `key` inside `secret_key`), and one rule's keyword
/// must never hide another's.
pub struct Prefilter {
    /// Keywords in their [`spellings`], and exact keywords.
    spelled: Searcher,
    /// Keywords of rules that match them in any ASCII case (rules imported from gitleaks,
    /// which lowercases text and keywords alike); a second pass, only when such rules exist.
    folded: Option<Searcher>,
}

/// One automaton and who owns its patterns.
struct Searcher {
    automaton: AhoCorasick,
    /// Pattern index → indices (into the rule set) of the rules that own the keyword, or a
    /// keyword that is a prefix of it (the automaton reports the longest at each position).
    owners: Vec<Vec<u32>>,
    /// A lone keyword shorter than [`FINGERPRINT`], searched for on its own.
    short: Option<ShortKeyword>,
}

/// How many leading bytes of each keyword the SIMD search tests at once, when every keyword
/// has that many. One shorter keyword makes it test fewer bytes of all of them, which lets
/// through far more false candidates: `A3T` cost a third more search time on the planted
/// corpus than a separate search for it does. Several short keywords stay in the automaton,
/// where one search is cheaper than one each.
const FINGERPRINT: usize = 4;

/// The most literals the SIMD search of the keyword automaton takes (its wide variant's limit).
const SIMD_LITERALS: usize = 64;

/// A keyword searched for apart from the automaton (see [`FINGERPRINT`]).
struct ShortKeyword {
    finder: memchr::memmem::Finder<'static>,
    owners: Vec<u32>,
}

impl ShortKeyword {
    /// Where the keyword next starts, at or after `from`.
    fn find(&self, haystack: &[u8], from: usize) -> Option<usize> {
        let rest = haystack.get(from..)?;
        self.finder.find(rest).map(|i| from + i)
    }

    /// Reports the keyword's hits from `next` on that start before `end`, leaving in `next`
    /// the first one that does not.
    fn report_before(
        &self,
        haystack: &[u8],
        end: usize,
        next: &mut Option<usize>,
        hit: &mut impl FnMut(usize, usize, &[u32]),
    ) {
        while let Some(start) = next.filter(|&start| start < end) {
            hit(start, start + self.finder.needle().len(), &self.owners);
            *next = self.find(haystack, start + 1);
        }
    }
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

/// The keywords of one rule, as the prefilter takes them.
pub struct RuleKeywords<'a> {
    /// Index of the rule in the rule set (or a pseudo-rule such as the decode trigger).
    pub rule: u32,
    /// Matched in their [`spellings`], or in any case with `any_case`.
    pub keywords: &'a [String],
    /// Matched exactly as written.
    pub exact: &'a [String],
    pub any_case: bool,
}

impl Prefilter {
    /// Builds the automata over every rule's keywords.
    pub fn new<'a>(rules: impl IntoIterator<Item = RuleKeywords<'a>>) -> Prefilter {
        let mut spelled: Vec<(String, u32)> = Vec::new();
        let mut folded: Vec<(String, u32)> = Vec::new();
        for rule in rules {
            let exact = rule.exact.iter().map(|k| (k.clone(), rule.rule));
            if rule.any_case {
                folded.extend(
                    rule.keywords
                        .iter()
                        .map(|k| (k.to_ascii_lowercase(), rule.rule)),
                );
                spelled.extend(exact);
            } else {
                spelled.extend(
                    rule.keywords
                        .iter()
                        .flat_map(|k| spellings(k))
                        .map(|k| (k, rule.rule)),
                );
                spelled.extend(exact);
            }
        }
        Prefilter {
            spelled: Searcher::new(spelled, false),
            folded: (!folded.is_empty()).then(|| Searcher::new(folded, true)),
        }
    }

    /// Whether the search is one pass of the SIMD literal searcher (a few dozen keywords at
    /// most, none folded), which runs near memory speed.
    pub fn is_literal_search(&self) -> bool {
        self.folded.is_none() && self.spelled.automaton.patterns_len() <= SIMD_LITERALS
    }

    /// Calls `hit(start, end, rules)` for each position where a keyword starts, in order of
    /// position within each pass (a rule's hits come from one pass, so they are in order).
    #[inline]
    pub fn for_each_hit(&self, haystack: &[u8], mut hit: impl FnMut(usize, usize, &[u32])) {
        self.spelled.for_each_hit(haystack, &mut hit);
        if let Some(folded) = &self.folded {
            folded.for_each_hit(haystack, &mut hit);
        }
    }
}

impl Searcher {
    fn new(keywords: Vec<(String, u32)>, any_case: bool) -> Searcher {
        let mut patterns: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<u32>> = Vec::new();
        for (keyword, rule) in keywords {
            match patterns.iter().position(|p| *p == keyword) {
                Some(i) if owners[i].contains(&rule) => {}
                Some(i) => owners[i].push(rule),
                None => {
                    patterns.push(keyword);
                    owners.push(vec![rule]);
                }
            }
        }
        let short_ones: Vec<usize> = (0..patterns.len())
            .filter(|&i| patterns[i].len() < FINGERPRINT)
            .collect();
        let short = match short_ones[..] {
            [i] if !any_case => {
                let keyword = patterns.remove(i);
                Some(ShortKeyword {
                    finder: memchr::memmem::Finder::new(keyword.as_bytes()).into_owned(),
                    owners: owners.remove(i),
                })
            }
            _ => None,
        };
        // The automaton reports the longest keyword at a position; the rules of the shorter
        // keywords that start there too are its owners as well.
        let direct = owners.clone();
        for (i, pattern) in patterns.iter().enumerate() {
            for (j, prefix) in patterns.iter().enumerate() {
                let is_prefix = i != j
                    && prefix.len() < pattern.len()
                    && pattern.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
                    && (any_case || pattern.starts_with(prefix.as_str()));
                if is_prefix {
                    for &rule in &direct[j] {
                        if !owners[i].contains(&rule) {
                            owners[i].push(rule);
                        }
                    }
                }
            }
        }
        // A DFA, whatever the number of keywords: with hundreds of them (gitleaks' rules) the
        // builder would pick a contiguous NFA, whose search of keyword-dense text ran at 157
        // MB/s on the planted corpus against the DFA's 522 MB/s. A DFA of that size takes about
        // a megabyte and a millisecond to build.
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .ascii_case_insensitive(any_case)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .expect("keyword automaton within size limits");
        Searcher {
            automaton,
            owners,
            short,
        }
    }

    #[inline]
    fn for_each_hit(&self, haystack: &[u8], hit: &mut impl FnMut(usize, usize, &[u32])) {
        // The short keyword's hits are merged in, in order of position.
        let mut short_next = self.short.as_ref().and_then(|s| s.find(haystack, 0));
        let mut at = 0;
        // Each search starts one byte after the last hit's start, not at its end, so a keyword
        // that starts inside another is found too.
        while let Some(m) = self.automaton.find(Input::new(haystack).range(at..)) {
            if let Some(short) = &self.short {
                short.report_before(haystack, m.start(), &mut short_next, hit);
            }
            hit(m.start(), m.end(), &self.owners[m.pattern().as_usize()]);
            at = m.start() + 1;
        }
        if let Some(short) = &self.short {
            short.report_before(haystack, usize::MAX, &mut short_next, hit);
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
            RuleKeywords {
                rule: 0,
                keywords: kw_a.as_slice(),
                exact: &[],
                any_case: false,
            },
            RuleKeywords {
                rule: 1,
                keywords: kw_b.as_slice(),
                exact: exact_b.as_slice(),
                any_case: false,
            },
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

    fn rule<'a>(rule: u32, keywords: &'a [String], any_case: bool) -> RuleKeywords<'a> {
        RuleKeywords {
            rule,
            keywords,
            exact: &[],
            any_case,
        }
    }

    fn hits(pf: &Prefilter, text: &str) -> Vec<(usize, Vec<u32>)> {
        let mut hits = Vec::new();
        pf.for_each_hit(text.as_bytes(), |s, _, r| {
            let mut r = r.to_vec();
            r.sort();
            hits.push((s, r))
        });
        hits
    }

    #[test]
    fn overlapping_keywords_of_different_rules_are_all_reported() {
        let api = vec!["api".to_string()];
        let api_org = vec!["api_org_".to_string()];
        let key = vec!["key".to_string()];
        let secret_key = vec!["secret_key".to_string()];
        for any_case in [false, true] {
            let pf = Prefilter::new([
                rule(0, &api, any_case),
                rule(1, &api_org, any_case),
                rule(2, &key, any_case),
                rule(3, &secret_key, any_case),
            ]);
            // `api` starts where `api_org_` does; `key` starts inside `secret_key`.
            assert_eq!(
                hits(&pf, "x api_org_1 secret_key=2"),
                vec![(2, vec![0, 1]), (12, vec![3]), (19, vec![2])],
                "any_case {any_case}"
            );
        }
    }

    #[test]
    fn a_lone_short_keyword_is_searched_apart_and_its_hits_come_in_order() {
        let short = vec!["A3".to_string()];
        let long = vec!["A3TX".to_string(), "AKIA".to_string()];
        let pf = Prefilter::new([
            RuleKeywords {
                rule: 0,
                keywords: &[],
                exact: short.as_slice(),
                any_case: false,
            },
            RuleKeywords {
                rule: 1,
                keywords: &[],
                exact: long.as_slice(),
                any_case: false,
            },
        ]);
        assert!(pf.spelled.short.is_some());
        // At 2 both start (each reported with its own rules, the automaton's first);
        // overlapping repeats of the short keyword are each found; hits come before, between
        // and after the automaton's.
        assert_eq!(
            hits(&pf, "A3A3TX AKIA A3 A3A3"),
            vec![
                (0, vec![0]),
                (2, vec![1]),
                (2, vec![0]),
                (7, vec![1]),
                (12, vec![0]),
                (15, vec![0]),
                (17, vec![0]),
            ]
        );
        assert_eq!(hits(&pf, "none here"), vec![]);
        // Two short keywords stay in the automaton.
        let two = vec!["A3".to_string(), "B7".to_string()];
        let pf = Prefilter::new([RuleKeywords {
            rule: 0,
            keywords: &[],
            exact: two.as_slice(),
            any_case: false,
        }]);
        assert!(pf.spelled.short.is_none());
        assert_eq!(hits(&pf, "B7 A3"), vec![(0, vec![0]), (3, vec![0])]);
    }

    #[test]
    fn any_case_keywords_match_every_casing_and_others_only_their_spellings() {
        let aiza = vec!["aiza".to_string()];
        let pf = Prefilter::new([rule(0, &aiza, true), rule(1, &aiza, false)]);
        assert_eq!(hits(&pf, "AIza"), vec![(0, vec![0])]);
        assert_eq!(hits(&pf, "Aiza"), vec![(0, vec![1]), (0, vec![0])]);
    }
}
