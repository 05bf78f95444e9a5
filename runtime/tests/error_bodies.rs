//! Responses of an error status are classified on their status alone: an error page larger
//! than the connection's body limit fails the attempt over like any other, and the error
//! keeps the status with the start of the page. Time is tokio's paused clock.

mod common;

use appwire::{Connection, Error, Request};
use common::{CALLER, Host, Reply, always, settings, target};

const LIMIT: usize = 1024;

fn limited(hosts: &[&Host]) -> Connection {
    Connection::builder("target", target(), settings(hosts), CALLER)
        .max_body_size(LIMIT)
        .build()
        .expect("connection")
}

fn error_page() -> String {
    format!("<html>{}</html>", "overloaded ".repeat(LIMIT))
}

#[tokio::test(start_paused = true)]
async fn a_503_with_an_error_page_over_the_body_limit_fails_over_to_the_next_host() {
    let busy = always(
        Reply::status(503)
            .content_type("text/html")
            .body(error_page()),
    )
    .await;
    let b = always(Reply::ok()).await;
    let conn = limited(&[&busy, &b]);
    let response = conn.send(Request::get("e")).await.expect("failed over");
    assert_eq!(response.host, b.url);
    let response = conn.send(Request::post("e")).await.expect("failed over");
    assert_eq!(response.host, b.url);
    assert_eq!((busy.hits(), b.hits()), (2, 2));
    assert_eq!(conn.snapshot()[0].failures, 2);
}

#[tokio::test(start_paused = true)]
async fn with_no_other_host_the_oversized_503_is_the_cause_its_page_cut_at_the_limit() {
    let page = error_page();
    let busy = always(
        Reply::status(503)
            .content_type("text/html")
            .body(page.clone()),
    )
    .await;
    let conn = limited(&[&busy]);
    let err = conn.send(Request::get("e")).await.expect_err("503");
    match &err {
        Error::RetriesExhausted { attempts: 2, last } => match &**last {
            Error::Status(response) => {
                assert_eq!(response.status.as_u16(), 503);
                assert_eq!(response.body.len(), LIMIT);
                assert_eq!(response.body, page.as_bytes()[..LIMIT]);
                assert!(response.truncated);
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable());
    assert_eq!(busy.hits(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_error_page_within_the_limit_is_kept_whole() {
    let busy = always(Reply::status(500).body(r#"{"msg": "boom", "tb": []}"#)).await;
    let mut s = settings(&[&busy]);
    s.retries = 0;
    let conn = Connection::builder("target", target(), s, CALLER)
        .max_body_size(LIMIT)
        .build()
        .expect("connection");
    let err = conn.send(Request::get("e")).await.expect_err("500");
    let response = err.response().expect("the response");
    assert_eq!(response.status.as_u16(), 500);
    assert!(!response.truncated);
    assert_eq!(response.info.as_ref().map(|i| i.msg.as_str()), Some("boom"));
}

#[tokio::test(start_paused = true)]
async fn a_client_error_over_the_limit_is_its_status_not_a_body_too_large() {
    let (bad, b) = (
        always(Reply::status(404).body(error_page())).await,
        always(Reply::ok()).await,
    );
    let conn = limited(&[&bad, &b]);
    let err = conn.send(Request::get("e")).await.expect_err("404");
    match &err {
        Error::Status(response) => {
            assert_eq!(response.status.as_u16(), 404);
            assert!(response.truncated);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!((bad.hits(), b.hits()), (1, 0));
}
