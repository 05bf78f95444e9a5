//! Responses, and decoding them the way hopeit's apps-client does.

use std::borrow::Cow;
use std::ops::{Deref, DerefMut};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::{DeserializeOwned, Error as _};
use serde_json::Value;

use crate::error::{Error, ErrorInfo};

/// A response of a 2xx or declared status, read whole.
///
/// Decode it with [`json`](Self::json) (a data object or a list), [`value`](Self::value) (a
/// plain value), [`auto`](Self::auto) (either, as hopeit decodes without knowing the type) or
/// [`json_for`](Self::json_for) (a declared alternative status).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RawResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// Base URL of the host that answered; empty for a response built by hand.
    pub host: String,
}

impl RawResponse {
    /// A response built by hand, e.g. to test decoding.
    pub fn new(status: StatusCode, headers: HeaderMap, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers,
            body: body.into(),
            host: String::new(),
        }
    }

    /// The media type of `content-type`, lower-cased, without parameters.
    pub fn content_type(&self) -> Option<String> {
        let value = self
            .headers
            .get(http::header::CONTENT_TYPE)?
            .to_str()
            .ok()?;
        let essence = value.split(';').next().unwrap_or(value).trim();
        Some(essence.to_ascii_lowercase())
    }

    /// The body as text, invalid UTF-8 replaced.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// The body's bytes, for binary responses.
    pub fn bytes(&self) -> Bytes {
        self.body.clone()
    }

    /// Decodes a JSON body: a data object, or a list of them.
    ///
    /// A 2xx body labelled neither JSON nor unlabelled is refused with
    /// [`Error::ContentType`], as hopeit's client refuses it. The body of any other status,
    /// one the call declared, is read as JSON whatever its label: hopeit labels the error
    /// bodies it declares (`{"msg": .., "tb": [..]}`) `text/plain`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        self.check_json()?;
        serde_json::from_slice(&self.body).map_err(|e| self.decode_error(e))
    }

    /// Decodes a plain value (`str`, integer, float, bool) of the target event `event`: hopeit
    /// sends one as `{"<event>": <value>}` (the name as in the manifest, dots kept), or as the
    /// whole body when it is `text/plain`.
    ///
    /// A declared status's `text/plain` body is read as JSON first, as [`json`](Self::json)
    /// reads it, and as the value itself when it is not of that shape.
    pub fn value<T: DeserializeOwned>(&self, event: &str) -> Result<T, Error> {
        if !self.is_text() {
            return self.value_in(self.json_value()?, event);
        }
        match self.declared_json() {
            Some(data) => self
                .value_in(data, event)
                .or_else(|e| self.text_value().map_err(|_| e)),
            None => self.text_value(),
        }
    }

    /// Decodes as hopeit's client does when it knows nothing of `T`'s shape: plain text is
    /// `{"<event>": text}`, a list is a list, and an object is `T` itself or, failing that, the
    /// plain value under `event`.
    ///
    /// A declared status's `text/plain` body is read as JSON first, as [`json`](Self::json)
    /// reads it, and as text when it is not of that shape.
    pub fn auto<T: DeserializeOwned>(&self, event: &str) -> Result<T, Error> {
        if !self.is_text() {
            return self.auto_in(&self.json_value()?, event);
        }
        match self.declared_json() {
            Some(data) => self
                .auto_in(&data, event)
                .or_else(|e| self.text_value().map_err(|_| e)),
            None => self.text_value(),
        }
    }

    /// Decodes the body of a declared alternative status as `T` (see [`json`](Self::json)):
    /// `Ok(None)` when the response has another status.
    pub fn json_for<T: DeserializeOwned>(&self, status: u16) -> Result<Option<T>, Error> {
        if self.status.as_u16() != status {
            return Ok(None);
        }
        self.json().map(Some)
    }

    /// The body parsed as hopeit's error body, when it is one.
    pub fn error_info(&self) -> Option<ErrorInfo> {
        ErrorInfo::parse(&self.body)
    }

    /// Decodes with [`json`](Self::json) into a typed [`Response`].
    pub fn into_json<T: DeserializeOwned>(self) -> Result<Response<T>, Error> {
        let value = self.json()?;
        Ok(self.respond(value))
    }

    /// Decodes with [`value`](Self::value) into a typed [`Response`].
    pub fn into_value<T: DeserializeOwned>(self, event: &str) -> Result<Response<T>, Error> {
        let value = self.value(event)?;
        Ok(self.respond(value))
    }

    /// The typed response: `value` with this response's status and headers.
    pub fn respond<T>(self, value: T) -> Response<T> {
        Response {
            status: self.status,
            headers: self.headers,
            value,
        }
    }

    fn is_text(&self) -> bool {
        self.content_type().as_deref() == Some("text/plain")
    }

    /// The body of a declared (non-2xx) status, when it is JSON.
    fn declared_json(&self) -> Option<Value> {
        if self.status.is_success() {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }

    fn json_value(&self) -> Result<Value, Error> {
        self.check_json()?;
        serde_json::from_slice(&self.body).map_err(|e| self.decode_error(e))
    }

    /// A plain value in a text body.
    fn text_value<T: DeserializeOwned>(&self) -> Result<T, Error> {
        // A number or a boolean in a text body reads as hopeit's lax parsing reads it.
        let text = self.text();
        T::deserialize(Value::String(text.clone().into_owned())).or_else(|e| {
            serde_json::from_str::<Value>(text.trim())
                .ok()
                .and_then(|v| T::deserialize(v).ok())
                .ok_or_else(|| self.decode_error(e))
        })
    }

    /// The plain value under `event` in a JSON body.
    fn value_in<T: DeserializeOwned>(&self, mut data: Value, event: &str) -> Result<T, Error> {
        let value = match data.get_mut(event) {
            Some(value) => value.take(),
            None => {
                let message = format!("expected an object with the key `{event}`");
                return Err(self.decode_error(serde_json::Error::custom(message)));
            }
        };
        T::deserialize(value).map_err(|e| self.decode_error(e))
    }

    /// `T` itself, or the plain value under `event`, in a JSON body.
    fn auto_in<T: DeserializeOwned>(&self, data: &Value, event: &str) -> Result<T, Error> {
        match T::deserialize(data) {
            Ok(value) => Ok(value),
            Err(whole) => match data.get(event) {
                Some(inner) => T::deserialize(inner).map_err(|e| self.decode_error(e)),
                None => Err(self.decode_error(whole)),
            },
        }
    }

    /// hopeit's client reads JSON only under `application/json` (or plain text, see
    /// [`value`](Self::value)); an unlabelled body is given the benefit of the doubt, and a
    /// declared status's body is JSON whatever its label.
    fn check_json(&self) -> Result<(), Error> {
        // A call returns a response of a 2xx status or of one it declared: a non-2xx one was
        // declared, and hopeit labels the error bodies it declares `text/plain`.
        if !self.status.is_success() {
            return Ok(());
        }
        // Compared in place: every decoded response passes here.
        let Some(value) = self.headers.get(http::header::CONTENT_TYPE) else {
            return Ok(());
        };
        let essence = value
            .as_bytes()
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default();
        let essence = essence.trim_ascii();
        let json = essence.eq_ignore_ascii_case(b"application/json")
            || essence
                .len()
                .checked_sub(5)
                .is_some_and(|at| essence[at..].eq_ignore_ascii_case(b"+json"));
        if json {
            return Ok(());
        }
        match self.content_type() {
            None => Ok(()),
            Some(content_type) => Err(Error::ContentType {
                status: self.status,
                content_type,
                body: self.body.clone(),
            }),
        }
    }

    fn decode_error(&self, source: serde_json::Error) -> Error {
        Error::Decode {
            status: self.status,
            body: self.body.clone(),
            source,
        }
    }
}

/// A decoded response: the value with the status and headers it came with. Dereferences to
/// the value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Response<T> {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The decoded body.
    pub value: T,
}

impl<T> Response<T> {
    /// The decoded body.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> Deref for Response<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Response<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use serde::Deserialize;

    use super::*;

    fn response(
        status: u16,
        content_type: Option<&'static str>,
        body: &'static str,
    ) -> RawResponse {
        let mut headers = HeaderMap::new();
        if let Some(t) = content_type {
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(t));
        }
        RawResponse::new(StatusCode::from_u16(status).expect("status"), headers, body)
    }

    const JSON: Option<&str> = Some("application/json; charset=utf-8");

    #[derive(Debug, PartialEq, Deserialize)]
    struct Thing {
        id: String,
    }

    #[test]
    fn objects_and_lists() {
        let one = response(200, JSON, r#"{"id": "a"}"#);
        assert_eq!(
            one.json::<Thing>().expect("object"),
            Thing { id: "a".into() }
        );
        let many = response(200, JSON, r#"[{"id": "a"}, {"id": "b"}]"#);
        assert_eq!(many.json::<Vec<Thing>>().expect("list").len(), 2);
        let typed = many.into_json::<Vec<Thing>>().expect("list");
        assert_eq!(typed.status, StatusCode::OK);
        assert_eq!(typed[1].id, "b");
    }

    #[test]
    fn plain_values_come_under_the_event_name_dots_kept() {
        let r = response(200, JSON, r#"{"ev.name": 3}"#);
        assert_eq!(r.value::<u32>("ev.name").expect("value"), 3);
        assert_eq!(*r.clone().into_value::<u32>("ev.name").expect("value"), 3);
        assert!(matches!(r.value::<u32>("ev"), Err(Error::Decode { .. })));
        let text = response(200, Some("text/plain; charset=utf-8"), "hello");
        assert_eq!(text.value::<String>("ev.name").expect("text"), "hello");
        let number = response(200, Some("text/plain"), "3\n");
        assert_eq!(number.value::<u32>("ev").expect("number"), 3);
        assert_eq!(number.value::<String>("ev").expect("as text"), "3\n");
        assert!(matches!(
            response(200, Some("text/plain"), "three").value::<u32>("ev"),
            Err(Error::Decode { .. })
        ));
        assert_eq!(
            response(200, None, r#"{"k": true}"#)
                .value::<bool>("k")
                .ok(),
            Some(true)
        );
    }

    #[test]
    fn auto_decodes_whatever_shape_comes() {
        let object = response(200, JSON, r#"{"id": "a"}"#);
        assert_eq!(
            object.auto::<Thing>("ev").expect("object"),
            Thing { id: "a".into() }
        );
        let list = response(200, JSON, r#"[{"id": "a"}]"#);
        assert_eq!(list.auto::<Vec<Thing>>("ev").expect("list").len(), 1);
        let plain = response(200, JSON, r#"{"ev": 7}"#);
        assert_eq!(plain.auto::<i64>("ev").expect("plain"), 7);
        let text = response(200, Some("text/plain"), "hi");
        assert_eq!(text.auto::<String>("ev").expect("text"), "hi");
        assert!(matches!(
            response(200, JSON, r#"{"other": 7}"#).auto::<i64>("ev"),
            Err(Error::Decode { .. })
        ));
        let binary = response(200, Some("application/octet-stream"), "\x00\x01");
        assert_eq!(binary.bytes().as_ref(), b"\x00\x01");
    }

    #[test]
    fn a_declared_alternative_decodes_to_its_own_type() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct NotFound {
            missing: String,
        }
        let r = response(404, JSON, r#"{"missing": "a"}"#);
        assert_eq!(
            r.json_for::<NotFound>(404).expect("decoded"),
            Some(NotFound {
                missing: "a".into()
            })
        );
        assert!(r.json_for::<NotFound>(409).expect("other status").is_none());
    }

    #[test]
    fn garbage_and_wrong_content_types_are_errors_that_keep_the_body() {
        let garbage = response(200, JSON, "{not json");
        match garbage.json::<Thing>() {
            Err(Error::Decode { status, body, .. }) => {
                assert_eq!(status, StatusCode::OK);
                assert_eq!(body, "{not json");
            }
            other => panic!("{other:?}"),
        }
        let html = response(200, Some("text/html"), "<html></html>");
        match html.json::<Thing>() {
            Err(Error::ContentType { content_type, .. }) => assert_eq!(content_type, "text/html"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hopeit_error_bodies_are_read_whatever_their_label() {
        let r = response(500, Some("text/plain"), r#"{"msg": "boom", "tb": []}"#);
        assert_eq!(r.error_info().map(|i| i.msg), Some("boom".into()));
    }

    #[test]
    fn a_declared_status_decodes_its_json_body_whatever_its_label() {
        // hopeit labels its error bodies text/plain.
        let failed = response(
            500,
            Some("text/plain; charset=utf-8"),
            r#"{"msg": "boom", "tb": ["RuntimeError: boom\n"]}"#,
        );
        let info = failed.json::<ErrorInfo>().expect("decoded");
        assert_eq!(info.msg, "boom");
        assert_eq!(info.tb, ["RuntimeError: boom\n"]);
        assert_eq!(
            failed.json_for::<ErrorInfo>(500).expect("decoded"),
            Some(info.clone())
        );
        assert_eq!(failed.auto::<ErrorInfo>("ev").expect("decoded"), info);
        let mislabelled = response(404, Some("text/html"), r#"{"id": "a"}"#);
        assert_eq!(
            mislabelled.json::<Thing>().expect("decoded"),
            Thing { id: "a".into() }
        );

        // A plain value comes under the event name, as in a 2xx JSON body.
        let plain = response(409, Some("text/plain"), r#"{"ev": 3}"#);
        assert_eq!(plain.value::<u32>("ev").expect("under the event"), 3);
        assert_eq!(plain.auto::<u32>("ev").expect("under the event"), 3);
        // A text body that is no JSON is still the value itself.
        let text = response(404, Some("text/plain"), "no such item");
        assert_eq!(text.value::<String>("ev").expect("text"), "no such item");
        assert_eq!(text.auto::<String>("ev").expect("text"), "no such item");
        let number = response(404, Some("text/plain"), "3");
        assert_eq!(number.value::<u32>("ev").expect("a number as text"), 3);

        // A body that is not what the declared type says is a decoding error with the body.
        match response(500, Some("text/plain"), "Internal Server Error").json::<ErrorInfo>() {
            Err(Error::Decode { status, body, .. }) => {
                assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
                assert_eq!(body, "Internal Server Error");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_2xx_body_labelled_other_than_json_is_still_refused_as_hopeit_refuses_it() {
        for content_type in ["text/plain", "text/html"] {
            match response(200, Some(content_type), r#"{"id": "a"}"#).json::<Thing>() {
                Err(Error::ContentType {
                    content_type: seen, ..
                }) => {
                    assert_eq!(seen, content_type)
                }
                other => panic!("{content_type}: {other:?}"),
            }
        }
    }
}
