//! The memory broker's streams, groups and schedules: Redis Streams' semantics, kept in a map.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use crate::messages::broker::{Appended, DeadLetter, Entry, Fields, GroupStart, Outgoing};
use crate::messages::{glob, keys};

/// An entry id: milliseconds and sequence, ordered as Redis orders them.
pub(super) type Id = (u64, u64);

pub(super) fn format_id((ms, seq): Id) -> String {
    format!("{ms}-{seq}")
}

pub(super) fn parse_id(id: &str) -> Option<Id> {
    let (ms, seq) = id.split_once('-')?;
    Some((ms.parse().ok()?, seq.parse().ok()?))
}

/// The broker's wall clock: the system's when the broker was made, advanced by tokio's
/// clock since. Entry ids and due times are on it, so that a paused tokio clock pauses them
/// too and one that advances moves them exactly as far.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    wall: SystemTime,
    instant: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Self {
            wall: SystemTime::now(),
            instant: Instant::now(),
        }
    }
}

impl Clock {
    /// The time on this clock.
    pub(super) fn now(&self) -> SystemTime {
        let elapsed = self.instant.elapsed();
        self.wall.checked_add(elapsed).unwrap_or(self.wall)
    }

    /// The tokio instant at which this clock reads `at`.
    fn instant(&self, at: SystemTime) -> Instant {
        match at.duration_since(self.wall) {
            // Too far ahead for an instant to hold: `FAR` ahead instead.
            Ok(after) => self
                .instant
                .checked_add(after)
                .or_else(|| self.instant.checked_add(FAR))
                .unwrap_or(self.instant),
            // Before the clock began: due, whatever the instant.
            Err(before) => self
                .instant
                .checked_sub(before.duration())
                .unwrap_or(self.instant),
        }
    }
}

/// The furthest a due time is kept when its instant cannot be represented: 100 years.
const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

#[derive(Default)]
pub(super) struct State {
    clock: Clock,
    streams: BTreeMap<String, Stream>,
    /// Scheduled messages by stream key, in due order (ties in scheduling order).
    delayed: HashMap<String, BTreeMap<(Instant, u64), Outgoing>>,
    /// Publisher-given ids: the entry id they were first written as, until when.
    dedup: HashMap<String, (String, Instant)>,
    scheduled: u64,
    last_id: Id,
}

#[derive(Default)]
struct Stream {
    entries: BTreeMap<Id, Fields>,
    groups: HashMap<String, Group>,
}

struct Group {
    last_delivered: Id,
    pending: BTreeMap<Id, Pending>,
}

struct Pending {
    consumer: String,
    deliveries: u64,
    delivered_at: Instant,
}

/// A group that does not exist: Redis's `NOGROUP`, which a subscriber answers by creating
/// its groups again.
pub(super) struct NoGroup;

impl State {
    pub(super) fn append(&mut self, message: &Outgoing) -> Appended {
        let now = Instant::now();
        let dedup_key = message
            .dedup
            .as_ref()
            .map(|d| (keys::dedup_key(&message.key, &d.id), d.window));
        if let Some((key, _)) = &dedup_key
            && let Some((id, until)) = self.dedup.get(key)
            && *until > now
        {
            return Appended {
                id: id.clone(),
                duplicate: true,
            };
        }
        let fields = message
            .fields
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.clone()))
            .collect();
        let id = format_id(self.push(&message.key, fields, message.max_len));
        if let Some((key, window)) = dedup_key {
            self.dedup.retain(|_, (_, until)| *until > now);
            self.dedup.insert(key, (id.clone(), now + window));
        }
        Appended {
            id,
            duplicate: false,
        }
    }

    fn push(&mut self, key: &str, fields: Fields, max_len: u64) -> Id {
        let ms = self
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        let id = if ms > self.last_id.0 {
            (ms, 0)
        } else {
            (self.last_id.0, self.last_id.1 + 1)
        };
        self.last_id = id;
        let stream = self.streams.entry(key.to_owned()).or_default();
        stream.entries.insert(id, fields);
        if max_len > 0 {
            while stream.entries.len() as u64 > max_len {
                stream.entries.pop_first();
            }
        }
        id
    }

    /// The broker's wall clock.
    pub(super) fn clock(&self) -> Clock {
        self.clock
    }

    /// Keeps `message` to be appended when the broker's clock reads `due`.
    pub(super) fn schedule(&mut self, message: &Outgoing, due: SystemTime) {
        let due = self.clock.instant(due);
        self.scheduled += 1;
        self.delayed
            .entry(message.key.clone())
            .or_default()
            .insert((due, self.scheduled), message.clone());
    }

    /// Appends what is due on `key`: whether anything was, and how long until the next is.
    pub(super) fn deliver_due(&mut self, key: &str) -> (bool, Option<Duration>) {
        let now = Instant::now();
        let due: Vec<Outgoing> = match self.delayed.get_mut(key) {
            Some(queue) => {
                let later = queue.split_off(&(now, u64::MAX));
                std::mem::replace(queue, later).into_values().collect()
            }
            None => return (false, None),
        };
        for message in &due {
            self.append(message);
        }
        let next = self
            .delayed
            .get(key)
            .and_then(|queue| queue.keys().next())
            .map(|(at, _)| at.saturating_duration_since(now));
        (!due.is_empty(), next)
    }

    pub(super) fn streams(&self, pattern: &str) -> Vec<String> {
        self.streams
            .keys()
            .filter(|k| glob::matches(pattern, k))
            .cloned()
            .collect()
    }

    pub(super) fn ensure_group(&mut self, key: &str, group: &str, start: GroupStart) {
        let stream = self.streams.entry(key.to_owned()).or_default();
        let last = match start {
            GroupStart::Beginning => (0, 0),
            GroupStart::New => stream.entries.keys().next_back().copied().unwrap_or((0, 0)),
        };
        stream
            .groups
            .entry(group.to_owned())
            .or_insert_with(|| Group {
                last_delivered: last,
                pending: BTreeMap::new(),
            });
    }

    fn group(&mut self, key: &str, group: &str) -> Result<(&mut Stream, Group), NoGroup> {
        let stream = self.streams.get_mut(key).ok_or(NoGroup)?;
        let g = stream.groups.remove(group).ok_or(NoGroup)?;
        Ok((stream, g))
    }

    /// Runs `f` on a group of `key`, put back afterwards.
    fn with_group<R>(
        &mut self,
        key: &str,
        group: &str,
        f: impl FnOnce(&mut BTreeMap<Id, Fields>, &mut Group) -> R,
    ) -> Result<R, NoGroup> {
        let (stream, mut g) = self.group(key, group)?;
        let out = f(&mut stream.entries, &mut g);
        stream.groups.insert(group.to_owned(), g);
        Ok(out)
    }

    /// New entries of `keys` for `consumer`, up to `count` per key.
    pub(super) fn read_new(
        &mut self,
        keys: &[String],
        group: &str,
        consumer: &str,
        count: usize,
    ) -> Result<Vec<Entry>, NoGroup> {
        let now = Instant::now();
        let mut out = Vec::new();
        for key in keys {
            let taken = self.with_group(key, group, |entries, g| {
                let start = (g.last_delivered.0, g.last_delivered.1.saturating_add(1));
                let fresh: Vec<(Id, Fields)> = entries
                    .range(start..)
                    .take(count)
                    .map(|(id, f)| (*id, f.clone()))
                    .collect();
                for (id, _) in &fresh {
                    g.last_delivered = *id;
                    g.pending.insert(
                        *id,
                        Pending {
                            consumer: consumer.to_owned(),
                            deliveries: 1,
                            delivered_at: now,
                        },
                    );
                }
                fresh
            })?;
            out.extend(taken.into_iter().map(|(id, fields)| Entry {
                key: key.clone(),
                id: format_id(id),
                fields,
                deliveries: 1,
            }));
        }
        Ok(out)
    }

    pub(super) fn reclaim(
        &mut self,
        key: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        count: usize,
    ) -> Result<Vec<Entry>, NoGroup> {
        let now = Instant::now();
        self.with_group(key, group, |entries, g| {
            let mut out = Vec::new();
            let mut gone = Vec::new();
            for (id, pending) in g.pending.iter_mut() {
                if out.len() == count {
                    break;
                }
                if now.saturating_duration_since(pending.delivered_at) < min_idle {
                    continue;
                }
                // An entry trimmed away while pending leaves the list, as Redis 7 does.
                let Some(fields) = entries.get(id) else {
                    gone.push(*id);
                    continue;
                };
                pending.consumer = consumer.to_owned();
                pending.deliveries += 1;
                pending.delivered_at = now;
                out.push(Entry {
                    key: key.to_owned(),
                    id: format_id(*id),
                    fields: fields.clone(),
                    deliveries: pending.deliveries,
                });
            }
            for id in gone {
                g.pending.remove(&id);
            }
            out
        })
    }

    pub(super) fn ack(&mut self, key: &str, group: &str, ids: &[String]) -> Result<(), NoGroup> {
        self.with_group(key, group, |_, g| {
            for id in ids.iter().filter_map(|id| parse_id(id)) {
                g.pending.remove(&id);
            }
        })
    }

    pub(super) fn set_idle(
        &mut self,
        key: &str,
        group: &str,
        consumer: &str,
        id: &str,
        idle: Duration,
    ) -> Result<(), NoGroup> {
        let now = Instant::now();
        self.with_group(key, group, |_, g| {
            if let Some(pending) = parse_id(id).and_then(|id| g.pending.get_mut(&id)) {
                pending.consumer = consumer.to_owned();
                pending.delivered_at = now.checked_sub(idle).unwrap_or(now);
            }
        })
    }

    pub(super) fn dead_letter(
        &mut self,
        entry: &Entry,
        group: &str,
        reason: &DeadLetter,
    ) -> Result<(), NoGroup> {
        self.with_group(&entry.key, group, |_, _| ())?;
        self.push(
            &keys::dead_letter_key(&entry.key),
            reason.fields(entry, group),
            0,
        );
        self.ack(&entry.key, group, std::slice::from_ref(&entry.id))
    }

    /// Pending entries of a group: (id, consumer, deliveries), for tests and tools.
    pub(super) fn pending(&self, key: &str, group: &str) -> Vec<(String, String, u64)> {
        self.streams
            .get(key)
            .and_then(|s| s.groups.get(group))
            .map(|g| {
                g.pending
                    .iter()
                    .map(|(id, p)| (format_id(*id), p.consumer.clone(), p.deliveries))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every entry of a stream, oldest first.
    pub(super) fn entries(&self, key: &str) -> Vec<(String, Fields)> {
        self.streams
            .get(key)
            .map(|s| {
                s.entries
                    .iter()
                    .map(|(id, f)| (format_id(*id), f.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}
