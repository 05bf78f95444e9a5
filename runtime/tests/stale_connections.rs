//! Kept-alive connections the server closes just after answering: a request safe to repeat
//! that dies on such a reused connection is sent again at once on another connection, without
//! counting against the host or the retry budget; a POST, which the server may have read, is
//! not. A new connection that fails the same way is a real failure. Time is tokio's paused
//! clock.

mod common;

use std::time::Duration;

use appwire::breaker::BreakerState;
use appwire::{Error, Request, TransportKind};
use common::{
    Reply, always, closing_after_answer, closing_unread, connect, hanging_up_on_the_second_request,
    resetting_on_the_second_request, settings,
};

const CALLS: usize = 200;

#[tokio::test(start_paused = true)]
async fn gets_on_connections_the_server_closes_after_answering_all_succeed() {
    let host = closing_after_answer(Duration::from_millis(2)).await;
    let mut s = settings(&[&host]);
    s.appwire.retry_budget.enabled = true;
    let conn = connect(s);
    for n in 0..CALLS {
        conn.send(Request::get("e"))
            .await
            .unwrap_or_else(|e| panic!("GET {n}: {e:?}"));
    }
    // Each call was answered once: a request sent again had not been read.
    assert_eq!(host.hits(), CALLS);
    let snapshot = &conn.snapshot()[0];
    assert_eq!(snapshot.state, BreakerState::Closed);
    assert_eq!(snapshot.failures, 0);
}

#[tokio::test(start_paused = true)]
async fn a_post_on_a_stale_connection_is_not_sent_again() {
    let host = closing_after_answer(Duration::from_millis(2)).await;
    let conn = connect(settings(&[&host]));
    let mut failed = 0;
    for n in 0..CALLS {
        match conn.send(Request::post("e")).await {
            Ok(_) => {}
            Err(Error::Transport {
                kind: TransportKind::Ambiguous,
                ..
            }) => failed += 1,
            Err(e) => panic!("POST {n}: {e:?}"),
        }
    }
    // Some POSTs met the server's close, and none was sent a second time.
    assert!(failed > 0, "no POST met a closing connection");
    assert_eq!(host.hits(), CALLS - failed);
}

#[tokio::test(start_paused = true)]
async fn the_stale_connection_is_not_held_against_the_host_nor_moves_to_another() {
    let (host, other) = (
        closing_after_answer(Duration::from_millis(2)).await,
        always(Reply::ok()).await,
    );
    let mut s = settings(&[&host, &other]);
    s.retries = 0;
    let conn = connect(s);
    for _ in 0..20 {
        // Round robin: every other call goes to the closing host, on the connection it
        // answered last time.
        conn.send(Request::get("e")).await.expect("answered");
    }
    assert_eq!((host.hits(), other.hits()), (10, 10));
    assert_eq!(conn.snapshot()[0].failures, 0);
}

#[tokio::test(start_paused = true)]
async fn a_new_connection_closed_before_an_answer_is_not_sent_again_for_post() {
    let (closing, b) = (closing_unread().await, always(Reply::ok()).await);
    let conn = connect(settings(&[&closing, &b]));
    match conn.send(Request::post("e")).await {
        Err(Error::Transport {
            kind: TransportKind::Ambiguous,
            host,
            ..
        }) => assert_eq!(host, closing.url),
        other => panic!("{other:?}"),
    }
    assert_eq!((closing.hits(), b.hits()), (1, 0));
    assert_eq!(conn.snapshot()[0].failures, 1);
}

#[tokio::test(start_paused = true)]
async fn a_reused_connection_closed_after_the_server_read_the_request_is_sent_again_for_get_only() {
    let host = hanging_up_on_the_second_request().await;
    let mut s = settings(&[&host]);
    s.retries = 0;
    let conn = connect(s);

    conn.send(Request::post("e"))
        .await
        .expect("first on its connection");
    // The server read this one before closing: it may have acted on it.
    let err = conn
        .send(Request::post("e"))
        .await
        .expect_err("not sent again");
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Ambiguous,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(host.hits(), 2);
    assert_eq!(conn.snapshot()[0].failures, 1);

    conn.send(Request::get("e"))
        .await
        .expect("first on its connection");
    conn.send(Request::get("e"))
        .await
        .expect("a GET is sent again on a new connection");
    // The second GET was read on the reused connection, then again on a new one.
    assert_eq!(host.hits(), 5);
}

#[tokio::test(start_paused = true)]
async fn a_post_the_server_read_before_resetting_a_reused_connection_is_not_sent_again() {
    let host = resetting_on_the_second_request().await;
    let mut s = settings(&[&host]);
    s.retries = 0;
    let conn = connect(s);
    conn.send(Request::post("e"))
        .await
        .expect("first on its connection");
    let err = conn
        .send(Request::post("e"))
        .await
        .expect_err("not sent again");
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Ambiguous,
                ..
            }
        ),
        "{err:?}"
    );
    // Read once, and only once.
    assert_eq!(host.hits(), 2);
}
