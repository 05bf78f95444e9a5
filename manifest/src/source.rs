//! The manifest's text: line and column numbers, the byte range of every JSON node, and the
//! mapping back to the file when the text was rewritten before parsing.

use std::collections::HashMap;
use std::ops::Range;

use jsonc_parser::ast::{ObjectPropName, Value};
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, ParseOptions};

use crate::path::JsonPath;

/// A line and column in a file, both starting at 1; the column counts characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    /// Line number.
    pub line: usize,
    /// Column number.
    pub column: usize,
}

/// A manifest file's name and text, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    name: String,
    text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// A source named `name` (usually its path) holding `text`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The name given to the source.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The text as read.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Line and column of a byte offset (clamped to the text).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        LineCol {
            line,
            column: self.text[start..offset].chars().count() + 1,
        }
    }

    /// Byte offset where a line (1-based) starts.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line.checked_sub(1)?).copied()
    }

    /// Byte offset of a line and column (1-based, column in characters), clamped to the text.
    pub fn offset(&self, at: LineCol) -> usize {
        let Some(&start) = self.line_starts.get(at.line.saturating_sub(1)) else {
            return self.text.len();
        };
        self.text[start..]
            .char_indices()
            .nth(at.column.saturating_sub(1))
            .map_or(self.text.len(), |(i, _)| start + i)
    }
}

/// The largest char boundary of `s` at or before `i` (which must be at most `s.len()`).
pub(crate) fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Byte ranges of an object member's key and value, or of an array element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeSpan {
    /// The member's key, with its quotes; `None` for array elements and the root.
    pub(crate) key: Option<Range<usize>>,
    /// The value.
    pub(crate) value: Range<usize>,
}

/// The byte range of every node of a JSON text, by path, and the keys written twice.
#[derive(Debug, Default)]
pub(crate) struct SpanIndex {
    nodes: HashMap<JsonPath, NodeSpan>,
    /// Keys that appear more than once in one object: the path and the range of each later key.
    pub(crate) duplicates: Vec<(JsonPath, Range<usize>)>,
}

impl SpanIndex {
    /// Indexes `text`, which must be valid JSON (an invalid text gives an empty index).
    pub(crate) fn new(text: &str) -> Self {
        let mut index = Self::default();
        let options = ParseOptions {
            allow_comments: false,
            allow_loose_object_property_names: false,
            allow_trailing_commas: false,
            ..ParseOptions::default()
        };
        if let Ok(parsed) = jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &options)
            && let Some(value) = &parsed.value
        {
            index.visit(JsonPath::root(), None, value);
        }
        index
    }

    fn visit(&mut self, path: JsonPath, key: Option<Range<usize>>, value: &Value<'_>) {
        let r = value.range();
        self.nodes.insert(
            path.clone(),
            NodeSpan {
                key,
                value: r.start..r.end,
            },
        );
        match value {
            Value::Object(object) => {
                for prop in &object.properties {
                    let (name, range) = match &prop.name {
                        ObjectPropName::String(s) => (s.value.to_string(), s.range),
                        ObjectPropName::Word(w) => (w.value.to_owned(), w.range),
                    };
                    let child = path.key(name);
                    if self.nodes.contains_key(&child) {
                        // The last value wins: forget everything under the one it replaces.
                        self.nodes
                            .retain(|p, _| !p.segments().starts_with(child.segments()));
                        self.duplicates
                            .push((child.clone(), range.start..range.end));
                    }
                    self.visit(child, Some(range.start..range.end), &prop.value);
                }
            }
            Value::Array(array) => {
                for (i, element) in array.elements.iter().enumerate() {
                    self.visit(path.index(i), None, element);
                }
            }
            _ => {}
        }
    }

    /// The node at `path`, or at its nearest indexed ancestor (a path may name a node that
    /// only exists after defaults were applied or templates renamed a key).
    pub(crate) fn find(&self, path: &JsonPath) -> Option<&NodeSpan> {
        let mut p = Some(path.clone());
        while let Some(q) = p {
            if let Some(span) = self.nodes.get(&q) {
                return Some(span);
            }
            p = q.parent();
        }
        None
    }

    /// Whether `path` itself was written in the text.
    pub(crate) fn contains(&self, path: &JsonPath) -> bool {
        self.nodes.contains_key(path)
    }
}

/// One replaced range of a rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edit {
    original: Range<usize>,
    rewritten: Range<usize>,
}

/// A text rewritten from an original by replacing ranges, and the way back to original offsets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Rewrite {
    pub(crate) text: String,
    edits: Vec<Edit>,
}

impl Rewrite {
    /// `original` with each `(range, replacement)` applied; ranges must be sorted and disjoint.
    pub(crate) fn new<'a>(
        original: &str,
        replacements: impl IntoIterator<Item = (Range<usize>, &'a str)>,
    ) -> Self {
        let mut text = String::with_capacity(original.len());
        let mut edits = Vec::new();
        let mut copied = 0;
        for (range, replacement) in replacements {
            text.push_str(&original[copied..range.start]);
            let start = text.len();
            text.push_str(replacement);
            edits.push(Edit {
                original: range.clone(),
                rewritten: start..text.len(),
            });
            copied = range.end;
        }
        text.push_str(&original[copied..]);
        Self { text, edits }
    }

    /// The original offset of a rewritten one; offsets inside a replacement map to the start of
    /// what it replaced.
    pub(crate) fn original_offset(&self, offset: usize) -> usize {
        let mut shift: isize = 0;
        for edit in &self.edits {
            if offset < edit.rewritten.start {
                break;
            }
            if offset < edit.rewritten.end {
                return edit.original.start;
            }
            shift = edit.original.end as isize - edit.rewritten.end as isize;
        }
        offset.saturating_add_signed(shift)
    }

    /// The original range of a rewritten one.
    pub(crate) fn original_range(&self, range: Range<usize>) -> Range<usize> {
        let start = self.original_offset(range.start);
        let end = if range.end > range.start {
            self.original_offset(range.end - 1) + 1
        } else {
            start
        };
        // A range ending inside a replacement covers all of what it replaced.
        let end = self
            .edits
            .iter()
            .find(|e| e.original.contains(&(end.saturating_sub(1))))
            .map_or(end, |e| e.original.end.max(end));
        start..end.max(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        let s = SourceFile::new("f", "ab\ncé\nx");
        assert_eq!(s.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(s.line_col(3), LineCol { line: 2, column: 1 });
        assert_eq!(s.line_col(6), LineCol { line: 2, column: 3 });
        assert_eq!(s.line_col(99), LineCol { line: 3, column: 2 });
        assert_eq!(s.offset(LineCol { line: 2, column: 3 }), 6);
    }

    #[test]
    fn spans_by_path() {
        let text = r#"{"a": {"b": [1, {"c": true}]}, "z": 2}"#;
        let index = SpanIndex::new(text);
        let at = |p: JsonPath| index.find(&p).map(|n| &text[n.value.clone()]);
        assert_eq!(
            at(JsonPath::from(["a", "b"]).index(1).key("c")),
            Some("true")
        );
        // A missing member falls back to its parent.
        assert_eq!(at(JsonPath::from(["z", "zz"])), Some("2"));
        assert!(index.duplicates.is_empty());
    }

    #[test]
    fn the_last_of_duplicate_keys_counts() {
        let text = r#"{"a": {"b": [1, {"c": true}]}, "a": 2}"#;
        let index = SpanIndex::new(text);
        assert_eq!(index.duplicates.len(), 1);
        assert_eq!(&text[index.duplicates[0].1.clone()], "\"a\"");
        assert!(
            !index.contains(&JsonPath::from(["a", "b"])),
            "the replaced value is forgotten"
        );
        let found = index
            .find(&JsonPath::from(["a", "b"]))
            .map(|n| &text[n.value.clone()]);
        assert_eq!(found, Some("2"));
        let nested = SpanIndex::new(r#"{"a": {"x": 1}, "a": {"x": 2}}"#);
        assert_eq!(nested.duplicates.len(), 1);
    }

    #[test]
    fn rewrite_maps_back() {
        let original = "ab${X}cd${Y}e";
        let r = Rewrite::new(original, [(2..6, "1234567"), (8..12, "")]);
        assert_eq!(r.text, "ab1234567cde");
        assert_eq!(r.original_offset(0), 0);
        assert_eq!(r.original_offset(4), 2);
        assert_eq!(r.original_offset(9), 6);
        assert_eq!(r.original_offset(11), 12);
        assert_eq!(r.original_range(2..9), 2..6);
    }
}
