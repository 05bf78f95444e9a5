//! What a call carries over from the event that makes it: track ids, the caller event's name
//! and, for `FORWARD_CONTEXT`, the incoming `Authorization`.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use appwire_manifest::SecretString;
use appwire_manifest::naming::spinalcase;
use http::HeaderMap;

/// Track id of the request, sent as `x-track-request-id`.
pub const REQUEST_ID: &str = "track.request_id";
/// Track id of the request's time, sent as `x-track-request-ts`.
pub const REQUEST_TS: &str = "track.request_ts";

/// The calling side of a call, as hopeit's `EventContext` gives it to its apps-client.
///
/// Track ids use hopeit's keys (`track.operation_id`, `track.session_id`, `event.app`...) and
/// travel as `x-<spinal-case key>` headers (`x-track-session-id`). A call whose context has no
/// `track.request_id` gets a fresh UUID v4, and one without `track.request_ts` the current
/// time, both kept for all its attempts.
///
/// The `Authorization` it carries is redacted from `Debug` output.
#[derive(Clone, Default)]
pub struct CallContext {
    event_name: Option<String>,
    track_ids: Vec<(String, String)>,
    authorization: Option<SecretString>,
}

impl fmt::Debug for CallContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallContext")
            .field("event_name", &self.event_name)
            .field("track_ids", &self.track_ids)
            .field("authorization", &self.authorization)
            .finish()
    }
}

impl CallContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// The context of an incoming request: its `x-track-*` headers as track ids
    /// (`x-track-session-id` becomes `track.session_id`, as a hopeit server reads them) and
    /// its `Authorization`. The incoming caller's own `x-track-client-app-key` and
    /// `x-track-client-event-name` are left out: a call made in this context names its own
    /// app and event.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut context = Self::new();
        for (name, value) in headers {
            let Some(rest) = name.as_str().strip_prefix("x-track-") else {
                continue;
            };
            if matches!(rest, "client-app-key" | "client-event-name") {
                continue;
            }
            if let Ok(value) = value.to_str() {
                context = context.with_track_id(format!("track.{}", rest.replace('-', "_")), value);
            }
        }
        if let Some(auth) = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            context = context.with_authorization(auth);
        }
        context
    }

    /// Names the calling event, sent as `x-track-client-event-name`.
    #[must_use]
    pub fn with_event_name(mut self, event: impl Into<String>) -> Self {
        self.event_name = Some(event.into());
        self
    }

    /// Sets a track id (hopeit's key, e.g. `track.session_id`), replacing an earlier value.
    #[must_use]
    pub fn with_track_id(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let (key, value) = (key.into(), value.into());
        match self.track_ids.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.track_ids.push((key, value)),
        }
        self
    }

    /// Carries the incoming `Authorization` value (`Basic ...`, `Bearer ...`), for
    /// `FORWARD_CONTEXT`.
    #[must_use]
    pub fn with_authorization(mut self, value: impl Into<String>) -> Self {
        self.authorization = Some(SecretString::new(value.into()));
        self
    }

    /// The calling event's name.
    pub fn event_name(&self) -> Option<&str> {
        self.event_name.as_deref()
    }

    /// The track ids, in the order they were set.
    pub fn track_ids(&self) -> &[(String, String)] {
        &self.track_ids
    }

    /// A track id's value.
    pub fn track_id(&self, key: &str) -> Option<&str> {
        self.track_ids
            .iter()
            .find_map(|(k, v)| (k == key).then_some(v.as_str()))
    }

    /// The `Authorization` to forward; never log it.
    pub fn authorization(&self) -> Option<&str> {
        self.authorization.as_ref().map(SecretString::expose)
    }
}

/// The header name hopeit's apps-client sends a track id as: `x-` and the spinal-cased key.
pub(crate) fn track_header(key: &str) -> String {
    format!("x-{}", spinalcase(key))
}

/// A short ASCII text kept inline: what a call computes once and sends with each attempt,
/// without a heap allocation of its own.
#[derive(Clone, Copy)]
pub(crate) struct Inline<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Inline<N> {
    fn new() -> Self {
        Self {
            bytes: [0; N],
            len: 0,
        }
    }

    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    fn push_str(&mut self, text: &str) {
        text.bytes().for_each(|b| self.push(b));
    }

    /// `value`'s last `width` decimal digits, zero-padded.
    fn push_digits(&mut self, value: u64, width: u32) {
        for place in (0..width).rev() {
            self.push(b'0' + (value / 10u64.pow(place) % 10) as u8);
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII is ever pushed.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

/// A random UUID, version 4.
pub(crate) fn uuid_v4() -> Inline<36> {
    // Request ids need to be unique, not secret: a fast generator serves.
    let bytes = fastrand::u128(..).to_le_bytes();
    let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let mut text = Inline::new();
    text.push_str(
        uuid.hyphenated()
            .encode_lower(&mut uuid::Uuid::encode_buffer()),
    );
    text
}

/// `t` as Python's `datetime.now(tz=timezone.utc).isoformat()` writes it:
/// `2023-11-14T22:13:20.123456+00:00`, the fraction left out when it is zero.
pub(crate) fn iso_utc(t: SystemTime) -> Inline<32> {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    // Written digit by digit: every call makes one, and `format!` costs several times more.
    let mut iso = Inline::new();
    iso.push_digits(y, 4);
    iso.push(b'-');
    iso.push_digits(m, 2);
    iso.push(b'-');
    iso.push_digits(d, 2);
    iso.push(b'T');
    iso.push_digits(rem / 3600, 2);
    iso.push(b':');
    iso.push_digits(rem % 3600 / 60, 2);
    iso.push(b':');
    iso.push_digits(rem % 60, 2);
    match since.subsec_micros() {
        0 => {}
        micros => {
            iso.push(b'.');
            iso.push_digits(u64::from(micros), 6);
        }
    }
    iso.push_str("+00:00");
    iso
}

/// Year, month and day of the `days`-th day after 1970-01-01 (Howard Hinnant's algorithm,
/// for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::HeaderValue;

    use super::*;

    #[test]
    fn an_incoming_callers_own_names_are_not_forwarded() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("x-track-session-id", "s-1"),
            ("x-track-client-app-key", "upstream.1x0"),
            ("x-track-client-event-name", "upstream_event"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        let context = CallContext::from_headers(&headers);
        assert_eq!(
            context.track_ids(),
            [("track.session_id".to_owned(), "s-1".to_owned())]
        );
        assert_eq!(context.event_name(), None);
    }

    #[test]
    fn track_headers_are_spinal_cased() {
        assert_eq!(track_header("track.request_id"), "x-track-request-id");
        assert_eq!(track_header("track.session_id"), "x-track-session-id");
        assert_eq!(track_header("event.app"), "x-event-app");
    }

    #[test]
    fn uuids_are_version_4() {
        let a = uuid_v4().as_str().to_owned();
        assert_eq!(a.len(), 36);
        let groups: Vec<&str> = a.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'), "{a}");
        assert!(matches!(&groups[3][..1], "8" | "9" | "a" | "b"), "{a}");
        assert_ne!(a, uuid_v4().as_str());
    }

    #[test]
    fn timestamps_are_pythons_isoformat() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(iso_utc(t).as_str(), "2023-11-14T22:13:20+00:00");
        assert_eq!(
            iso_utc(t + Duration::from_micros(5)).as_str(),
            "2023-11-14T22:13:20.000005+00:00"
        );
        assert_eq!(iso_utc(UNIX_EPOCH).as_str(), "1970-01-01T00:00:00+00:00");
        // A leap day, and the turn of a century that is a leap year.
        assert_eq!(
            iso_utc(UNIX_EPOCH + Duration::from_secs(951_782_400)).as_str(),
            "2000-02-29T00:00:00+00:00"
        );
        assert_eq!(
            iso_utc(UNIX_EPOCH + Duration::from_secs(4_107_542_399)).as_str(),
            "2100-02-28T23:59:59+00:00"
        );
    }

    #[test]
    fn an_incoming_request_gives_its_track_ids_and_authorization() {
        let mut headers = HeaderMap::new();
        headers.insert("x-track-session-id", HeaderValue::from_static("s-1"));
        headers.insert("x-track-request-id", HeaderValue::from_static("r-1"));
        headers.insert("x-other", HeaderValue::from_static("ignored"));
        headers.insert("authorization", HeaderValue::from_static("Basic abc"));
        let c = CallContext::from_headers(&headers);
        assert_eq!(c.track_id("track.session_id"), Some("s-1"));
        assert_eq!(c.track_id("track.request_id"), Some("r-1"));
        assert_eq!(c.track_ids().len(), 2);
        assert_eq!(c.authorization(), Some("Basic abc"));
    }

    #[test]
    fn later_track_ids_replace_earlier_ones_and_debug_hides_the_authorization() {
        let c = CallContext::new()
            .with_track_id("track.session_id", "a")
            .with_track_id("track.session_id", "b")
            .with_authorization("Bearer very-secret");
        assert_eq!(c.track_ids(), [("track.session_id".into(), "b".into())]);
        let shown = format!("{c:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
    }
}
