//! JSON paths such as `events.call_get.connections[0].type`.

use std::fmt;

/// One step of a [`JsonPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

/// A location inside a JSON document, written `events.call_get.connections[0].type`; keys that
/// are not plain words are quoted: `events["collector.query"].type`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JsonPath(Vec<Segment>);

impl JsonPath {
    /// The document root.
    pub fn root() -> Self {
        Self::default()
    }

    /// A path of the given steps.
    pub fn from_segments(segments: Vec<Segment>) -> Self {
        Self(segments)
    }

    /// This path followed by an object member.
    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Key(key.into()));
        p
    }

    /// This path followed by an array element.
    pub fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Index(index));
        p
    }

    /// This path followed by `rest`.
    pub fn join(&self, rest: &JsonPath) -> Self {
        let mut p = self.clone();
        p.0.extend(rest.0.iter().cloned());
        p
    }

    /// The steps of the path, from the root.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// The path without its last step; the root has no parent.
    pub fn parent(&self) -> Option<Self> {
        let (_, rest) = self.0.split_last()?;
        Some(Self(rest.to_vec()))
    }

    /// The last object key of the path, if it ends in one.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last()? {
            Segment::Key(k) => Some(k),
            Segment::Index(_) => None,
        }
    }

    /// The path `serde_path_to_error` reports, without its enum variant and unknown steps: they
    /// name no member or element of the JSON.
    pub fn from_serde(path: &serde_path_to_error::Path) -> Self {
        use serde_path_to_error::Segment as S;
        Self(
            path.iter()
                .filter_map(|s| match s {
                    S::Seq { index } => Some(Segment::Index(*index)),
                    S::Map { key } => Some(Segment::Key(key.clone())),
                    S::Enum { .. } | S::Unknown => None,
                })
                .collect(),
        )
    }

    /// Converts a path reported by `serde_ignored`.
    pub(crate) fn from_ignored(path: &serde_ignored::Path<'_>) -> Self {
        use serde_ignored::Path as P;
        match path {
            P::Root => Self::root(),
            P::Seq { parent, index } => Self::from_ignored(parent).index(*index),
            P::Map { parent, key } => Self::from_ignored(parent).key(key.clone()),
            P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
                Self::from_ignored(parent)
            }
        }
    }
}

/// The node at `segments` under `root`.
pub(crate) fn resolve_mut<'v>(
    root: &'v mut serde_json::Value,
    segments: &[Segment],
) -> Option<&'v mut serde_json::Value> {
    segments
        .iter()
        .try_fold(root, |node, segment| match segment {
            Segment::Key(key) => node.as_object_mut()?.get_mut(key),
            Segment::Index(i) => node.as_array_mut()?.get_mut(*i),
        })
}

impl<S: Into<String>, I: IntoIterator<Item = S>> From<I> for JsonPath {
    /// A path of object keys.
    fn from(keys: I) -> Self {
        Self(keys.into_iter().map(|k| Segment::Key(k.into())).collect())
    }
}

fn is_word(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(k) if is_word(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Segment::Key(k) => write!(f, "[{k:?}]")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        let p = JsonPath::from(["events", "call_get", "connections"])
            .index(0)
            .key("type");
        assert_eq!(p.to_string(), "events.call_get.connections[0].type");
        let q = JsonPath::from(["events", "collector.query"]).key("route");
        assert_eq!(q.to_string(), "events[\"collector.query\"].route");
        assert_eq!(JsonPath::root().to_string(), "(root)");
    }
}
