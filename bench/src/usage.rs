//! What a process used: CPU time and peak resident memory, read about the process itself.

use std::time::Duration;

use rustix::time::{ClockId, clock_gettime};

/// CPU time used by this process so far, user and system, all threads
/// (`CLOCK_PROCESS_CPUTIME_ID`: what `getrusage(RUSAGE_SELF)` counts, to the nanosecond).
pub(crate) fn cpu_time() -> Duration {
    let t = clock_gettime(ClockId::ProcessCPUTime);
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(t.tv_nsec).unwrap_or(0);
    Duration::new(secs, nanos)
}

/// Peak resident memory of this process in KiB: `VmHWM` of `/proc/self/status`.
pub(crate) fn peak_rss_kib() -> std::io::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| std::io::Error::other("no VmHWM line in /proc/self/status"))
}
