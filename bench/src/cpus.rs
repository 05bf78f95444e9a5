//! Where the bench's processes run: the client under test on a CPU of its own, the target
//! hosts on the others, so that a host never takes the client's CPU while it is measured.
//! Children inherit the CPU affinity of the thread that spawns them, so the bench sets its
//! own for the time of a spawn.

use std::io;
use std::process::{Child, Command};

use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};

/// The CPUs of the clients and of the hosts.
pub(crate) struct Placement {
    all: CpuSet,
    /// `(client, hosts)`; none with a single CPU.
    split: Option<(CpuSet, CpuSet)>,
    shown: String,
}

impl Placement {
    /// The first CPU this process may run on for the clients, the others for the hosts.
    pub(crate) fn new() -> io::Result<Self> {
        let all = sched_getaffinity(None)?;
        let cpus: Vec<usize> = (0..CpuSet::MAX_CPU)
            .filter(|&cpu| all.is_set(cpu))
            .collect();
        let Some((&first, rest)) = cpus.split_first().filter(|(_, rest)| !rest.is_empty()) else {
            return Ok(Self {
                all,
                split: None,
                shown: "clients and hosts share the only CPU".to_owned(),
            });
        };
        let (mut client, mut hosts) = (CpuSet::new(), CpuSet::new());
        client.set(first);
        for &cpu in rest {
            hosts.set(cpu);
        }
        let rest: Vec<String> = rest.iter().map(usize::to_string).collect();
        Ok(Self {
            all,
            split: Some((client, hosts)),
            shown: format!("clients on CPU {first}, hosts on CPU {}", rest.join(", ")),
        })
    }

    /// Spawns a client under test.
    pub(crate) fn spawn_client(&self, command: &mut Command) -> io::Result<Child> {
        self.spawn(self.split.as_ref().map(|(client, _)| client), command)
    }

    /// Spawns a target host.
    pub(crate) fn spawn_host(&self, command: &mut Command) -> io::Result<Child> {
        self.spawn(self.split.as_ref().map(|(_, hosts)| hosts), command)
    }

    /// Runs `start`, which spawns a target host of its own (a Redis server), on the hosts'
    /// CPUs.
    pub(crate) fn as_host<T>(&self, start: impl FnOnce() -> T) -> io::Result<T> {
        self.pinned(self.split.as_ref().map(|(_, hosts)| hosts), start)
    }

    fn spawn(&self, cpus: Option<&CpuSet>, command: &mut Command) -> io::Result<Child> {
        self.pinned(cpus, || command.spawn())?
    }

    /// Runs `f` with this thread on `cpus`, so that what it spawns runs there.
    fn pinned<T>(&self, cpus: Option<&CpuSet>, f: impl FnOnce() -> T) -> io::Result<T> {
        let Some(cpus) = cpus else {
            return Ok(f());
        };
        sched_setaffinity(None, cpus)?;
        let out = f();
        sched_setaffinity(None, &self.all)?;
        Ok(out)
    }
}

impl std::fmt::Display for Placement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}
