//! Reading Redis's stream replies into entries, fields in their order and bytes as stored.

use redis::Value;

use crate::messages::broker::Entry;

fn bytes(value: Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.into_bytes()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        _ => None,
    }
}

fn text(value: Value) -> Option<String> {
    String::from_utf8(bytes(value)?).ok()
}

fn array(value: Value) -> Option<Vec<Value>> {
    match value {
        Value::Array(items) | Value::Set(items) => Some(items),
        Value::Nil => Some(Vec::new()),
        _ => None,
    }
}

/// `[id, [field, value, …]]` entries of `key`, each delivered for the first time; an entry
/// deleted meanwhile (no fields) is skipped.
fn entries(key: &str, value: Value) -> Option<Vec<Entry>> {
    let items = array(value)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let mut pair = array(item)?.into_iter();
        let id = text(pair.next()?)?;
        let Some(flat) = pair.next().and_then(array) else {
            continue;
        };
        let mut fields = Vec::with_capacity(flat.len() / 2);
        let mut flat = flat.into_iter();
        while let (Some(name), Some(value)) = (flat.next(), flat.next()) {
            fields.push((bytes(name)?, bytes(value)?));
        }
        out.push(Entry {
            key: key.to_owned(),
            id,
            fields,
            deliveries: 1,
        });
    }
    Some(out)
}

/// An XREADGROUP reply: `[[key, entries], …]` (RESP2) or a map of key to entries (RESP3);
/// nil when the block ran out.
pub(super) fn read(value: Value) -> Option<Vec<Entry>> {
    let per_key: Vec<(Value, Value)> = match value {
        Value::Nil => return Some(Vec::new()),
        Value::Map(pairs) => pairs,
        other => array(other)?
            .into_iter()
            .map(|item| {
                let mut pair = array(item)?.into_iter();
                Some((pair.next()?, pair.next()?))
            })
            .collect::<Option<_>>()?,
    };
    let mut out = Vec::new();
    for (key, items) in per_key {
        out.extend(entries(&text(key)?, items)?);
    }
    Some(out)
}

/// An XAUTOCLAIM reply: `[next cursor, entries, deleted ids]`.
pub(super) fn autoclaim(key: &str, value: Value) -> Option<(String, Vec<Entry>)> {
    let mut parts = array(value)?.into_iter();
    let cursor = text(parts.next()?)?;
    let claimed = entries(key, parts.next()?)?;
    Some((cursor, claimed))
}

/// The delivery count of an XPENDING range reply for one entry: `[[id, consumer, idle, n]]`.
pub(super) fn pending_deliveries(value: Value) -> Option<u64> {
    let first = array(value)?.into_iter().next()?;
    let count = array(first)?.into_iter().nth(3)?;
    match count {
        Value::Int(n) => u64::try_from(n).ok(),
        other => text(other)?.parse().ok(),
    }
}

/// The addresses (`host:port`) of the primaries in a `CLUSTER NODES` reply.
pub(super) fn primaries(nodes: &str) -> Vec<String> {
    nodes
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let _id = fields.next()?;
            let address = fields.next()?;
            let flags = fields.next()?;
            let primary = flags.split(',').any(|f| f == "master")
                && !flags.split(',').any(|f| f == "fail" || f == "noaddr");
            // `host:port@bus-port[,hostname]`
            primary.then(|| address.split('@').next().unwrap_or(address).to_owned())
        })
        .collect()
}
