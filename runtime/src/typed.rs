//! What every generated client shares: the [`Client`] handle a generated client wraps, and the
//! [`Call`] each of its methods returns.
//!
//! A generated method states only what is particular to its event (the request, and how its
//! answer decodes); sending, per-call options and decoding are written once, here.

use std::borrow::Cow;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use appwire_manifest::env::{Lookup, ProcessEnv};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use serde::de::DeserializeOwned;

use crate::config::Parts;
use crate::connection::{Connection, ConnectionBuilder};
use crate::context::CallContext;
use crate::error::Error;
use crate::request::{CallOptions, Request};
use crate::response::{RawResponse, Response};

/// A generated client's handle: the [`Connection`] its calls go through (or a stand-in for
/// tests) and the [`CallOptions`] they use. Cloning it is cheap.
#[derive(Clone, Debug)]
pub struct Client {
    connection: Connection,
    options: CallOptions,
}

impl From<Connection> for Client {
    fn from(connection: Connection) -> Self {
        Self::new(connection)
    }
}

impl Client {
    /// Calls go through `connection`.
    pub fn new(connection: Connection) -> Self {
        Self {
            connection,
            options: CallOptions::default(),
        }
    }

    /// Calls are answered by `answer`, for tests of code that uses a generated client: a
    /// client of [`Connection::stand_in`].
    ///
    /// ```
    /// use appwire::{Client, RawResponse, StatusCode};
    ///
    /// # fn main() -> Result<(), appwire::Error> {
    /// let client = Client::stand_in(|request| {
    ///     assert_eq!(request.event(), "list_somethings");
    ///     RawResponse::from_json(StatusCode::OK, &["a", "b"])
    /// })?;
    /// # let _ = client; Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Connection::stand_in`].
    pub fn stand_in(
        answer: impl Fn(Request) -> Result<RawResponse, Error> + Send + Sync + 'static,
    ) -> Result<Self, Error> {
        Connection::stand_in(answer).map(Self::new)
    }

    /// The connection calls go through: its hosts' state, for metrics.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The options each call uses.
    pub fn options(&self) -> &CallOptions {
        &self.options
    }

    /// This client with `options` for each call, under what a call sets itself.
    #[must_use]
    pub fn with_options(&self, options: CallOptions) -> Self {
        Self {
            connection: self.connection.clone(),
            options,
        }
    }

    /// The client of a generated connection, with the manifest's settings and `${VAR}`s read
    /// from the process environment.
    #[doc(hidden)]
    pub fn from_env(parts: &Parts) -> Result<Self, Error> {
        Connection::from_parts(parts, &ProcessEnv).map(Self::new)
    }

    /// A builder of a generated connection, with the manifest's settings and `${VAR}`s read
    /// from `env`.
    #[doc(hidden)]
    pub fn builder(parts: &Parts, env: &dyn Lookup) -> Result<ConnectionBuilder, Error> {
        parts.builder_from(env)
    }

    /// A call whose 2xx answer is JSON: a data object, a list or a map.
    #[doc(hidden)]
    pub fn json<R: DeserializeOwned>(&self, request: impl IntoRequest) -> Call<R> {
        self.call(request, |raw, _| raw.json())
    }

    /// A call whose 2xx answer is a plain value (`{"<event>": v}`, or plain text).
    #[doc(hidden)]
    pub fn value<R: DeserializeOwned>(&self, request: impl IntoRequest) -> Call<R> {
        self.call(request, RawResponse::value)
    }

    /// A call whose 2xx answer is taken as bytes.
    #[doc(hidden)]
    pub fn bytes(&self, request: impl IntoRequest) -> Call<Bytes> {
        self.call(request, |raw, _| Ok(raw.bytes()))
    }

    /// A call whose answer's type is unknown: decoded as hopeit does ([`RawResponse::auto`]).
    #[doc(hidden)]
    pub fn auto<R: DeserializeOwned>(&self, request: impl IntoRequest) -> Call<R> {
        self.call(request, RawResponse::auto)
    }

    /// A call with declared statuses, answered by the enum `R` of its responses.
    #[doc(hidden)]
    pub fn declared<R: Declared>(&self, request: impl IntoRequest) -> Call<R> {
        let request = request.into_request().map(|mut r| {
            r.declared.extend(
                R::STATUSES
                    .iter()
                    .filter_map(|s| StatusCode::from_u16(*s).ok()),
            );
            r
        });
        self.call(request, R::decode)
    }

    fn call<R>(&self, request: impl IntoRequest, decode: Decoder<R>) -> Call<R> {
        Call {
            connection: self.connection.clone(),
            request: request
                .into_request()
                .map(|r| r.with_options(&self.options)),
            decode,
        }
    }
}

/// How a response decodes: the response and the target event's name.
type Decoder<R> = fn(&RawResponse, &str) -> Result<R, Error>;

/// A request, or why it could not be made (a body that does not serialize).
#[doc(hidden)]
pub trait IntoRequest {
    /// The request.
    fn into_request(self) -> Result<Request, Error>;
}

impl IntoRequest for Request {
    fn into_request(self) -> Result<Request, Error> {
        Ok(self)
    }
}

impl IntoRequest for Result<Request, Error> {
    fn into_request(self) -> Result<Request, Error> {
        self
    }
}

/// The enum of an event's answers: its 2xx response and the statuses it declares.
#[doc(hidden)]
pub trait Declared: Sized {
    /// The declared statuses.
    const STATUSES: &'static [u16];
    /// Decodes a response of a 2xx or declared status.
    fn decode(raw: &RawResponse, event: &str) -> Result<Self, Error>;
}

/// One call of a generated client, ready to send: `.await` it for its typed [`Response`], or
/// set options for this call alone first.
///
/// ```no_run
/// # async fn run(client: appwire::Client) -> Result<(), appwire::Error> {
/// # let call: appwire::Call<String> = client.value(appwire::Request::get("e"));
/// use std::time::Duration;
/// let answer = call.deadline(Duration::from_secs(2)).await?;
/// # let _ = answer; Ok(()) }
/// ```
#[must_use = "a call does nothing until it is awaited"]
pub struct Call<R> {
    connection: Connection,
    request: Result<Request, Error>,
    decode: Decoder<R>,
}

impl<R> fmt::Debug for Call<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

impl<R> Call<R> {
    /// Bounds each attempt of this call.
    pub fn attempt_timeout(self, timeout: Duration) -> Self {
        self.map(|r| r.attempt_timeout(timeout))
    }

    /// Bounds this call, retries and backoff included.
    pub fn deadline(self, deadline: Duration) -> Self {
        self.map(|r| r.deadline(deadline))
    }

    /// Sets a header of this call, replacing one of the client's options.
    pub fn header(self, name: HeaderName, value: HeaderValue) -> Self {
        self.map(|mut r| {
            r.headers.remove(&name);
            r.header(name, value)
        })
    }

    /// Sets the calling side's context of this call: track ids, the caller event.
    pub fn context(self, context: CallContext) -> Self {
        self.map(|r| r.context(context))
    }

    /// Whether this call is safe to repeat after an ambiguous failure
    /// ([`Request::idempotent`]).
    pub fn idempotent(self, idempotent: bool) -> Self {
        self.map(|r| r.idempotent(idempotent))
    }

    /// The request this call sends, or why it cannot be made.
    pub fn request(&self) -> Result<&Request, &Error> {
        self.request.as_ref()
    }

    fn map(mut self, f: impl FnOnce(Request) -> Request) -> Self {
        self.request = self.request.map(f);
        self
    }
}

impl<R: Send + 'static> IntoFuture for Call<R> {
    type Output = Result<Response<R>, Error>;
    type IntoFuture = Answer<R>;

    fn into_future(self) -> Answer<R> {
        let (event, sent): (Cow<'static, str>, Sent) = match self.request {
            Err(e) => (Cow::Borrowed(""), Box::pin(std::future::ready(Err(e)))),
            Ok(request) => {
                let event = request.event.clone();
                let connection = self.connection;
                let sent: Sent = Box::pin(async move { connection.send(request).await });
                (event, sent)
            }
        };
        Answer {
            sent,
            event,
            decode: self.decode,
        }
    }
}

type Sent = Pin<Box<dyn Future<Output = Result<RawResponse, Error>> + Send>>;

/// The future of an awaited [`Call`].
#[must_use = "futures do nothing unless polled"]
pub struct Answer<R> {
    sent: Sent,
    event: Cow<'static, str>,
    decode: Decoder<R>,
}

impl<R> fmt::Debug for Answer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer")
            .field("event", &self.event)
            .finish_non_exhaustive()
    }
}

impl<R> Future for Answer<R> {
    type Output = Result<Response<R>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let raw = match self.sent.as_mut().poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(raw) => raw?,
        };
        let value = (self.decode)(&raw, &self.event)?;
        Poll::Ready(Ok(raw.respond(value)))
    }
}

impl RawResponse {
    /// A response with `value` as its JSON body, e.g. the answer of a
    /// [stand-in](Client::stand_in).
    pub fn from_json(status: StatusCode, value: &impl serde::Serialize) -> Result<Self, Error> {
        let body = serde_json::to_vec(value)
            .map_err(|e| Error::InvalidRequest(format!("the response does not serialize: {e}")))?;
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok(Self::new(status, headers, body))
    }
}

/// The constructors and accessors of a generated client type `$name`, a newtype of [`Client`]
/// with a `PARTS` const: written once here, not once per connection.
#[doc(hidden)]
#[macro_export]
macro_rules! __client {
    ($name:ident) => {
        impl $name {
            /// The client with the manifest's settings, `${VAR}`s read from the environment.
            pub fn from_env() -> ::core::result::Result<Self, $crate::Error> {
                $crate::Client::from_env(&Self::PARTS).map(Self)
            }

            /// Its connection with the manifest's settings, `${VAR}`s read from `env`, to adjust
            /// (settings, a hopeit server config) before it is built and given to
            /// [`new`](Self::new).
            pub fn builder(
                env: &dyn $crate::Lookup,
            ) -> ::core::result::Result<$crate::ConnectionBuilder, $crate::Error> {
                $crate::Client::builder(&Self::PARTS, env)
            }

            /// A client calling through a connection, or through a stand-in for tests
            /// (`Client::stand_in`).
            pub fn new(client: impl ::core::convert::Into<$crate::Client>) -> Self {
                Self(client.into())
            }

            /// This client with `options` for each of its calls.
            #[must_use]
            pub fn with_options(&self, options: $crate::CallOptions) -> Self {
                Self(self.0.with_options(options))
            }

            /// The runtime's client: the connection (its hosts' state) and the options.
            pub fn client(&self) -> &$crate::Client {
                &self.0
            }
        }
    };
}
