//! One call: the request is prepared once, then attempted host after host until an outcome is
//! final, the attempts or the budget run out, or the deadline passes.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use reqwest::Url;
use tokio::time::Instant;
use tracing::{Instrument, field};

use crate::breaker::Verdict;
use crate::connection::{Connection, Inner};
use crate::context::{CallContext, Inline, REQUEST_ID, REQUEST_TS, iso_utc, track_header, uuid_v4};
use crate::error::{Error, ErrorResponse, TransportKind};
use crate::pool::Attempt;
use crate::request::{Body, Method, Request};
use crate::response::RawResponse;
use crate::retry::{Decision, GiveUp, Idempotency, Outcome, RetryPolicy, parse_retry_after};
use crate::signing::RequestParts;
use crate::stale::MAX_REPLAYS;

impl Connection {
    /// Makes a call: attempts it on the connection's hosts, retrying what is safe to retry,
    /// and returns the first response of a 2xx or declared status.
    ///
    /// Every other outcome is an [`Error`]: see there for each cause. The call runs in a
    /// `appwire.call` tracing span, each attempt in an `appwire.attempt` span.
    pub async fn send(&self, request: Request) -> Result<RawResponse, Error> {
        if let Some(answer) = &self.inner.stand_in {
            let declared = request.declared.clone();
            return answer(request).and_then(|raw| admitted(raw, &declared));
        }
        let span = tracing::info_span!(
            "appwire.call",
            connection = %self.inner.name,
            event = %request.event,
            method = %request.method,
        );
        self.inner.call(request).instrument(span).await
    }
}

/// A stand-in's response as a connection returns one of a host: a 2xx or declared status, or
/// the error a host's answer of that status is.
fn admitted(raw: RawResponse, declared: &[StatusCode]) -> Result<RawResponse, Error> {
    if raw.status.is_success() || declared.contains(&raw.status) {
        return Ok(raw);
    }
    let response = Box::new(ErrorResponse::new(
        &raw.host,
        raw.status,
        raw.headers,
        raw.body,
    ));
    Err(match response.status {
        StatusCode::UNAUTHORIZED => Error::Unauthorized(response),
        _ => Error::Status(response),
    })
}

/// `x-track-*` headers every call sends: `track_header` of their keys, spelled out.
const X_TRACK_REQUEST_ID: HeaderName = HeaderName::from_static("x-track-request-id");
const X_TRACK_REQUEST_TS: HeaderName = HeaderName::from_static("x-track-request-ts");
const X_TRACK_CLIENT_APP_KEY: HeaderName = HeaderName::from_static("x-track-client-app-key");
const X_TRACK_CLIENT_EVENT_NAME: HeaderName = HeaderName::from_static("x-track-client-event-name");

/// Events whose URLs a connection keeps; URLs of further events are parsed at each call.
const URL_CACHE_EVENTS: usize = 1024;

/// Each host's URL of the events called so far (`host + route`), parsed once: parsing a URL
/// costs as much as the rest of a call's preparation.
#[derive(Debug, Default)]
pub(crate) struct EventUrls(RwLock<HashMap<String, Arc<[Url]>>>);

/// What every attempt of a call sends, computed once.
struct Prepared {
    method: Method,
    /// The event's URL on each host, in the pool's order.
    urls: Arc<[Url]>,
    query: Vec<(String, String)>,
    /// `x-track-request-id` and `x-track-request-ts`, unless the context has them.
    request_id: Option<Inline<36>>,
    request_ts: Option<Inline<32>>,
    /// Headers the request set itself, over the others.
    extra: HeaderMap,
    body: Option<Bytes>,
    declared: Vec<StatusCode>,
    context: CallContext,
    idempotency: Idempotency,
}

/// How one attempt ended.
struct Ended {
    outcome: Outcome,
    result: Result<RawResponse, Error>,
    /// What the host's breaker is told; `None` for an attempt that never started.
    verdict: Option<Verdict>,
    /// `Retry-After` of a 429 or 503.
    retry_after: Option<Duration>,
    /// No retry, whatever the outcome says.
    is_final: bool,
}

impl Ended {
    fn done(
        outcome: Outcome,
        result: Result<RawResponse, Error>,
        verdict: Option<Verdict>,
    ) -> Self {
        Self {
            outcome,
            result,
            verdict,
            retry_after: None,
            is_final: true,
        }
    }

    /// The attempt could not even be made: the request cannot be encoded or authenticated.
    fn not_started(error: Error) -> Self {
        Self {
            outcome: Outcome::NotSent,
            result: Err(error),
            verdict: None,
            retry_after: None,
            is_final: true,
        }
    }

    fn transport(host: &str, source: reqwest::Error) -> Self {
        if source.is_builder() {
            return Self::not_started(Error::InvalidRequest(source.to_string()));
        }
        // Connect errors (refused, DNS, TLS, connect timeout) are raised before the request
        // is written; anything later may have reached the server.
        let (outcome, kind) = if source.is_connect() {
            (Outcome::NotSent, TransportKind::NotSent)
        } else {
            (Outcome::Ambiguous, TransportKind::Ambiguous)
        };
        Self {
            outcome,
            result: Err(Error::Transport {
                host: host.to_owned(),
                kind,
                source,
            }),
            verdict: Some(Verdict::Failure),
            retry_after: None,
            is_final: false,
        }
    }
}

impl Inner {
    async fn call(&self, request: Request) -> Result<RawResponse, Error> {
        let idempotency = self.idempotency(&request);
        let attempt_timeout = request.attempt_timeout.unwrap_or(self.attempt_timeout);
        let policy = match request.deadline {
            Some(deadline) => Cow::Owned(RetryPolicy {
                deadline,
                ..self.policy.clone()
            }),
            None => Cow::Borrowed(&self.policy),
        };
        let mut call = self.prepare(request)?;
        call.idempotency = idempotency;
        // The first attempt's headers, built now so that a value that cannot be sent fails the
        // call before any host is chosen; a later attempt builds its own.
        let mut headers = Some(self.headers(&call)?);

        let mut state = policy.begin(idempotency, self.budget.as_ref(), Instant::now());
        // A retry goes to another host than the one that just failed, when one admits it.
        let mut failed: Option<(usize, Error)> = None;
        loop {
            let attempt = match self.pool.select_avoiding(failed.as_ref().map(|(i, _)| *i)) {
                Ok(attempt) => attempt,
                Err(e) => {
                    return Err(match failed {
                        // The hosts opened under this very call: its last real error says why.
                        Some((_, last)) => {
                            let attempts = state.attempts();
                            give_up(GiveUp::AttemptsExhausted, attempts, last, policy.deadline)
                        }
                        None => Error::NoHealthyHost {
                            connection: self.name.clone(),
                            reopens_at: e.reopens_at,
                        },
                    });
                }
            };
            let host_index = attempt.index();
            let number = state.attempts().saturating_add(1);
            let timeout = attempt_timeout.min(state.remaining(Instant::now()));
            let ended = self
                .traced_attempt(&attempt, number, &call, headers.take(), timeout)
                .await;
            match ended.verdict {
                Some(verdict) => attempt.report(verdict),
                None => drop(attempt),
            }

            let error = match ended.result {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            if ended.is_final {
                return Err(error);
            }
            // An attempt cut short by the deadline rather than by its own timeout ends the
            // call: whatever the method, no time is left to retry it.
            if timeout < attempt_timeout && matches!(error, Error::AttemptTimeout { .. }) {
                return Err(give_up(
                    GiveUp::DeadlineExceeded,
                    number,
                    error,
                    policy.deadline,
                ));
            }
            // `Retry-After` is the host's own word: it delays a retry only when there is no other
            // host to go to.
            let retry_after = ended.retry_after.filter(|_| self.pool.urls().len() == 1);
            let decision = state.decide(
                ended.outcome,
                retry_after,
                Instant::now(),
                &mut fastrand::Rng::new(),
            );
            match decision {
                Decision::Return => return Err(error),
                Decision::Retry { delay } => {
                    tracing::warn!(
                        attempt = state.attempts(),
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        cause = %error,
                        "retrying",
                    );
                    tokio::time::sleep(delay).await;
                    failed = Some((host_index, error));
                }
                Decision::GiveUp(reason) => {
                    return Err(give_up(reason, state.attempts(), error, policy.deadline));
                }
            }
        }
    }

    /// Whether repeating the request is safe: a GET, an event marked idempotent in the
    /// settings, or whatever the request itself says.
    fn idempotency(&self, request: &Request) -> Idempotency {
        let idempotent = request.idempotent.unwrap_or_else(|| {
            request.method == Method::Get || self.idempotent_events.contains(request.event.as_ref())
        });
        if idempotent {
            Idempotency::Idempotent
        } else {
            Idempotency::NonIdempotent
        }
    }

    /// One attempt on `attempt`'s host, in its own span.
    async fn traced_attempt(
        &self,
        attempt: &Attempt<'_>,
        number: u32,
        call: &Prepared,
        headers: Option<HeaderMap>,
        timeout: Duration,
    ) -> Ended {
        let host = attempt.url();
        let span = tracing::info_span!(
            "appwire.attempt",
            host,
            attempt = number,
            status = field::Empty,
            elapsed_ms = field::Empty,
        );
        let started = Instant::now();
        let ended = self
            .attempt(host, attempt.index(), call, headers, timeout)
            .instrument(span.clone())
            .await;
        span.record(
            "elapsed_ms",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        if let Outcome::Responded(status) = ended.outcome {
            span.record("status", status);
        }
        ended
    }

    /// What every attempt of a call sends, computed once: the route, the request id and time,
    /// the body; each attempt builds its headers from it.
    fn prepare(&self, request: Request) -> Result<Prepared, Error> {
        if let Some(why) = request.invalid {
            return Err(Error::InvalidRequest(why));
        }
        let Request {
            event,
            method,
            query,
            body,
            declared,
            headers: extra,
            context,
            ..
        } = request;
        let context = context.unwrap_or_default();
        // Fail before any attempt when the call cannot be authenticated at all.
        self.auth.header(&context)?;
        let request_id = context.track_id(REQUEST_ID).is_none().then(uuid_v4);
        let request_ts = context
            .track_id(REQUEST_TS)
            .is_none()
            .then(|| iso_utc(SystemTime::now()));

        let body = match method {
            Method::Get => None,
            Method::Post => Some(body.unwrap_or_else(Body::null).bytes()),
        };
        Ok(Prepared {
            urls: self.event_urls(&event)?,
            method,
            query,
            request_id,
            request_ts,
            extra,
            body,
            declared,
            context,
            idempotency: Idempotency::NonIdempotent,
        })
    }

    /// The headers of one attempt, but its own (auth, signature): built for each, rather than
    /// kept and copied, since the first attempt is usually the only one.
    fn headers(&self, call: &Prepared) -> Result<HeaderMap, Error> {
        let mut headers = HeaderMap::with_capacity(8);
        for (key, value) in call.context.track_ids() {
            insert(&mut headers, &track_header(key), value)?;
        }
        if let Some(id) = &call.request_id {
            insert_value(&mut headers, X_TRACK_REQUEST_ID, id.as_str())?;
        }
        if let Some(ts) = &call.request_ts {
            insert_value(&mut headers, X_TRACK_REQUEST_TS, ts.as_str())?;
        }
        headers.insert(X_TRACK_CLIENT_APP_KEY, self.caller_header.clone());
        if let Some(caller_event) = call.context.event_name() {
            insert_value(&mut headers, X_TRACK_CLIENT_EVENT_NAME, caller_event)?;
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for name in call.extra.keys() {
            headers.remove(name);
        }
        for (name, value) in &call.extra {
            headers.append(name, value.clone());
        }
        Ok(headers)
    }

    /// Each host's URL of `event`: parsed at its first call, then kept.
    fn event_urls(&self, event: &str) -> Result<Arc<[Url]>, Error> {
        let cache = &self.urls.0;
        if let Some(urls) = cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(event)
        {
            return Ok(Arc::clone(urls));
        }
        let route = self.route(event);
        let urls = self
            .pool
            .urls()
            .iter()
            .map(|host| parse_url(host, &route))
            .collect::<Result<Arc<[Url]>, Error>>()?;
        let mut cache = cache.write().unwrap_or_else(PoisonError::into_inner);
        if cache.len() < URL_CACHE_EVENTS {
            cache.insert(event.to_owned(), Arc::clone(&urls));
        }
        Ok(urls)
    }

    async fn attempt(
        &self,
        host: &str,
        index: usize,
        call: &Prepared,
        headers: Option<HeaderMap>,
        timeout: Duration,
    ) -> Ended {
        let request = match self.request(host, index, call, headers) {
            Ok(request) => request,
            Err(error) => return Ended::not_started(error),
        };
        match tokio::time::timeout(timeout, self.exchange(host, index, request, call)).await {
            Ok(ended) => ended,
            Err(_) => Ended {
                outcome: Outcome::Ambiguous,
                result: Err(Error::AttemptTimeout {
                    host: host.to_owned(),
                    timeout,
                }),
                verdict: Some(Verdict::Failure),
                retry_after: None,
                is_final: false,
            },
        }
    }

    /// The request of one attempt on host `index`: its URL, headers (`headers` when built
    /// already) and body, authenticated and signed for this attempt.
    fn request(
        &self,
        host: &str,
        index: usize,
        call: &Prepared,
        headers: Option<HeaderMap>,
    ) -> Result<reqwest::Request, Error> {
        let url = match call.urls.get(index) {
            Some(base) => with_query(base, &call.query),
            None => return Err(Error::InvalidRequest(format!("no URL for host {host}"))),
        };
        let mut headers = match headers {
            Some(headers) => headers,
            None => self.headers(call)?,
        };
        if let Some(value) = self.auth.header(&call.context)? {
            headers.insert(AUTHORIZATION, value);
        }
        if let Some(signer) = &self.signer {
            // Signed per attempt: each gets its own timestamp and nonce.
            let parts = RequestParts {
                method: call.method.as_str(),
                path: url.path(),
                query: url.query().unwrap_or(""),
                body: call.body.as_deref().unwrap_or_default(),
            };
            let signed = signer
                .sign_now(&parts)
                .map_err(|e| Error::InvalidRequest(e.to_string()))?;
            for (name, value) in signed.pairs() {
                let value = HeaderValue::from_str(value)
                    .map_err(|_| Error::InvalidRequest(format!("{name} is not a header value")))?;
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        let mut request = reqwest::Request::new(call.method.to_http(), url);
        *request.headers_mut() = headers;
        if let Some(body) = &call.body {
            *request.body_mut() = Some(body.clone().into());
        }
        Ok(request)
    }

    /// Sends the request and reads the response, so that a body cut short counts against the
    /// attempt that received it.
    ///
    /// The status decides before the body is read: a 2xx or declared status is an answer, read
    /// whole within the body limit; any other status is an error whose outcome is its status
    /// alone, so that a 503 with a large error page fails over like any 503.
    async fn exchange(
        &self,
        host: &str,
        index: usize,
        request: reqwest::Request,
        call: &Prepared,
    ) -> Ended {
        let mut response = match self.send_replaying(host, index, request, call).await {
            Ok(response) => response,
            Err(e) => return Ended::transport(host, e),
        };
        let status = response.status();
        let outcome = Outcome::Responded(status.as_u16());
        let headers = std::mem::take(response.headers_mut());

        if status.is_success() || call.declared.contains(&status) {
            let too_large = || {
                let error = Error::BodyTooLarge {
                    host: host.to_owned(),
                    limit: self.max_body,
                };
                Ended::done(outcome, Err(error), outcome.verdict())
            };
            if response
                .content_length()
                .is_some_and(|len| len > self.max_body as u64)
            {
                return too_large();
            }
            let body = match read_body(&mut response, self.max_body).await {
                BodyRead::Whole(body) => body,
                BodyRead::OverLimit(_) => return too_large(),
                BodyRead::Broken(_, e) => return Ended::transport(host, e),
            };
            tracing::debug!(status = status.as_u16(), bytes = body.len(), "response");
            let mut raw = RawResponse::new(status, headers, body);
            raw.host = host.to_owned();
            return Ended::done(outcome, Ok(raw), Some(Verdict::Success));
        }

        // The error's body only explains the status: it is read up to the limit and no
        // further. A body cut off, by the limit or by the connection, leaves the status as
        // the outcome; the response is dropped unread past that, which closes the connection
        // rather than draining a body of any size.
        let (body, truncated) = match read_body(&mut response, self.max_body).await {
            BodyRead::Whole(body) => (body, false),
            BodyRead::OverLimit(body) | BodyRead::Broken(body, _) => (body, true),
        };
        drop(response);
        tracing::debug!(
            status = status.as_u16(),
            bytes = body.len(),
            truncated,
            "response"
        );
        let retry_after = match status.as_u16() {
            429 | 503 => headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now())),
            _ => None,
        };
        let mut response = ErrorResponse::new(host, status, headers, body);
        response.truncated = truncated;
        let response = Box::new(response);
        let error = if status == StatusCode::UNAUTHORIZED {
            Error::Unauthorized(response)
        } else {
            Error::Status(response)
        };
        Ended {
            outcome,
            result: Err(error),
            verdict: outcome.verdict(),
            retry_after,
            is_final: false,
        }
    }
}

impl Inner {
    /// Sends `request`, and sends it again at once, up to [`MAX_REPLAYS`] times, when it died
    /// on a stale connection (see [`stale`](crate::stale)).
    ///
    /// Such a failure says nothing about the host, only that a kept-alive connection outlived
    /// the server's side of it: the replay happens inside the attempt, so that the host's
    /// breaker, the retry budget and the backoff never see it.
    async fn send_replaying(
        &self,
        host: &str,
        index: usize,
        mut request: reqwest::Request,
        call: &Prepared,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut replays = 0;
        loop {
            let error = match self.client.execute(request).await {
                Ok(response) => {
                    self.answered.note(&response);
                    return Ok(response);
                }
                Err(error) => error,
            };
            // However the connection ended, the server may have read the request before: only
            // a request safe to repeat is sent again (as Go's net/http decides).
            let safe = match self.answered.stale(&error) {
                Some(close) if call.idempotency == Idempotency::Idempotent => Some(close),
                _ => None,
            };
            let (Some(close), true) = (safe, replays < MAX_REPLAYS) else {
                return Err(error);
            };
            // The same request, built again: what it was built from has not changed.
            let Ok(again) = self.request(host, index, call, None) else {
                return Err(error);
            };
            replays += 1;
            tracing::debug!(
                host,
                replay = replays,
                close = close.as_str(),
                cause = %error,
                "sending again on another connection: the server closed the reused one unread",
            );
            request = again;
        }
    }
}

/// A response body as far as it was read.
enum BodyRead {
    /// All of it, within the limit.
    Whole(Bytes),
    /// Its first `limit` bytes: the rest is over the limit and was not read.
    OverLimit(Bytes),
    /// What arrived before the connection broke.
    Broken(Bytes, reqwest::Error),
}

/// Reads `response`'s body, `limit` bytes at most.
async fn read_body(response: &mut reqwest::Response, limit: usize) -> BodyRead {
    // A body that arrives in one chunk, as small ones do, is kept as it came, not copied.
    let mut first: Option<Bytes> = None;
    let mut body = BytesMut::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if first.is_none() && body.is_empty() && chunk.len() <= limit {
                    first = Some(chunk);
                    continue;
                }
                if let Some(first) = first.take() {
                    body.extend_from_slice(&first);
                }
                let room = limit.saturating_sub(body.len());
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    return BodyRead::OverLimit(body.freeze());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return BodyRead::Whole(first.unwrap_or_else(|| body.freeze())),
            Err(e) => return BodyRead::Broken(first.unwrap_or_else(|| body.freeze()), e),
        }
    }
}

/// The error of a call the retry state gave up on after `attempts`, `last` the last attempt's.
fn give_up(reason: GiveUp, attempts: u32, last: Error, deadline: Duration) -> Error {
    let last = Box::new(last);
    match reason {
        GiveUp::AttemptsExhausted => Error::RetriesExhausted { attempts, last },
        GiveUp::DeadlineExceeded => Error::DeadlineExceeded {
            deadline,
            attempts,
            last: Some(last),
        },
        GiveUp::BudgetExhausted => Error::BudgetExhausted { attempts, last },
    }
}

/// `host + route`, by concatenation as hopeit builds it.
fn parse_url(host: &str, route: &str) -> Result<Url, Error> {
    Url::parse(&format!("{host}{route}"))
        .map_err(|e| Error::InvalidRequest(format!("invalid URL {host}{route}: {e}")))
}

/// `url` with the query arguments.
fn with_query(url: &Url, query: &[(String, String)]) -> Url {
    let mut url = url.clone();
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    url
}

fn insert(headers: &mut HeaderMap, name: &str, value: &str) -> Result<(), Error> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::InvalidRequest(format!("`{name}` is not a valid header name")))?;
    insert_value(headers, name, value)
}

fn insert_value(headers: &mut HeaderMap, name: HeaderName, value: &str) -> Result<(), Error> {
    let value = HeaderValue::from_str(value).map_err(|_| {
        Error::InvalidRequest(format!("the value of `{name}` is not a valid header value"))
    })?;
    headers.insert(name, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use appwire_manifest::{AuthStrategy, ConnectionSettings};

    use super::*;
    use crate::Target;

    #[test]
    fn the_spelled_out_track_headers_are_those_of_their_keys() {
        assert_eq!(X_TRACK_REQUEST_ID.as_str(), track_header(REQUEST_ID));
        assert_eq!(X_TRACK_REQUEST_TS.as_str(), track_header(REQUEST_TS));
        assert_eq!(
            X_TRACK_CLIENT_APP_KEY.as_str(),
            track_header("track.client_app_key")
        );
        assert_eq!(
            X_TRACK_CLIENT_EVENT_NAME.as_str(),
            track_header("track.client_event_name")
        );
    }

    #[test]
    fn each_hosts_url_of_an_event_is_parsed_once_and_kept() {
        let mut settings = ConnectionSettings::new("http://a:1,http://b:2/prefix/");
        settings.auth_strategy = AuthStrategy::Unsecured;
        settings
            .routes_override
            .insert("custom".into(), "custom/route".into());
        let c = Connection::builder(
            "target",
            Target::new("simple-example", "0.30"),
            settings,
            "caller.1x0",
        )
        .build()
        .expect("built");
        let urls = c.inner.event_urls("list_somethings").expect("urls");
        assert_eq!(
            urls.iter().map(Url::as_str).collect::<Vec<_>>(),
            [
                "http://a:1/api/simple-example/0x30/list-somethings",
                "http://b:2/prefix/api/simple-example/0x30/list-somethings",
            ]
        );
        let again = c.inner.event_urls("list_somethings").expect("urls");
        assert!(Arc::ptr_eq(&urls, &again));
        let custom = c.inner.event_urls("custom").expect("urls");
        assert_eq!(custom[0].as_str(), "http://a:1/api/custom/route");

        let query = [("item_id".to_owned(), "a b&c".to_owned())];
        assert_eq!(
            with_query(&urls[0], &query).as_str(),
            "http://a:1/api/simple-example/0x30/list-somethings?item_id=a+b%26c"
        );
        assert_eq!(urls[0].query(), None, "the kept URL has no query");
    }
}
