//! One call to a target event: method, query, body, and how it may be retried.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde::Serialize;
use serde_json::Value;

use crate::context::CallContext;
use crate::error::Error;

/// The methods hopeit's event connections use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`: query arguments only; a body is never sent.
    Get,
    /// `POST`: query arguments and a JSON body.
    Post,
}

impl Method {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }

    pub(crate) fn to_http(self) -> http::Method {
        match self {
            Self::Get => http::Method::GET,
            Self::Post => http::Method::POST,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A JSON request body, encoded as hopeit's `Payload.to_json` encodes payloads.
#[derive(Clone, PartialEq, Eq)]
pub struct Body(Bytes);

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Body({} bytes)", self.0.len())
    }
}

impl Body {
    /// A data object, list or map, as its JSON.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, Error> {
        serde_json::to_vec(value)
            .map(|v| Self(v.into()))
            .map_err(|e| Error::InvalidRequest(format!("the body does not serialize: {e}")))
    }

    /// A plain `str`, integer, float or bool payload, wrapped as hopeit wraps one:
    /// `{"value": <v>}`.
    pub fn value<T: Serialize + ?Sized>(value: &T) -> Result<Self, Error> {
        #[derive(Serialize)]
        struct Wrapped<'a, T: ?Sized> {
            value: &'a T,
        }
        Self::json(&Wrapped { value })
    }

    /// No payload: `null`, what hopeit sends for a POST without one.
    pub fn null() -> Self {
        Self(Bytes::from_static(b"null"))
    }

    /// JSON that is already encoded, sent as is.
    pub fn from_json_bytes(json: impl Into<Bytes>) -> Self {
        Self(json.into())
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub(crate) fn bytes(&self) -> Bytes {
        self.0.clone()
    }
}

/// A value that can be a query argument.
///
/// Floats are written as Python writes them (`1.0`, `1e+16`), so a target sees the same text
/// from appwire as from a Python caller. Booleans are written `true` and `false`, the form an
/// OpenAPI-validating hopeit server parses (hopeit's own client cannot send them at all).
pub trait QueryValue {
    /// The value as it appears in the query, before URL encoding.
    fn to_query_value(&self) -> String;
}

impl QueryValue for str {
    fn to_query_value(&self) -> String {
        self.to_owned()
    }
}

impl QueryValue for String {
    fn to_query_value(&self) -> String {
        self.clone()
    }
}

impl<T: QueryValue + ?Sized> QueryValue for &T {
    fn to_query_value(&self) -> String {
        (**self).to_query_value()
    }
}

macro_rules! query_value_integers {
    ($($t:ty),*) => {$(
        impl QueryValue for $t {
            fn to_query_value(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

query_value_integers!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize
);

impl QueryValue for bool {
    fn to_query_value(&self) -> String {
        self.to_string()
    }
}

impl QueryValue for f64 {
    fn to_query_value(&self) -> String {
        python_float(format!("{self:?}"))
    }
}

impl QueryValue for f32 {
    fn to_query_value(&self) -> String {
        python_float(format!("{self:?}"))
    }
}

/// Rust's `{:?}` of a float picks decimal or exponent notation at the same bounds as Python's
/// `repr`; only the spelling of exponents and non-finite values differs.
fn python_float(debug: String) -> String {
    match debug.as_str() {
        "NaN" => return "nan".into(),
        "inf" | "-inf" => return debug,
        _ => {}
    }
    let Some((mantissa, exponent)) = debug.split_once('e') else {
        return debug;
    };
    let (sign, digits) = match exponent.strip_prefix('-') {
        Some(digits) => ('-', digits),
        None => ('+', exponent),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

/// One call: the target event, how to send it, and how it may be retried.
///
/// ```
/// use appwire::{Body, Request};
/// # fn main() -> Result<(), appwire::Error> {
/// let request = Request::post("save_something")
///     .query("id", "a+b&c")
///     .query("qty", 3)
///     .body(Body::json(&serde_json::json!({"name": "x"}))?)
///     .declare(404);
/// # let _ = request; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Request {
    /// Generated code names events with `&'static str`s, kept without a copy.
    pub(crate) event: Cow<'static, str>,
    pub(crate) method: Method,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Option<Body>,
    pub(crate) idempotent: Option<bool>,
    pub(crate) declared: Vec<StatusCode>,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) deadline: Option<Duration>,
    pub(crate) headers: HeaderMap,
    pub(crate) context: Option<CallContext>,
    /// Why the request cannot be sent, found while it was built.
    pub(crate) invalid: Option<String>,
}

impl Request {
    /// A call of `method` to the target event named `event` (as in the target's manifest,
    /// dots included).
    pub fn new(method: Method, event: impl Into<Cow<'static, str>>) -> Self {
        Self {
            event: event.into(),
            method,
            query: Vec::new(),
            body: None,
            idempotent: None,
            declared: Vec::new(),
            attempt_timeout: None,
            deadline: None,
            headers: HeaderMap::new(),
            context: None,
            invalid: None,
        }
    }

    /// A `GET` of `event`.
    pub fn get(event: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Method::Get, event)
    }

    /// A `POST` to `event`; without a [`body`](Self::body) it sends `null`, as hopeit does.
    pub fn post(event: impl Into<Cow<'static, str>>) -> Self {
        Self::new(Method::Post, event)
    }

    /// Adds a query argument. Arguments keep their order; a key may repeat.
    #[must_use]
    pub fn query(mut self, key: impl Into<String>, value: impl QueryValue) -> Self {
        self.query.push((key.into(), value.to_query_value()));
        self
    }

    /// Adds a query argument when there is one.
    #[must_use]
    pub fn query_opt(self, key: impl Into<String>, value: Option<impl QueryValue>) -> Self {
        match value {
            Some(value) => self.query(key, value),
            None => self,
        }
    }

    /// Adds a list argument as repeated keys (`tag=a&tag=b`), as hopeit sends lists.
    #[must_use]
    pub fn query_list<V: QueryValue>(
        mut self,
        key: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let key = key.into();
        self.query.extend(
            values
                .into_iter()
                .map(|v| (key.clone(), v.to_query_value())),
        );
        self
    }

    /// Adds `query` as query arguments: the fields of a struct or map, or a list of
    /// `(key, value)` pairs. Strings, numbers and booleans are written as
    /// [`query`](Self::query) writes them, a list as repeated keys, `None` left out.
    pub fn query_serialize<Q: Serialize + ?Sized>(mut self, query: &Q) -> Result<Self, Error> {
        let invalid = |why: String| Error::InvalidRequest(format!("query arguments: {why}"));
        let fields: Vec<(String, Value)> =
            match serde_json::to_value(query).map_err(|e| invalid(e.to_string()))? {
                Value::Object(fields) => fields.into_iter().collect(),
                Value::Null => return Ok(self),
                Value::Array(pairs) => pairs
                    .into_iter()
                    .map(|pair| match pair {
                        Value::Array(kv) => match <[Value; 2]>::try_from(kv) {
                            Ok([Value::String(k), v]) => Ok((k, v)),
                            _ => Err(invalid(
                                "expected (key, value) pairs with string keys".into(),
                            )),
                        },
                        _ => Err(invalid("expected (key, value) pairs".into())),
                    })
                    .collect::<Result<_, _>>()?,
                _ => {
                    return Err(invalid(
                        "expected a struct, a map or (key, value) pairs".into(),
                    ));
                }
            };
        for (key, value) in fields {
            let values = match value {
                Value::Array(values) => values,
                value => vec![value],
            };
            for value in values {
                let text = match value {
                    Value::Null => continue,
                    Value::String(s) => s,
                    Value::Bool(b) => b.to_query_value(),
                    Value::Number(n) => match n.as_f64() {
                        Some(f) if !n.is_i64() && !n.is_u64() => f.to_query_value(),
                        _ => n.to_string(),
                    },
                    Value::Array(_) | Value::Object(_) => {
                        return Err(invalid(format!("`{key}` is not a plain value or a list")));
                    }
                };
                self.query.push((key.clone(), text));
            }
        }
        Ok(self)
    }

    /// Sets the body. A `GET` never sends one, as hopeit ignores the payload of a `GET`.
    #[must_use]
    pub fn body(mut self, body: Body) -> Self {
        self.body = Some(body);
        self
    }

    /// Sets the body to a data object, list or map: [`Body::json`].
    pub fn json_body<T: Serialize + ?Sized>(self, value: &T) -> Result<Self, Error> {
        Ok(self.body(Body::json(value)?))
    }

    /// Sets the body to a plain value, wrapped as `{"value": ..}`: [`Body::value`].
    pub fn value_body<T: Serialize + ?Sized>(self, value: &T) -> Result<Self, Error> {
        Ok(self.body(Body::value(value)?))
    }

    /// Whether the event is safe to repeat after an ambiguous failure (a timeout, a reset
    /// connection). By default a `GET` is, and a `POST` only when the connection lists the
    /// event in `idempotent_events`.
    #[must_use]
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// Declares a status the target answers with a typed alternative (hopeit's
    /// `responses={404: T}`): it is returned as a response, counts as a success for the
    /// circuit breaker and is never retried.
    #[must_use]
    pub fn declare(mut self, status: u16) -> Self {
        if let Ok(status) = StatusCode::from_u16(status) {
            self.declared.push(status);
        }
        self
    }

    /// Bounds each attempt of this call, instead of the connection's `attempt_timeout_ms`.
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// Bounds the whole call, retries and backoff included, instead of the connection's
    /// `deadline_ms`.
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Adds a header; it replaces a computed one of the same name, except `authorization`
    /// when the connection authenticates and the HMAC signature headers.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        add_header(&mut self.headers, name, value);
        self
    }

    /// Adds a header parameter of the target's spec, such as a required track header; a value
    /// that cannot be a header fails the call when it is sent.
    #[must_use]
    pub fn header_param(mut self, name: &'static str, value: &str) -> Self {
        let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
            self.invalid
                .get_or_insert_with(|| format!("`{name}` is not a valid header name"));
            return self;
        };
        match HeaderValue::from_str(value) {
            Ok(value) => self.header(header, value),
            Err(_) => {
                self.invalid.get_or_insert_with(|| {
                    format!("the value of `{name}` is not a valid header value")
                });
                self
            }
        }
    }

    /// Sets the calling side's context: track ids, the caller event, a forwarded
    /// `Authorization`.
    #[must_use]
    pub fn context(mut self, context: CallContext) -> Self {
        self.context = Some(context);
        self
    }

    /// Applies `options` where this request sets nothing itself: timeouts, context, and the
    /// headers it does not set.
    #[must_use]
    pub fn with_options(mut self, options: &CallOptions) -> Self {
        self.attempt_timeout = self.attempt_timeout.or(options.attempt_timeout);
        self.deadline = self.deadline.or(options.deadline);
        if self.context.is_none() {
            self.context.clone_from(&options.context);
        }
        for (name, value) in &options.headers {
            if !self.headers.contains_key(name) {
                self.headers.append(name, value.clone());
            }
        }
        self
    }

    /// The target event.
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The query arguments, in order.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    /// The declared statuses.
    pub fn declared(&self) -> &[StatusCode] {
        &self.declared
    }

    /// The call context, if one was set.
    pub fn call_context(&self) -> Option<&CallContext> {
        self.context.as_ref()
    }
}

/// Options shared by many calls, such as those of one generated client: applied with
/// [`Request::with_options`] or by a [`Client`](crate::Client), under
/// whatever a request sets itself.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// Bound of each attempt, instead of the connection's `attempt_timeout_ms`.
    pub attempt_timeout: Option<Duration>,
    /// Bound of each call, instead of the connection's `deadline_ms`.
    pub deadline: Option<Duration>,
    /// Headers added to each call (see [`Request::header`]).
    pub headers: HeaderMap,
    /// The calling side's context.
    pub context: Option<CallContext>,
}

impl CallOptions {
    /// No options: the connection's settings apply.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`attempt_timeout`](Self::attempt_timeout).
    #[must_use]
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// Sets [`deadline`](Self::deadline).
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        add_header(&mut self.headers, name, value);
        self
    }

    /// Sets [`context`](Self::context).
    #[must_use]
    pub fn context(mut self, context: CallContext) -> Self {
        self.context = Some(context);
        self
    }
}

/// Appends a header, marking credentials sensitive so that `Debug` never shows them.
fn add_header(headers: &mut HeaderMap, name: HeaderName, mut value: HeaderValue) {
    if is_secret(&name) {
        value.set_sensitive(true);
    }
    headers.append(name, value);
}

/// Headers that carry credentials.
fn is_secret(name: &HeaderName) -> bool {
    name == http::header::AUTHORIZATION
        || name == http::header::PROXY_AUTHORIZATION
        || name == http::header::COOKIE
        || name.as_str().contains("token")
        || name.as_str().contains("secret")
        || name.as_str().contains("api-key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_encoded_as_hopeit_encodes_payloads() {
        #[derive(Serialize)]
        struct Thing {
            id: String,
            qty: u32,
        }
        let thing = Thing {
            id: "a".into(),
            qty: 3,
        };
        assert_eq!(
            Body::json(&thing).expect("json").as_bytes(),
            br#"{"id":"a","qty":3}"#
        );
        assert_eq!(Body::json(&[1, 2]).expect("json").as_bytes(), b"[1,2]");
        assert_eq!(
            Body::value("x").expect("json").as_bytes(),
            br#"{"value":"x"}"#
        );
        assert_eq!(Body::value(&7).expect("json").as_bytes(), br#"{"value":7}"#);
        assert_eq!(
            Body::value(&1.0).expect("json").as_bytes(),
            br#"{"value":1.0}"#
        );
        assert_eq!(
            Body::value(&true).expect("json").as_bytes(),
            br#"{"value":true}"#
        );
        assert_eq!(Body::null().as_bytes(), b"null");
    }

    #[test]
    fn a_body_that_does_not_serialize_is_an_error() {
        let map = std::collections::BTreeMap::from([((1, 2), 3)]);
        assert!(matches!(Body::json(&map), Err(Error::InvalidRequest(_))));
    }

    #[test]
    fn floats_are_written_as_python_writes_them() {
        let cases = [
            (1.0, "1.0"),
            (0.5, "0.5"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (2.5e20, "2.5e+20"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123456789012345.6, "123456789012345.6"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for (value, python) in cases {
            assert_eq!(value.to_query_value(), python, "{value:?}");
        }
    }

    #[test]
    fn lists_become_repeated_keys_in_order() {
        let r = Request::get("e")
            .query("a", "x")
            .query_list("tag", ["p", "q"])
            .query("n", 3u8)
            .query("r", 0.5);
        let pairs: Vec<(&str, &str)> = r
            .query_pairs()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("a", "x"),
                ("tag", "p"),
                ("tag", "q"),
                ("n", "3"),
                ("r", "0.5")
            ]
        );
    }

    #[test]
    fn structs_serialize_to_query_arguments() {
        #[derive(Serialize)]
        struct Query {
            name: &'static str,
            qty: u32,
            ratio: f64,
            whole: f64,
            on: bool,
            tags: Vec<&'static str>,
            missing: Option<u32>,
        }
        let r = Request::get("e")
            .query_serialize(&Query {
                name: "a b",
                qty: 3,
                ratio: 0.5,
                whole: 2.0,
                on: true,
                tags: vec!["x", "y"],
                missing: None,
            })
            .expect("serialized");
        let pairs: Vec<(&str, &str)> = r
            .query_pairs()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("name", "a b"),
                ("qty", "3"),
                ("ratio", "0.5"),
                ("whole", "2.0"),
                ("on", "true"),
                ("tags", "x"),
                ("tags", "y")
            ]
        );
        assert!(Request::get("e").query_serialize(&()).is_ok());
        assert!(matches!(
            Request::get("e").query_serialize(&[1, 2]),
            Err(Error::InvalidRequest(_))
        ));
        let nested = serde_json::json!({"a": {"b": 1}});
        assert!(Request::get("e").query_serialize(&nested).is_err());
        let pairs = Request::get("e")
            .query_serialize(&[("b", "2"), ("a", "1"), ("b", "3")])
            .expect("pairs");
        let pairs: Vec<(&str, &str)> = pairs
            .query_pairs()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(pairs, [("b", "2"), ("a", "1"), ("b", "3")]);
    }

    #[test]
    fn options_fill_in_what_a_request_does_not_set() {
        let options = CallOptions::new()
            .attempt_timeout(Duration::from_secs(1))
            .deadline(Duration::from_secs(9))
            .header(
                HeaderName::from_static("x-a"),
                HeaderValue::from_static("options"),
            )
            .header(
                HeaderName::from_static("x-b"),
                HeaderValue::from_static("options"),
            )
            .context(CallContext::new().with_event_name("from-options"));
        let r = Request::get("e")
            .deadline(Duration::from_secs(2))
            .header(
                HeaderName::from_static("x-a"),
                HeaderValue::from_static("request"),
            )
            .with_options(&options);
        assert_eq!(r.attempt_timeout, Some(Duration::from_secs(1)));
        assert_eq!(r.deadline, Some(Duration::from_secs(2)));
        assert_eq!(
            r.headers.get("x-a").map(|v| v.as_bytes()),
            Some(&b"request"[..])
        );
        assert_eq!(
            r.headers.get("x-b").map(|v| v.as_bytes()),
            Some(&b"options"[..])
        );
        assert_eq!(
            r.call_context().and_then(CallContext::event_name),
            Some("from-options")
        );
        let own = Request::get("e")
            .context(CallContext::new().with_event_name("own"))
            .with_options(&options);
        assert_eq!(
            own.call_context().and_then(CallContext::event_name),
            Some("own")
        );
    }

    #[test]
    fn an_authorization_header_is_redacted_from_debug() {
        let r = Request::get("e").header(
            http::header::AUTHORIZATION,
            HeaderValue::from_static("Bearer hush"),
        );
        let shown = format!("{r:?}");
        assert!(!shown.contains("hush"), "{shown}");
    }
}
