//! String literals split across lines or concatenations, joined back into one value:
//! `"wJal" +` / `"rXUt…"` (C family, Java, JavaScript, Go), `'ab' 'cd'` (Python and C implicit
//! concatenation), `"ab" . "cd"` (PHP, Perl), `abc\` + line break (shell, Python and YAML
//! double-quoted line continuations), and runs of key characters on the lines of a YAML block
//! scalar (`secret: >-` then indented lines).
//!
//! A separator decodes to nothing: the view holds the pieces side by side.

use super::{Decoded, Encoding};

/// Most whitespace a separator may hold, so a quote never looks far ahead.
const MAX_GAP: usize = 256;

/// `\` and a line break: the line continues on the next, whose indentation is dropped.
pub fn continuation(text: &[u8], i: usize) -> Decoded {
    let mut j = i + 1;
    if text.get(j) == Some(&b'\r') {
        j += 1;
    }
    if text.get(j) != Some(&b'\n') {
        return None;
    }
    j += 1;
    j += indentation(&text[j..]);
    Some((j - i, Encoding::Split))
}

/// A closing quote, then a concatenation (`+`, `.`, `..`, `&`, `||`, or nothing but
/// whitespace) and an opening quote of the same kind: `" + "`, `"\n    "`, `' \` + line break + `'`.
pub fn separator(text: &[u8], i: usize) -> Decoded {
    let quote = text[i];
    // A closing quote ends a literal: the byte before it is the literal's content.
    if i == 0
        || matches!(
            text[i - 1],
            b' ' | b'\t' | b'\n' | b'=' | b':' | b'(' | b','
        )
    {
        return None;
    }
    let end = text.len().min(i + 1 + MAX_GAP);
    let mut j = i + 1;
    let mut operator = false;
    while j < end {
        match text[j] {
            b' ' | b'\t' | b'\r' | b'\n' => j += 1,
            b'\\' if matches!(text.get(j + 1), Some(b'\n' | b'\r')) => j += 1,
            b'+' | b'.' | b'&' | b'|' if !operator => {
                operator = true;
                // `..` and `||` are one operator.
                if text.get(j + 1) == Some(&text[j]) && matches!(text[j], b'.' | b'|') {
                    j += 1;
                }
                j += 1;
            }
            b if b == quote => return Some((j + 1 - i, Encoding::Split)),
            _ => return None,
        }
    }
    None
}

/// Whether a separator or a line continuation starts at `text[i]` (a split literal continues).
pub fn follows(text: &[u8], i: usize) -> bool {
    match text.get(i) {
        Some(b'"' | b'\'') => separator(text, i).is_some(),
        Some(b'\\') => continuation(text, i).is_some(),
        _ => false,
    }
}

/// Tracks YAML block scalars across the line breaks of one region.
#[derive(Debug, Default)]
pub struct YamlBlocks {
    /// Indentation of the line that opened the block scalar we are in.
    opener: Option<usize>,
}

impl YamlBlocks {
    /// At the line break at `text[i]`: inside a block scalar, joins the next line to this one
    /// when both hold only key characters.
    pub fn join(&mut self, text: &[u8], i: usize) -> Decoded {
        let crlf = text[i] == b'\r';
        if crlf && text.get(i + 1) != Some(&b'\n') || !crlf && i > 0 && text[i - 1] == b'\r' {
            return None;
        }
        let line_start = memchr::memrchr(b'\n', &text[..i]).map_or(0, |p| p + 1);
        let line = &text[line_start..i];
        let indent = indentation(line);
        let content = &line[indent..];
        if opens_block(content) {
            self.opener = Some(indent);
            return None;
        }
        let opener = self.opener?;
        if indent <= opener && !content.is_empty() {
            self.opener = None;
            return None;
        }
        let next = i + if crlf { 2 } else { 1 };
        let next_indent = indentation(&text[next..]);
        let next_end = memchr::memchr(b'\n', &text[next..]).map_or(text.len(), |p| next + p);
        let next_content = text[next + next_indent..next_end]
            .strip_suffix(b"\r")
            .unwrap_or(&text[next + next_indent..next_end]);
        if next_indent > opener && is_key_run(content) && is_key_run(next_content) {
            Some((next + next_indent - i, Encoding::Split))
        } else {
            None
        }
    }
}

/// Spaces and tabs at the start of `text`.
fn indentation(text: &[u8]) -> usize {
    text.iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count()
}

/// `key: |`, `key: >-`, `- key: |2`: a line that opens a YAML block scalar.
fn opens_block(content: &[u8]) -> bool {
    let trimmed = content.trim_ascii_end();
    let without_chomping = trimmed
        .iter()
        .rposition(|b| !matches!(b, b'+' | b'-' | b'0'..=b'9'))
        .map_or(&trimmed[..0], |p| &trimmed[..=p]);
    match without_chomping.split_last() {
        Some((b'|' | b'>', before)) => before.trim_ascii_end().ends_with(b":"),
        _ => false,
    }
}

/// A non-empty run of the characters keys are written in.
fn is_key_run(content: &[u8]) -> bool {
    !content.is_empty()
        && content
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_between_literals() {
        for (text, len) in [
            ("\" + \"", 5),
            ("\"\n    + \"", 9),
            ("' '", 3),
            ("\" \\\n  \"", 7),
            ("\" . \"", 5),
            ("' .. '", 6),
        ] {
            let padded = format!("a{text}");
            assert_eq!(
                separator(padded.as_bytes(), 1),
                Some((len, Encoding::Split)),
                "{text:?}"
            );
        }
        for text in ["a\", \"", "a\")\n\"", "a\": \"", "a\" + '", "a\" + b + \""] {
            assert_eq!(separator(text.as_bytes(), 1), None, "{text:?}");
        }
        // An opening quote is not a separator.
        assert_eq!(separator(b"x = \"ab\"", 4), None);
    }

    #[test]
    fn continuations() {
        assert_eq!(continuation(b"\\\n    x", 0), Some((6, Encoding::Split)));
        assert_eq!(continuation(b"\\\r\nx", 0), Some((3, Encoding::Split)));
        assert_eq!(continuation(b"\\n", 0), None);
    }

    #[test]
    fn yaml_block_lines_of_key_characters_are_joined() {
        let text = b"secret: >-\n  r4ij3uscWHtkZTNzyh0I\n  Wx9p5s93q9fQ4mzmNkWD\nnext: 1\n";
        let mut blocks = YamlBlocks::default();
        let breaks: Vec<usize> = (0..text.len()).filter(|&i| text[i] == b'\n').collect();
        let joined: Vec<Option<usize>> = breaks
            .iter()
            .map(|&i| blocks.join(text, i).map(|(n, _)| n))
            .collect();
        assert_eq!(joined, [None, Some(3), None, None]);
        assert!(opens_block(b"key: |"));
        assert!(opens_block(b"- key: >+2 "));
        assert!(!opens_block(b"a > b"));
    }
}
