//! A tower [`Layer`] that lets through only requests signed for a [`Verifier`].
//!
//! The layer reads the whole body (up to a limit), verifies the request, and hands it on with
//! a [`Full`] body and the caller's [`VerifiedService`] in its extensions. A refused request
//! gets an empty `401`, a body over the limit `413`, a body that fails to arrive `400`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use tower_layer::Layer;
use tower_service::Service;

use crate::signing::Verifier;

/// Largest request body the layer reads by default: 16 MiB.
pub const DEFAULT_MAX_REQUEST_BODY: usize = 16 << 20;

/// The calling service's id, put in the extensions of every request that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedService(pub String);

/// Wraps a service in a [`VerifyService`].
#[derive(Debug, Clone)]
pub struct VerifyLayer {
    verifier: Arc<Verifier>,
    max_body: usize,
}

impl VerifyLayer {
    /// Verifies with `verifier`, shared by every service the layer wraps (they share its
    /// replay cache).
    pub fn new(verifier: Arc<Verifier>) -> Self {
        Self {
            verifier,
            max_body: DEFAULT_MAX_REQUEST_BODY,
        }
    }

    /// Largest request body read (default [`DEFAULT_MAX_REQUEST_BODY`]).
    #[must_use]
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }
}

impl<S> Layer<S> for VerifyLayer {
    type Service = VerifyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyService {
            inner,
            verifier: Arc::clone(&self.verifier),
            max_body: self.max_body,
        }
    }
}

/// A service that verifies each request before passing it on; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct VerifyService<S> {
    inner: S,
    verifier: Arc<Verifier>,
    max_body: usize,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<S, B, ResBody> Service<http::Request<B>> for VerifyService<S>
where
    S: Service<http::Request<Full<Bytes>>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
    ResBody: Default,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The service that was polled ready is the one to call; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = Arc::clone(&self.verifier);
        let max_body = self.max_body;
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = match Limited::new(body, max_body).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                    return Ok(refusal(StatusCode::PAYLOAD_TOO_LARGE));
                }
                Err(_) => return Ok(refusal(StatusCode::BAD_REQUEST)),
            };
            let mut request = http::Request::from_parts(parts, body);
            let service = match verifier.verify_http(&request) {
                Ok(service) => VerifiedService(service.to_owned()),
                Err(error) => {
                    tracing::debug!(%error, "signed request refused");
                    return Ok(refusal(StatusCode::UNAUTHORIZED));
                }
            };
            request.extensions_mut().insert(service);
            inner.call(request.map(Full::new)).await
        })
    }
}

fn refusal<B: Default>(status: StatusCode) -> http::Response<B> {
    let mut response = http::Response::new(B::default());
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::time::Duration;

    use super::*;
    use crate::signing::{Secret, Signer};

    /// Answers 200 with the verified caller's id.
    #[derive(Clone)]
    struct Echo;

    impl Service<http::Request<Full<Bytes>>> for Echo {
        type Response = http::Response<String>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Self::Response, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: http::Request<Full<Bytes>>) -> Self::Future {
            let caller = request
                .extensions()
                .get::<VerifiedService>()
                .map(|s| s.0.clone())
                .unwrap_or_default();
            std::future::ready(Ok(http::Response::new(caller)))
        }
    }

    fn secret() -> Secret {
        Secret::new("layer-test-secret").expect("secret")
    }

    fn signed(body: &'static [u8], signed_body: &[u8]) -> http::Request<Full<Bytes>> {
        let parts = crate::signing::RequestParts {
            method: "POST",
            path: "/api/x/1/e",
            query: "a=1",
            body: signed_body,
        };
        let headers = Signer::new("caller", secret())
            .expect("id")
            .sign_now(&parts)
            .expect("random");
        let mut builder = http::Request::post("http://h/api/x/1/e?a=1");
        for (name, value) in headers.pairs() {
            builder = builder.header(name, value);
        }
        builder
            .body(Full::new(Bytes::from_static(body)))
            .expect("request")
    }

    async fn status_and_body(
        service: &mut VerifyService<Echo>,
        request: http::Request<Full<Bytes>>,
    ) -> (StatusCode, String) {
        let response = service.call(request).await.expect("infallible");
        (response.status(), response.into_body())
    }

    #[tokio::test]
    async fn passes_signed_requests_and_refuses_the_rest() {
        let verifier =
            Arc::new(Verifier::new(Duration::from_secs(60)).with_key("caller", secret()));
        let mut service = VerifyLayer::new(verifier).max_body_size(8).layer(Echo);
        assert_eq!(
            status_and_body(&mut service, signed(b"{}", b"{}")).await,
            (StatusCode::OK, "caller".into())
        );
        assert_eq!(
            status_and_body(&mut service, signed(b"{}", b"[]")).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status_and_body(&mut service, signed(b"0123456789", b"0123456789"))
                .await
                .0,
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }
}
