//! The streams part of a run: one Redis server on the hosts' CPU, and each workload run by
//! each side that has it, in a client process of its own (the bench re-executed as
//! `appwire-bench streams-client ..`, or `python/streams_load.py`), on an emptied server.

use std::error::Error;
use std::fs::File;
use std::io::Write;
use std::process::Command;
use std::time::Duration;

use appwire_test_support::redis::RedisServer;

use crate::load::{Figures, Measured};
use crate::streams_load::{StreamClient, StreamPlan, Workload};
use crate::suite::Runner;

/// How long and how hard the streams runs are.
#[derive(Debug, Clone)]
pub(crate) struct StreamSizes {
    /// Runs of each side at each workload; the figures are their medians.
    pub(crate) rounds: usize,
    /// Publishing before a measured publish run.
    pub(crate) warmup: Duration,
    /// A measured publish run, and the busy run.
    pub(crate) run: Duration,
    /// Orders written before a consume run, all consumed.
    pub(crate) consumed: usize,
    /// Orders sent one at a time to an idle consumer.
    pub(crate) probes: usize,
    /// Orders a second to the busy consumer.
    pub(crate) busy_rate: u64,
    /// Orders scheduled, and the span their due times are spread over.
    pub(crate) scheduled: usize,
    pub(crate) schedule_span: Duration,
}

/// A side's figures at one workload.
#[derive(Debug, Clone)]
pub(crate) struct StreamSample {
    pub(crate) client: StreamClient,
    pub(crate) workload: Workload,
    pub(crate) figures: Figures,
}

/// The workloads, and who runs each.
pub(crate) const WORKLOADS: [(Workload, &[StreamClient]); 6] = [
    (Workload::Publish, &StreamClient::ALL),
    (
        Workload::Batch,
        &[StreamClient::Appwire, StreamClient::Redis],
    ),
    (Workload::Consume, &StreamClient::ALL),
    (Workload::Idle, &StreamClient::ALL),
    (
        Workload::Busy,
        &[StreamClient::Appwire, StreamClient::Redis],
    ),
    (Workload::Lateness, &[StreamClient::Appwire]),
];

impl Runner {
    /// Every workload by every side that has it, round after round, on one fresh server; and
    /// the server's version.
    pub(crate) fn streams(
        &self,
        sizes: &StreamSizes,
    ) -> Result<(String, Vec<StreamSample>), Box<dyn Error>> {
        let server = self.placement.as_host(RedisServer::start)??;
        let url = server.url();
        let info = server
            .command(&["INFO", "server"])?
            .text()
            .unwrap_or_default();
        let version = info
            .lines()
            .find_map(|l| l.strip_prefix("redis_version:"))
            .map_or_else(
                || "redis-server".to_owned(),
                |v| format!("redis-server {}", v.trim()),
            );
        let fill = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let mut runs: Vec<(StreamClient, Workload, Measured)> = Vec::new();
        let mut record = File::create(self.logs.join("streams-runs.txt"))?;
        for round in 1..=sizes.rounds {
            eprintln!("  round {round} of {}", sizes.rounds);
            for (workload, clients) in WORKLOADS {
                for &client in clients {
                    if client == StreamClient::Python && self.python.is_err() {
                        continue;
                    }
                    server.command(&["FLUSHALL"])?;
                    let plan = plan(workload, sizes);
                    if workload == Workload::Consume {
                        fill.block_on(crate::streams_load::fill(&url, plan.messages))
                            .map_err(|e| -> Box<dyn Error> { e })?;
                    }
                    let measured = self.stream_run(client, &url, &plan)?;
                    writeln!(
                        record,
                        "{} {} {}",
                        client.arg(),
                        workload.arg(),
                        serde_json::to_string(&measured)?
                    )?;
                    runs.push((client, workload, measured));
                }
            }
        }
        let mut samples = Vec::new();
        for (workload, clients) in WORKLOADS {
            for &client in clients {
                let of_sample: Vec<Measured> = runs
                    .iter()
                    .filter(|(c, w, _)| *c == client && *w == workload)
                    .map(|(_, _, m)| m.clone())
                    .collect();
                if let Some(figures) = Figures::median(&of_sample) {
                    samples.push(StreamSample {
                        client,
                        workload,
                        figures,
                    });
                }
            }
        }
        Ok((version, samples))
    }

    fn stream_run(
        &self,
        client: StreamClient,
        url: &str,
        plan: &StreamPlan,
    ) -> Result<Measured, Box<dyn Error>> {
        let mut command = match (client, &self.python) {
            (StreamClient::Python, Ok(python)) => python.streams_command(),
            (StreamClient::Python, Err(why)) => return Err(why.clone().into()),
            (client, _) => {
                let mut command = Command::new(&self.bench);
                command.args(["streams-client", "--client", client.arg()]);
                command
            }
        };
        command.args(plan_args(url, plan));
        let what = format!("{} ({})", client.label(), plan.workload.arg());
        let log = format!("streams-{}-{}.log", client.arg(), plan.workload.arg());
        self.measure(&mut command, &log, &what, || Ok(()))
    }
}

fn plan(workload: Workload, sizes: &StreamSizes) -> StreamPlan {
    StreamPlan {
        workload,
        messages: match workload {
            Workload::Consume => sizes.consumed,
            Workload::Idle => sizes.probes,
            Workload::Lateness => sizes.scheduled,
            Workload::Publish | Workload::Batch | Workload::Busy => 0,
        },
        warmup: sizes.warmup,
        duration: match workload {
            Workload::Lateness => sizes.schedule_span,
            _ => sizes.run,
        },
        rate: sizes.busy_rate,
    }
}

/// The arguments the Rust and the Python sides take.
fn plan_args(url: &str, plan: &StreamPlan) -> Vec<String> {
    let ms = |d: Duration| d.as_millis().to_string();
    [
        "--redis",
        url,
        "--workload",
        plan.workload.arg(),
        "--messages",
        &plan.messages.to_string(),
        "--warmup-ms",
        &ms(plan.warmup),
        "--duration-ms",
        &ms(plan.duration),
        "--rate",
        &plan.rate.to_string(),
    ]
    .map(str::to_owned)
    .to_vec()
}
