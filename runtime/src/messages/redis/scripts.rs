//! The server-side scripts: each touches one stream and appwire's keys beside it (one slot
//! in a cluster, see [`crate::messages::keys`]), atomically.

use std::sync::LazyLock;

use redis::Script;

use crate::messages::broker::Field;

/// Appends a message unless its publisher-given id was seen within the window.
///
/// KEYS: stream, dedup key. ARGV: window (ms), max length (0: none), then field, value, …
/// Returns `{1, id}` when appended, `{0, first id}` for a duplicate.
pub(super) static PUBLISH_ONCE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local seen = redis.call('GET', KEYS[2])
if seen then return {0, seen} end
local args = {'XADD', KEYS[1]}
if tonumber(ARGV[2]) > 0 then
  table.insert(args, 'MAXLEN'); table.insert(args, '~'); table.insert(args, ARGV[2])
end
table.insert(args, '*')
for i = 3, #ARGV do table.insert(args, ARGV[i]) end
local id = redis.call(unpack(args))
redis.call('SET', KEYS[2], id, 'PX', ARGV[1])
return {1, id}
",
    )
});

/// Appends the scheduled messages that are due and removes them from the schedule.
///
/// KEYS: schedule (sorted set), stream. ARGV: now (ms since the epoch), most to move.
/// A member is netstrings (`<len>:<bytes>`): a unique token, the max length, then field,
/// value, … Returns the next due time (ms) as a string, or false when none is left.
pub(super) static DELIVER_DUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local function parts(s)
  local out, pos = {}, 1
  while pos <= #s do
    local colon = string.find(s, ':', pos, true)
    local len = tonumber(string.sub(s, pos, colon - 1))
    out[#out + 1] = string.sub(s, colon + 1, colon + len)
    pos = colon + len + 1
  end
  return out
end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
  local p = parts(member)
  local args = {'XADD', KEYS[2]}
  if tonumber(p[2]) > 0 then
    table.insert(args, 'MAXLEN'); table.insert(args, '~'); table.insert(args, p[2])
  end
  table.insert(args, '*')
  for i = 3, #p do table.insert(args, p[i]) end
  redis.call(unpack(args))
  redis.call('ZREM', KEYS[1], member)
end
local next = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #next == 0 then return false end
return next[2]
",
    )
});

/// Copies an entry to the dead-letter stream and acknowledges it.
///
/// KEYS: stream, dead-letter stream. ARGV: group, entry id, then field, value, …
pub(super) static DEAD_LETTER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local args = {'XADD', KEYS[2], '*'}
for i = 3, #ARGV do table.insert(args, ARGV[i]) end
redis.call(unpack(args))
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
",
    )
});

/// A scheduled message as a member of the schedule: netstrings of a unique token, the max
/// length, and the fields.
pub(super) fn schedule_member(token: &str, max_len: u64, fields: &[Field]) -> Vec<u8> {
    let mut member = Vec::new();
    let mut put = |bytes: &[u8]| {
        member.extend_from_slice(bytes.len().to_string().as_bytes());
        member.push(b':');
        member.extend_from_slice(bytes);
    };
    put(token.as_bytes());
    put(max_len.to_string().as_bytes());
    for (name, value) in fields {
        put(name.as_bytes());
        put(value);
    }
    member
}
