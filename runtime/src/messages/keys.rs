//! The keys of a stream: hopeit's queue keys, and appwire's own keys beside a stream.
//!
//! appwire's keys carry the stream's key as a Redis Cluster hash tag (`{orders}.dlq`), so that
//! a script that touches both is about one slot; a key that already has a hash tag keeps it
//! (`{shop}.orders` → `{shop}.orders.dlq`). hopeit's own key rules are the manifest's:
//! [`stream_key`] and [`write_target`].

pub use appwire_manifest::{WriteTarget, stream_key, write_target};

/// The dead-letter stream of `key`: `{key}.dlq`.
pub fn dead_letter_key(key: &str) -> String {
    own_key(key, "dlq")
}

/// The sorted set of `key`'s scheduled messages: `{key}.delayed`.
pub fn delayed_key(key: &str) -> String {
    own_key(key, "delayed")
}

/// The key that remembers a publisher-given id on `key`: `{key}.dedup.<id>`.
pub fn dedup_key(key: &str, id: &str) -> String {
    own_key(key, &format!("dedup.{id}"))
}

/// Whether `key` is one of appwire's own streams (a dead-letter stream), which a pattern
/// subscription never reads.
pub fn is_own_stream(key: &str) -> bool {
    key.ends_with(".dlq") && hash_tag(key).is_some()
}

fn own_key(key: &str, suffix: &str) -> String {
    if hash_tag(key).is_some() {
        format!("{key}.{suffix}")
    } else {
        format!("{{{key}}}.{suffix}")
    }
}

/// The hash tag of a key, by Redis Cluster's rule: between the first `{` and the first `}`
/// after it, when not empty.
fn hash_tag(key: &str) -> Option<&str> {
    let open = key.find('{')?;
    let close = key[open + 1..].find('}')?;
    (close > 0).then(|| &key[open + 1..open + 1 + close])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_keys_share_the_streams_slot() {
        assert_eq!(dead_letter_key("orders"), "{orders}.dlq");
        assert_eq!(delayed_key("orders.high"), "{orders.high}.delayed");
        assert_eq!(dedup_key("orders", "o-1"), "{orders}.dedup.o-1");
        assert_eq!(dead_letter_key("{shop}.orders"), "{shop}.orders.dlq");
        assert!(is_own_stream("{orders}.dlq"));
    }
}
