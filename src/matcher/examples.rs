//! Runs every rule's `examples` and `negative_examples` through the matcher, so a rule file that
//! no longer finds what it promises (or finds what it promised not to) is refused.

use super::{Matcher, RawMatch};
use crate::rules::RuleSet;

/// One example that did not behave as its rule says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    pub rule: String,
    pub origin: String,
    /// `true` for an `examples` entry that was not found, `false` for a
    /// `negative_examples` entry that was.
    pub expected_match: bool,
    pub example: String,
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.expected_match {
            "example is not matched"
        } else {
            "negative example is matched"
        };
        write!(
            f,
            "{}: rule `{}`: {what}: {:?}",
            self.origin, self.rule, self.example
        )
    }
}

/// Checks the examples of every rule in `rules`, disabled rules included.
pub fn check_examples(rules: &RuleSet) -> Vec<ExampleFailure> {
    let matcher = Matcher::with_every_rule(rules);
    let mut scratch = matcher.scratch();
    let mut found: Vec<RawMatch> = Vec::new();
    let mut failures = Vec::new();
    for (index, rule) in rules.all().iter().enumerate() {
        let cases = rule
            .examples
            .iter()
            .map(|e| (true, e))
            .chain(rule.negative_examples.iter().map(|e| (false, e)));
        for (expected_match, example) in cases {
            found.clear();
            matcher.find(
                &mut scratch,
                example.as_bytes(),
                0..example.len(),
                &mut found,
            );
            let matched = found.iter().any(|m| m.rule as usize == index);
            if matched != expected_match {
                failures.push(ExampleFailure {
                    rule: rule.id.clone(),
                    origin: rule.origin.clone(),
                    expected_match,
                    example: example.clone(),
                });
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rule_examples_hold() {
        let rules = RuleSet::builtin().unwrap();
        let failures = check_examples(&rules);
        assert!(failures.is_empty(), "{failures:#?}");
        for rule in rules.all() {
            assert!(
                !rule.examples.is_empty(),
                "rule {} has no examples",
                rule.id
            );
            assert!(
                !rule.negative_examples.is_empty(),
                "rule {} has no negative examples",
                rule.id
            );
        }
    }

    #[test]
    fn a_broken_example_is_reported_with_its_rule() {
        let mut rules = RuleSet::empty();
        rules
            .add_toml(
                r#"[[rules]]
id = "demo"
name = "Demo"
description = "d"
severity = "low"
keywords = ["tok_"]
pattern = 'tok_(?P<secret>[0-9]{4})'
remediation = "r"
examples = ["tok_1234", "tok_12"]
negative_examples = ["tok_abcd", "tok_9999"]
"#,
                "demo.toml",
            )
            .unwrap();
        let failures = check_examples(&rules);
        assert_eq!(failures.len(), 2);
        assert_eq!(failures[0].example, "tok_12");
        assert!(failures[0].expected_match);
        assert_eq!(failures[1].example, "tok_9999");
        assert!(failures[1]
            .to_string()
            .contains("demo.toml: rule `demo`: negative example is matched"));
    }
}
