//! Text from the scanned input or from user rules, made inert in a page.
//!
//! Paths, snippets, author names, rule names and repository names are chosen by whoever wrote
//! the scanned files or the rules, so none of it may be read as markup: [`Text`] shows control
//! characters as escapes (as every format does, see [`sanitize`]) and turns each character HTML
//! gives a meaning to into a character reference. The same escaping serves text between tags and
//! attribute values in double quotes.

use std::fmt;

use crate::report::sanitize;

/// Text that displays as HTML-escaped text (for an element's content or a quoted attribute).
pub struct Text<'a>(pub &'a str);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clean = sanitize(self.0);
        let mut rest = clean.as_str();
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// Shortens `text` to at most `max` characters, ending with `…` when cut (for chart labels,
/// whose full text is in their table and tooltip).
pub fn shortened(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(raw: &str) -> String {
        Text(raw).to_string()
    }

    #[test]
    fn markup_in_text_becomes_character_references() {
        assert_eq!(
            escaped("<img src=x onerror=alert(1)>.env"),
            "&lt;img src=x onerror=alert(1)&gt;.env"
        );
        assert_eq!(
            escaped("</script><script>alert(1)</script>"),
            "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escaped(r#"a" onmouseover="x' &amp; y"#),
            "a&quot; onmouseover=&quot;x&#39; &amp;amp; y"
        );
        assert_eq!(escaped("plain/path.env"), "plain/path.env");
        assert_eq!(escaped(""), "");
    }

    #[test]
    fn control_characters_are_shown_as_escapes() {
        assert_eq!(escaped("a\nb\x1b[31m\u{2028}"), "a\\x0ab\\x1b[31m\u{2028}");
        assert_eq!(escaped("tab\there"), "tab\there");
    }

    #[test]
    fn no_escaped_text_can_open_or_close_a_tag_or_attribute() {
        for hostile in [
            "<img src=x onerror=alert(1)>.env",
            "\"><svg onload=alert(1)>",
            "' autofocus onfocus='alert(1)",
            "</textarea></title></style></script>",
            "<!--",
            "&lt;already&gt;",
        ] {
            let out = escaped(hostile);
            assert!(!out.contains(['<', '>', '"', '\'']), "{out}");
            assert!(
                out.match_indices('&').all(|(at, _)| {
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"]
                        .iter()
                        .any(|entity| out[at..].starts_with(entity))
                }),
                "{out}"
            );
        }
    }

    #[test]
    fn shortened_labels_end_with_an_ellipsis() {
        assert_eq!(shortened("short", 10), "short");
        assert_eq!(shortened("exactly-10", 10), "exactly-10");
        assert_eq!(shortened("a-much-longer-label", 10), "a-much-lo…");
        assert_eq!(shortened("ééééééé", 4), "ééé…");
    }
}
