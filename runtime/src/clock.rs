//! Time arithmetic that cannot panic.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

/// `now + d`, or the latest representable instant short of it.
///
/// Settings may hold absurd durations (`Duration::MAX` as "never"); those must saturate
/// instead of overflowing the platform clock.
pub(crate) fn saturating_add(now: Instant, d: Duration) -> Instant {
    saturate(d, |d| now.checked_add(d))
}

/// [`saturating_add`] for the wall clock.
pub(crate) fn saturating_add_system(now: SystemTime, d: Duration) -> SystemTime {
    saturate(d, |d| now.checked_add(d))
}

/// Halves `d` until `add` accepts it; adding zero always succeeds, so this ends.
fn saturate<T>(mut d: Duration, add: impl Fn(Duration) -> Option<T>) -> T {
    loop {
        if let Some(t) = add(d) {
            return t;
        }
        d /= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

    #[test]
    fn adds_in_range_durations_exactly() {
        let now = Instant::now();
        assert_eq!(saturating_add(now, 5 * YEAR), now + 5 * YEAR);
        let wall = SystemTime::UNIX_EPOCH;
        assert_eq!(saturating_add_system(wall, YEAR), wall + YEAR);
    }

    #[test]
    fn saturates_instead_of_overflowing() {
        let now = Instant::now();
        assert!(saturating_add(now, Duration::MAX) > now + 100 * YEAR);
        let wall = SystemTime::UNIX_EPOCH;
        assert!(saturating_add_system(wall, Duration::MAX) > wall + 100 * YEAR);
    }
}
