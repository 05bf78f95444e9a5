//! Two real instances, one of which stops while calls are under way and comes back.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use appwire::breaker::BreakerState;
use appwire_hopeit_tests::clients::appwire_target::Target;
use common::{SESSION, host, is_open};
use tokio::time::Instant;

/// Calls made one after the other in a task, with the instance that answered each.
struct Load {
    answers: Arc<Mutex<Vec<Result<String, appwire::Error>>>>,
    running: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Load {
    fn start(target: &Target) -> Self {
        let answers = Arc::new(Mutex::new(Vec::new()));
        let running = Arc::new(AtomicBool::new(true));
        let task = tokio::spawn({
            let (target, answers, running) = (target.clone(), answers.clone(), running.clone());
            async move {
                while running.load(Ordering::Relaxed) {
                    let answer = target.inspect("i-1", 1, None, SESSION).await;
                    let answer = answer.map(|r| r.value.instance);
                    answers
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(answer);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        });
        Self {
            answers,
            running,
            task,
        }
    }

    /// How many calls ended so far.
    fn count(&self) -> usize {
        self.answers().len()
    }

    /// Waits until a call after the first `since` was answered by `instance`.
    async fn until_answered_by(&self, instance: &str, since: usize, limit: Duration) {
        let answered = || {
            let answers = self.answers();
            answers
                .iter()
                .skip(since)
                .any(|a| a.as_deref().is_ok_and(|i| i == instance))
        };
        let deadline = Instant::now() + limit;
        while !answered() {
            assert!(
                Instant::now() < deadline,
                "{instance} answered no call within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(self) -> Vec<Result<String, appwire::Error>> {
        self.running.store(false, Ordering::Relaxed);
        self.task.await.expect("load task");
        Arc::into_inner(self.answers)
            .expect("the task is done")
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn answers(&self) -> std::sync::MutexGuard<'_, Vec<Result<String, appwire::Error>>> {
        self.answers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[tokio::test]
async fn stopping_an_instance_mid_run_fails_over_opens_its_breaker_and_restarting_it_recovers() {
    let Some(mut fleet) = common::fleet(2).await else {
        return;
    };
    let a = fleet.servers()[0].instance();
    let b = fleet.servers()[1].instance();
    let target = common::target(&fleet);
    let conn = common::connection(target.client()).clone();
    let load = Load::start(&target);
    let limit = Duration::from_secs(10);
    load.until_answered_by(&a, 0, limit).await;
    load.until_answered_by(&b, 0, limit).await;

    // A goes down mid-run: its breaker opens and B answers every call. The one call in flight
    // when A is killed may still have been answered by A.
    fleet.servers_mut()[0].stop().await.expect("stop A");
    let down_from = load.count() + 1;
    let deadline = Instant::now() + limit;
    while !is_open(&host(&conn, 0)) {
        assert!(Instant::now() < deadline, "A's breaker did not open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let opened_at = load.count();
    load.until_answered_by(&b, opened_at + 5, limit).await;
    assert_eq!(host(&conn, 1).state, BreakerState::Closed);

    // A comes back: once its breaker lets a probe through, it answers again and closes.
    let down_until = load.count();
    fleet.servers_mut()[0].start().await.expect("restart A");
    load.until_answered_by(&a, down_until, limit).await;
    let answers = load.stop().await;

    let failed: Vec<_> = answers.iter().filter_map(|a| a.as_ref().err()).collect();
    assert!(failed.is_empty(), "calls failed: {failed:?}");
    let during_outage = &answers[down_from..down_until];
    assert!(during_outage.len() >= 5, "{during_outage:?}");
    assert!(
        during_outage
            .iter()
            .all(|a| a.as_deref().is_ok_and(|i| i == b)),
        "A answered while it was down: {during_outage:?}"
    );
    let a_now = host(&conn, 0);
    assert_eq!((a_now.state, a_now.failures), (BreakerState::Closed, 0));
}
