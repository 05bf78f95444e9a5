//! A file's text: line and column numbers, the byte range of every JSON node, and the mapping
//! back to the file when the text was rewritten before parsing. [`JsonSource`] locates
//! diagnostics about a JSON file other than a manifest, such as an OpenAPI spec.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use jsonc_parser::ast::{ObjectPropName, Value};
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, ParseOptions};

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::located::Located;
use crate::path::JsonPath;

/// A line and column in a file, both starting at 1; the column counts characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    /// Line number.
    pub line: usize,
    /// Column number.
    pub column: usize,
}

/// A file's name and text, as read.
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

/// A JSON file other than a manifest, such as an OpenAPI spec: its source, and the byte range of
/// each of its nodes, which turn a [`Diagnostic`] about a [`JsonPath`] into one located in the
/// file.
///
/// ```
/// use appwire_manifest::source::JsonSource;
/// use appwire_manifest::{Code, Diagnostic, JsonPath};
///
/// let spec = JsonSource::new("openapi.json", "{\n  \"paths\": {\"/a\": 1}\n}");
/// let path = JsonPath::from(["paths", "/a"]);
/// let d = spec.at_value(Diagnostic::error(Code::Unsupported, "not a path item"), &path, None);
/// assert_eq!(d.location(spec.source()).map(|at| (at.line, at.column)), Some((2, 19)));
/// let text = spec.diagnostics(vec![d]).to_string();
/// assert!(text.starts_with("openapi.json:2:19: error[unsupported]: not a path item"), "{text}");
/// ```
#[derive(Debug)]
pub struct JsonSource {
    source: Arc<SourceFile>,
    // Indexed on first use: a file without problems needs no index, and building one parses
    // the text a second time.
    located: OnceLock<Located>,
}

impl JsonSource {
    /// The JSON file named `name` (usually its path) holding `text`. A text that is not JSON has
    /// no nodes: diagnostics about it are located by offset only (see
    /// [`JsonSource::json_error`]).
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            source: Arc::new(SourceFile::new(name, text)),
            located: OnceLock::new(),
        }
    }

    /// The file's name and text.
    pub fn source(&self) -> &SourceFile {
        &self.source
    }

    fn located(&self) -> &Located {
        self.located.get_or_init(|| Located {
            // The text parsed is the file's own: a rewrite with no edits maps offsets to
            // themselves.
            rewrite: Some(Rewrite::default()),
            index: SpanIndex::new(self.source.text()),
        })
    }

    /// `d` at `path`, labelled with the value there (or at its nearest ancestor in the file,
    /// when `path` names something not written), with `label` as the label's note.
    pub fn at_value(&self, d: Diagnostic, path: &JsonPath, label: Option<String>) -> Diagnostic {
        self.located().value(d, path, label)
    }

    /// `d` at `path`, labelled with the key of the member there (its value when it has no key,
    /// as an array element), with `label` as the label's note.
    pub fn at_key(&self, d: Diagnostic, path: &JsonPath, label: Option<String>) -> Diagnostic {
        self.located().key(d, path, label)
    }

    /// An error of `code` for an error serde_json found reading the text (a syntax error, or a
    /// value its target type refuses): `<what>: <serde_json's message>`, labelled where
    /// serde_json stopped.
    pub fn json_error(&self, code: Code, what: &str, e: &serde_json::Error) -> Diagnostic {
        let offset = self.source.json_error_offset(e);
        Diagnostic::error(code, format!("{what}: {}", json_message(e)))
            .with_label(offset..offset, None)
    }

    /// The diagnostics `items` of this file.
    pub fn diagnostics(&self, items: Vec<Diagnostic>) -> Diagnostics {
        Diagnostics::new(Arc::clone(&self.source), items)
    }
}

impl SourceFile {
    /// The byte offset of the line and column a serde_json error reports in this text.
    pub(crate) fn json_error_offset(&self, e: &serde_json::Error) -> usize {
        let len = self.text.len();
        // serde_json counts columns in bytes, from 1; 0 is before the line's first byte.
        let offset = self
            .line_start(e.line())
            .map_or(len, |start| (start + e.column().saturating_sub(1)).min(len));
        floor_char_boundary(&self.text, offset)
    }
}

/// A serde_json error's message without the position it appends, which a label shows instead.
pub(crate) fn json_message(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    match message.strip_suffix(&position) {
        Some(m) => m.to_owned(),
        None => message,
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
    fn a_json_source_locates_keys_values_and_syntax_errors() {
        use crate::diagnostic::{Code, Diagnostic};

        let text = "{\"é\": {\"a\": [1, {\"b\": true}]},\n \"c\": 2}";
        let json = JsonSource::new("f.json", text);
        let at = |d: &Diagnostic| d.location(json.source()).map(|l| (l.line, l.column));
        let b = JsonPath::from(["é", "a"]).index(1).key("b");
        let d = Diagnostic::error(Code::Unsupported, "m");
        assert_eq!(at(&json.at_value(d.clone(), &b, None)), Some((1, 23)));
        assert_eq!(at(&json.at_key(d.clone(), &b, None)), Some((1, 18)));
        let placed = json.at_key(d.clone(), &JsonPath::from(["c", "missing"]), None);
        assert_eq!(at(&placed), Some((2, 2)), "the nearest written ancestor");
        assert_eq!(placed.path, Some(JsonPath::from(["c", "missing"])));

        let broken = "{\"é\": [1,\n  2,, 3]}";
        let json = JsonSource::new("g.json", broken);
        let e = serde_json::from_str::<serde_json::Value>(broken).expect_err("not JSON");
        let d = json.json_error(Code::SpecSyntax, "invalid JSON", &e);
        assert_eq!(d.code, Code::SpecSyntax);
        assert_eq!(d.message, "invalid JSON: expected value");
        assert_eq!(
            d.location(json.source()).map(|l| (l.line, l.column)),
            Some((2, 5))
        );
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
