//! What a process used: CPU time and peak resident memory, read about the process itself,
//! and the CPU time of the children it waited for.

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

/// CPU time, user and system, of the children this process has waited for, theirs and their
/// own waited-for children's (`cutime` and `cstime` of `/proc/self/stat`, what
/// `getrusage(RUSAGE_CHILDREN)` counts, in clock ticks).
pub(crate) fn children_cpu_time() -> std::io::Result<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let ticks = children_ticks(&stat)
        .ok_or_else(|| std::io::Error::other("no cutime and cstime in /proc/self/stat"))?;
    let per_second = rustix::param::clock_ticks_per_second().max(1);
    Ok(Duration::from_secs_f64(ticks as f64 / per_second as f64))
}

/// `cutime` + `cstime`, fields 16 and 17 of a `/proc/<pid>/stat` line; the command name
/// (field 2, in parentheses) may hold spaces, so fields are counted after its `)`.
fn children_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(13);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_ticks_are_read_after_the_command_name() {
        let stat = "4242 (app wire) S 1 4242 4242 0 -1 4194560 500 0 0 0 12 3 70 9 20 0 1 0 \
                    100 1000 200 18446744073709551615";
        assert_eq!(children_ticks(stat), Some(79));
    }
}
