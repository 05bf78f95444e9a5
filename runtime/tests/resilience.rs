//! Host selection, circuit breaking, retries, budget and timeouts of a connection, against
//! loopback hosts that count what they receive. Time is tokio's paused clock.

mod common;

use std::time::Duration;

use appwire::breaker::BreakerState;
use appwire::{Connection, Error, Request, TransportKind};
use common::{Fault, Reply, always, connect, faulty, refusing, scripted, settings};
use tokio::time::Instant;

const S: Duration = Duration::from_secs(1);

fn hits(hosts: &[&common::Host]) -> Vec<usize> {
    hosts.iter().map(|h| h.hits()).collect()
}

#[tokio::test(start_paused = true)]
async fn round_robin_starts_at_the_first_host_and_moves_one_host_per_call() {
    let (a, b, c) = (
        always(Reply::ok()).await,
        always(Reply::ok()).await,
        always(Reply::ok()).await,
    );
    let conn = connect(settings(&[&a, &b, &c]));
    let mut answered = Vec::new();
    for _ in 0..7 {
        let response = conn.send(Request::get("e")).await.expect("ok");
        answered.push(response.host);
    }
    let expected: Vec<String> = [&a, &b, &c, &a, &b, &c, &a]
        .iter()
        .map(|h| h.url.clone())
        .collect();
    assert_eq!(answered, expected);
    assert_eq!(hits(&[&a, &b, &c]), [3, 2, 2]);
}

#[tokio::test(start_paused = true)]
async fn a_failed_attempt_fails_over_to_the_next_host() {
    let (a, b) = (always(Reply::status(500)).await, always(Reply::ok()).await);
    let conn = connect(settings(&[&a, &b]));
    for _ in 0..2 {
        let response = conn.send(Request::get("e")).await.expect("failed over");
        assert_eq!(response.host, b.url);
    }
    assert_eq!(hits(&[&a, &b]), [2, 2]);
    assert_eq!(conn.snapshot()[0].failures, 2);
    assert_eq!(conn.snapshot()[1].failures, 0);
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_for_post_too_unless_switched_off() {
    let (a, b) = (always(Reply::status(502)).await, always(Reply::ok()).await);
    let conn = connect(settings(&[&a, &b]));
    conn.send(Request::post("e")).await.expect("retried on b");
    assert_eq!(hits(&[&a, &b]), [1, 1]);

    let mut s = settings(&[&a, &b]);
    s.appwire.retry_post_on_5xx = false;
    let conn = connect(s);
    let err = conn
        .send(Request::post("e"))
        .await
        .expect_err("not retried");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert!(matches!(err, Error::Status(_)), "{err:?}");
    assert_eq!(hits(&[&a, &b]), [2, 1]);
}

#[tokio::test(start_paused = true)]
async fn a_refused_connection_is_retried_on_the_next_host_for_any_method() {
    let (dead, b) = (refusing().await, always(Reply::ok()).await);
    let conn = connect(settings(&[&dead, &b]));
    conn.send(Request::get("e")).await.expect("GET on b");
    conn.send(Request::post("e")).await.expect("POST on b");
    assert_eq!(b.hits(), 2);
    assert_eq!(conn.snapshot()[0].failures, 2);

    // With nowhere else to go, the refusal is the cause.
    let mut s = settings(&[&dead]);
    s.retries = 0;
    match connect(s).send(Request::post("e")).await {
        Err(Error::RetriesExhausted { attempts: 1, last }) => assert!(
            matches!(
                *last,
                Error::Transport {
                    kind: TransportKind::NotSent,
                    ..
                }
            ),
            "{last:?}"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn client_errors_are_neither_retried_nor_held_against_the_host() {
    let (a, b) = (always(Reply::status(404)).await, always(Reply::ok()).await);
    let conn = connect(settings(&[&a, &b]));
    let err = conn.send(Request::get("e")).await.expect_err("404");
    match &err {
        Error::Status(r) => assert_eq!(r.status.as_u16(), 404),
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(hits(&[&a, &b]), [1, 0]);
    assert_eq!(conn.snapshot()[0].failures, 0);

    let (c, d) = (always(Reply::status(401)).await, always(Reply::ok()).await);
    let conn = connect(settings(&[&c, &d]));
    let err = conn.send(Request::get("e")).await.expect_err("401");
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
    assert_eq!(hits(&[&c, &d]), [1, 0]);
}

#[tokio::test(start_paused = true)]
async fn a_declared_status_is_an_answer_and_a_success_even_a_5xx() {
    let (a, b) = (always(Reply::status(503)).await, always(Reply::ok()).await);
    let conn = connect(settings(&[&a, &b]));
    let response = conn
        .send(Request::get("e").declare(503))
        .await
        .expect("declared");
    assert_eq!(response.status.as_u16(), 503);
    assert_eq!(hits(&[&a, &b]), [1, 0]);
    assert_eq!(conn.snapshot()[0].failures, 0);
}

#[tokio::test(start_paused = true)]
async fn retries_are_extra_attempts_each_on_the_next_host() {
    let (a, b) = (
        always(Reply::status(500)).await,
        always(Reply::status(503)).await,
    );
    let mut s = settings(&[&a, &b]);
    s.retries = 3;
    s.circuit_breaker_open_failures = 0;
    let conn = connect(s);
    match conn.send(Request::get("e")).await {
        Err(Error::RetriesExhausted { attempts, last }) => {
            assert_eq!(attempts, 4);
            assert_eq!(last.status().map(|s| s.as_u16()), Some(503));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(hits(&[&a, &b]), [2, 2]);
}

#[tokio::test(start_paused = true)]
async fn the_breaker_opens_skips_the_host_probes_it_and_closes() {
    // Fails its first two requests, then recovers.
    let flaky = scripted(|n, _| {
        if n < 2 {
            Reply::status(500)
        } else {
            Reply::ok()
        }
    })
    .await;
    let healthy = always(Reply::ok()).await;
    let mut s = settings(&[&flaky, &healthy]);
    s.circuit_breaker_open_failures = 2;
    s.circuit_breaker_open_seconds = 60;
    let conn = connect(s);
    let t0 = Instant::now();

    conn.send(Request::get("e")).await.expect("failed over");
    conn.send(Request::get("e")).await.expect("failed over");
    assert_eq!(hits(&[&flaky, &healthy]), [2, 2]);
    let opened = conn.snapshot()[0].state;
    match opened {
        BreakerState::Open { until } => {
            let open_for = until - t0;
            assert!(open_for >= 60 * S && open_for < 61 * S, "{open_for:?}");
        }
        other => panic!("{other:?}"),
    }

    // Open: skipped without an attempt.
    for _ in 0..3 {
        let response = conn.send(Request::get("e")).await.expect("healthy host");
        assert_eq!(response.host, healthy.url);
    }
    assert_eq!(hits(&[&flaky, &healthy]), [2, 5]);

    // After the open time, one probe; it succeeds and closes the breaker.
    tokio::time::advance(60 * S).await;
    assert_eq!(conn.snapshot()[0].state, BreakerState::HalfOpen);
    let mut answered = Vec::new();
    for _ in 0..4 {
        answered.push(conn.send(Request::get("e")).await.expect("ok").host);
    }
    assert!(answered.contains(&flaky.url));
    assert_eq!(conn.snapshot()[0].state, BreakerState::Closed);
    assert_eq!(hits(&[&flaky, &healthy]), [4, 7]);
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_reopens_for_longer() {
    let (dead, healthy) = (always(Reply::status(500)).await, always(Reply::ok()).await);
    let mut s = settings(&[&dead, &healthy]);
    s.circuit_breaker_open_failures = 1;
    let conn = connect(s);
    conn.send(Request::get("e")).await.expect("failed over");
    tokio::time::advance(60 * S).await;
    conn.send(Request::get("e"))
        .await
        .expect("probe failed, failed over");
    assert_eq!(dead.hits(), 2);
    match conn.snapshot()[0].state {
        BreakerState::Open { until } => {
            let open_for = until - Instant::now();
            assert!(open_for > 119 * S && open_for <= 120 * S, "{open_for:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn with_every_host_open_the_error_says_when_the_first_reopens() {
    let (a, b) = (
        always(Reply::status(500)).await,
        always(Reply::status(500)).await,
    );
    let mut s = settings(&[&a, &b]);
    s.circuit_breaker_open_failures = 1;
    s.circuit_breaker_open_seconds = 30;
    let conn = connect(s);
    let t0 = Instant::now();
    let err = conn.send(Request::get("e")).await.expect_err("both fail");
    assert!(
        matches!(err, Error::RetriesExhausted { attempts: 2, .. }),
        "{err:?}"
    );

    tokio::time::advance(5 * S).await;
    match conn.send(Request::get("e")).await {
        Err(err @ Error::NoHealthyHost { .. }) => {
            let Error::NoHealthyHost {
                connection,
                reopens_at,
            } = &err
            else {
                unreachable!()
            };
            assert_eq!(connection, "target");
            let reopens = reopens_at.expect("an open host") - t0;
            assert!(reopens >= 30 * S && reopens < 31 * S, "{reopens:?}");
            let after = err.retry_after().expect("a wait");
            assert!(after > 24 * S && after <= 25 * S, "{after:?}");
            assert!(err.is_retryable());
            assert!(err.to_string().contains("no healthy host"), "{err}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(hits(&[&a, &b]), [1, 1]);
}

#[tokio::test(start_paused = true)]
async fn an_ambiguous_failure_is_retried_for_get_and_idempotent_events_only() {
    let (hangup, b) = (faulty(Fault::Hangup).await, always(Reply::ok()).await);
    let mut s = settings(&[&hangup, &b]);
    s.appwire.idempotent_events = vec!["set_status".into()];
    let conn = connect(s);

    match conn.send(Request::post("save")).await {
        Err(Error::Transport {
            kind: TransportKind::Ambiguous,
            host,
            ..
        }) => assert_eq!(host, hangup.url),
        other => panic!("{other:?}"),
    }
    assert_eq!(hits(&[&hangup, &b]), [1, 0]);

    // The cursor is on b now; after this call it is back on the hanging host, and each
    // retried call below starts there and ends on b.
    conn.send(Request::get("e")).await.expect("b");
    conn.send(Request::get("list")).await.expect("GET retried");
    conn.send(Request::post("set_status"))
        .await
        .expect("listed as idempotent");
    conn.send(Request::post("save").idempotent(true))
        .await
        .expect("marked idempotent");
    assert_eq!(hits(&[&hangup, &b]), [4, 4]);
}

#[tokio::test(start_paused = true)]
async fn a_response_cut_short_is_ambiguous() {
    for fault in [Fault::Truncate, Fault::Reset] {
        let (bad, b) = (faulty(fault).await, always(Reply::ok()).await);
        let conn = connect(settings(&[&bad, &b]));
        let err = conn
            .send(Request::post("e"))
            .await
            .expect_err("not retried");
        assert!(
            matches!(
                err,
                Error::Transport {
                    kind: TransportKind::Ambiguous,
                    ..
                }
            ),
            "{fault:?}: {err:?}"
        );
        conn.send(Request::get("e")).await.expect("b");
        let response = conn.send(Request::get("e")).await.expect("GET retried");
        assert_eq!(response.host, b.url);
        assert_eq!(hits(&[&bad, &b]), [2, 2], "{fault:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured_within_the_deadline() {
    // With another host to go to, a host's `Retry-After` does not hold the call up.
    let busy = always(Reply::status(503).header("retry-after", "3600")).await;
    let b = always(Reply::ok()).await;
    let conn = connect(settings(&[&busy, &b]));
    let t0 = Instant::now();
    conn.send(Request::get("e")).await.expect("from b");
    assert!(
        t0.elapsed() < Duration::from_millis(50),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(hits(&[&busy, &b]), [1, 1]);

    // With one host, the retry waits as it asks.
    let single = scripted(|n, _| match n {
        0 => Reply::status(503).header("retry-after", "5"),
        _ => Reply::ok(),
    })
    .await;
    let conn = connect(settings(&[&single]));
    let t0 = Instant::now();
    conn.send(Request::get("e")).await.expect("after the wait");
    let waited = t0.elapsed();
    assert!(
        waited >= 5 * S && waited < 5 * S + Duration::from_millis(50),
        "{waited:?}"
    );
    assert_eq!(single.hits(), 2);

    // A wait past the deadline is not started.
    let busy = always(Reply::status(503).header("retry-after", "5")).await;
    let conn = connect(settings(&[&busy]));
    let t1 = Instant::now();
    let err = conn
        .send(Request::get("e").deadline(3 * S))
        .await
        .expect_err("gave up");
    assert!(
        matches!(err, Error::DeadlineExceeded { attempts: 1, .. }),
        "{err:?}"
    );
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert!(t1.elapsed() < Duration::from_millis(50));
    assert_eq!(busy.hits(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_spent_budget_fails_with_the_last_real_error() {
    let (a, b) = (
        always(Reply::status(500)).await,
        always(Reply::status(500)).await,
    );
    let mut s = settings(&[&a, &b]);
    s.circuit_breaker_open_failures = 0;
    // Each call pays for half a retry; nothing in reserve.
    s.appwire.retry_budget.enabled = true;
    s.appwire.retry_budget.min_per_second = 0;
    s.appwire.retry_budget.percent = 50.0;
    let conn = connect(s);

    let first = conn.send(Request::get("e")).await.expect_err("500");
    assert!(
        matches!(first, Error::BudgetExhausted { attempts: 1, .. }),
        "{first:?}"
    );
    assert_eq!(first.status().map(|s| s.as_u16()), Some(500));
    let second = conn.send(Request::get("e")).await.expect_err("500");
    assert!(
        matches!(second, Error::RetriesExhausted { attempts: 2, .. }),
        "{second:?}"
    );
    let third = conn.send(Request::get("e")).await.expect_err("500");
    assert!(
        matches!(third, Error::BudgetExhausted { attempts: 1, .. }),
        "{third:?}"
    );
    assert_eq!(a.hits() + b.hits(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_slow_attempt_times_out_and_the_call_moves_on() {
    let slow = always(Reply::ok().delayed(10 * S)).await;
    let b = always(Reply::ok()).await;
    let mut s = settings(&[&slow, &b]);
    s.appwire.attempt_timeout_ms = 1_000;
    let conn = connect(s);

    let t0 = Instant::now();
    let response = conn.send(Request::get("e")).await.expect("b");
    assert_eq!(response.host, b.url);
    let took = t0.elapsed();
    assert!(
        took >= S && took < S + Duration::from_millis(150),
        "{took:?}"
    );

    // A POST that timed out may have been processed: not retried.
    let t1 = Instant::now();
    match conn.send(Request::post("e")).await {
        Err(Error::AttemptTimeout { host, timeout }) => {
            assert_eq!(host, slow.url);
            assert_eq!(timeout, S);
        }
        other => panic!("{other:?}"),
    }
    let took = t1.elapsed();
    assert!(took >= S && took < S + Duration::from_millis(5), "{took:?}");

    // A per-call timeout replaces the connection's.
    conn.send(Request::get("e")).await.expect("b");
    let err = conn
        .send(Request::post("e").attempt_timeout(Duration::from_millis(200)))
        .await
        .expect_err("timed out");
    assert!(
        matches!(err, Error::AttemptTimeout { timeout, .. } if timeout == Duration::from_millis(200)),
        "{err:?}"
    );
    assert_eq!(hits(&[&slow, &b]), [3, 2]);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_bounds_the_whole_call() {
    let (a, b) = (
        always(Reply::ok().delayed(10 * S)).await,
        always(Reply::ok().delayed(10 * S)).await,
    );
    let mut s = settings(&[&a, &b]);
    s.retries = 10;
    s.circuit_breaker_open_failures = 0;
    s.appwire.attempt_timeout_ms = 2_000;
    s.appwire.deadline_ms = 5_000;
    let conn = connect(s);

    let t0 = Instant::now();
    match conn.send(Request::get("e")).await {
        Err(Error::DeadlineExceeded {
            deadline,
            attempts,
            last,
        }) => {
            assert_eq!(deadline, 5 * S);
            // Two full attempts, and a third cut short at the deadline.
            assert_eq!(attempts, 3);
            assert!(matches!(
                last.as_deref(),
                Some(Error::AttemptTimeout { .. })
            ));
        }
        other => panic!("{other:?}"),
    }
    let took = t0.elapsed();
    assert!(
        took >= 5 * S && took < 5 * S + Duration::from_millis(5),
        "{took:?}"
    );
    assert_eq!(hits(&[&a, &b]), [2, 1]);

    // A per-call deadline replaces the connection's, for a POST too.
    let t1 = Instant::now();
    let err = conn
        .send(Request::post("e").deadline(Duration::from_millis(500)))
        .await
        .expect_err("deadline");
    assert!(
        matches!(err, Error::DeadlineExceeded { attempts: 1, .. }),
        "{err:?}"
    );
    assert!(t1.elapsed() < Duration::from_millis(505));
}

#[tokio::test(start_paused = true)]
async fn an_oversized_body_is_an_error_and_not_retried() {
    let big = "x".repeat(2048);
    let (sized, b) = (
        always(Reply::json(&format!("\"{big}\""))).await,
        always(Reply::ok()).await,
    );
    let conn = appwire::Connection::builder(
        "target",
        common::target(),
        settings(&[&sized, &b]),
        common::CALLER,
    )
    .max_body_size(1024)
    .build()
    .expect("connection");
    match conn.send(Request::get("e")).await {
        Err(Error::BodyTooLarge { host, limit }) => {
            assert_eq!(host, sized.url);
            assert_eq!(limit, 1024);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(hits(&[&sized, &b]), [1, 0]);
    // Exactly at the limit is fine.
    let fits = always(Reply::json(&"1".repeat(1024))).await;
    let conn = appwire::Connection::builder(
        "target",
        common::target(),
        settings(&[&fits]),
        common::CALLER,
    )
    .max_body_size(1024)
    .build()
    .expect("connection");
    assert_eq!(
        conn.send(Request::get("e")).await.expect("fits").body.len(),
        1024
    );
}

#[tokio::test(start_paused = true)]
async fn a_chunked_body_is_cut_off_at_the_limit() {
    let (chunked, b) = (faulty(Fault::Chunked).await, always(Reply::ok()).await);
    let conn = appwire::Connection::builder(
        "target",
        common::target(),
        settings(&[&chunked, &b]),
        common::CALLER,
    )
    .max_body_size(1024)
    .build()
    .expect("connection");
    let err = conn.send(Request::get("e")).await.expect_err("too large");
    assert!(
        matches!(err, Error::BodyTooLarge { limit: 1024, .. }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(hits(&[&chunked, &b]), [1, 0]);
}

#[tokio::test(start_paused = true)]
async fn least_loaded_balancing_spreads_calls_and_avoids_open_hosts() {
    let (a, b, dead) = (
        always(Reply::ok()).await,
        always(Reply::ok()).await,
        always(Reply::status(500)).await,
    );
    let mut s = settings(&[&a, &b, &dead]);
    s.appwire.balance = appwire_manifest::Balance::LeastLoaded;
    s.circuit_breaker_open_failures = 1;
    let conn = appwire::Connection::builder("target", common::target(), s, common::CALLER)
        .seed(7)
        .build()
        .expect("connection");
    for _ in 0..30 {
        conn.send(Request::get("e")).await.expect("ok");
    }
    // The dead host failed once, opened, and got nothing more.
    assert!(dead.hits() <= 1, "{}", dead.hits());
    assert!(a.hits() > 5 && b.hits() > 5, "{:?}", hits(&[&a, &b]));
    assert_eq!(a.hits() + b.hits(), 30);
}

#[tokio::test(start_paused = true)]
async fn a_retry_goes_to_another_host_than_the_failed_one() {
    let dead = refusing().await;
    let (b, c) = (always(Reply::ok()).await, always(Reply::ok()).await);
    let mut s = settings(&[&dead, &b, &c]);
    s.appwire.balance = appwire_manifest::Balance::LeastLoaded;
    s.retries = 1;
    // Least loaded picks at random among idle hosts: whatever the draw, the one retry must not
    // go back to the refusing host.
    for seed in 0..50 {
        let conn = Connection::builder("target", common::target(), s.clone(), common::CALLER)
            .seed(seed)
            .build()
            .expect("connection");
        conn.send(Request::get("e"))
            .await
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
}

#[tokio::test(start_paused = true)]
async fn client_errors_neither_count_against_a_host_nor_clear_its_failures() {
    let host = scripted(|n, _| match n {
        2 => Reply::status(404),
        _ => Reply::status(500),
    })
    .await;
    let mut s = settings(&[&host]);
    s.retries = 0;
    s.circuit_breaker_open_failures = 3;
    let conn = connect(s);
    for _ in 0..2 {
        conn.send(Request::get("e")).await.expect_err("500");
    }
    let err = conn.send(Request::get("e")).await.expect_err("404");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(
        conn.snapshot()[0].failures,
        2,
        "a 404 leaves the count alone"
    );
    conn.send(Request::get("e")).await.expect_err("500");
    assert!(matches!(
        conn.snapshot()[0].state,
        BreakerState::Open { .. }
    ));
}

#[tokio::test(start_paused = true)]
async fn when_a_call_opens_every_breaker_its_last_error_is_kept() {
    let host = always(Reply::status(500)).await;
    let mut s = settings(&[&host]);
    s.retries = 2;
    s.circuit_breaker_open_failures = 1;
    let err = connect(s).send(Request::get("e")).await.expect_err("500");
    assert!(
        matches!(&err, Error::RetriesExhausted { attempts: 1, .. }),
        "{err:?}"
    );
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(host.hits(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_header_that_cannot_be_sent_fails_the_call_before_any_host_is_chosen() {
    let host = refusing().await;
    let mut s = settings(&[&host]);
    s.retries = 0;
    s.circuit_breaker_open_failures = 1;
    let conn = connect(s);
    conn.send(Request::get("e")).await.expect_err("refused");
    assert!(matches!(
        conn.snapshot()[0].state,
        BreakerState::Open { .. }
    ));
    // With every host out of rotation, the call's own mistake is still what it fails with.
    let context = appwire::CallContext::new().with_track_id("track.session_id", "a\nb");
    match conn.send(Request::get("e").context(context)).await {
        Err(Error::InvalidRequest(message)) => {
            assert!(message.contains("x-track-session-id"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}
