//! The tables: each figure with its ratio to plain reqwest, the failover case, code generation,
//! the service crate's build from clean, the stream messages, and where each of appwire's
//! targets stands. Tables are Markdown, readable as they are.

use std::fmt::Write;
use std::time::Duration;

use crate::codegen::CodegenSample;
use crate::load::Figures;
use crate::service::ServiceBuild;
use crate::streams::{StreamSample, StreamSizes};
use crate::streams_load::{BATCH, StreamClient, Workload};
use crate::suite::{Client, Failover, Sample};

/// Everything a run found.
pub(crate) struct Report {
    /// The machine and the settings of the run, one line each.
    pub(crate) preamble: Vec<String>,
    pub(crate) levels: Vec<usize>,
    pub(crate) throughput: Vec<Sample>,
    /// The failover runs and what they were.
    pub(crate) failover: Vec<Failover>,
    pub(crate) failover_setup: String,
    pub(crate) codegen: Vec<CodegenSample>,
    pub(crate) service: Option<ServiceBuild>,
    pub(crate) streams: Vec<StreamSample>,
    pub(crate) stream_sizes: StreamSizes,
    /// Notes printed under the tables: skipped clients, the load of the machine.
    pub(crate) notes: Vec<String>,
}

impl Report {
    /// The report as text.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.preamble {
            let _ = writeln!(out, "{line}");
        }
        if !self.throughput.is_empty() {
            self.render_throughput(&mut out);
        }
        if !self.failover.is_empty() {
            self.render_failover(&mut out);
        }
        if !self.codegen.is_empty() {
            render_codegen(&self.codegen, &mut out);
        }
        if let Some(service) = &self.service {
            render_service(service, &mut out);
        }
        if !self.streams.is_empty() {
            self.render_streams(&mut out);
        }
        let targets = self.targets();
        if !targets.is_empty() {
            let _ = writeln!(out, "\nTargets");
            for line in targets {
                let _ = writeln!(out, "- {line}");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out);
            for note in &self.notes {
                let _ = writeln!(out, "Note: {note}");
            }
        }
        out
    }

    fn sample(&self, client: Client, concurrency: usize) -> Option<&Figures> {
        self.throughput
            .iter()
            .find(|s| s.client == client && s.concurrency == concurrency)
            .map(|s| &s.figures)
    }

    fn clients(&self) -> Vec<Client> {
        Client::ALL
            .into_iter()
            .filter(|c| self.throughput.iter().any(|s| s.client == *c))
            .collect()
    }

    fn render_throughput(&self, out: &mut String) {
        let header = |first: &str| {
            std::iter::once(first.to_owned())
                .chain(self.levels.iter().map(|c| format!("c={c}")))
                .collect::<Vec<_>>()
        };
        let figure = |title: &str, value: fn(&Figures) -> f64, shown: fn(f64) -> String| {
            let mut table = Table::new(header("client"));
            for client in self.clients() {
                let mut row = vec![client.label().to_owned()];
                for &c in &self.levels {
                    let cell = match (self.sample(client, c), self.sample(Client::Reqwest, c)) {
                        (Some(m), Some(floor)) => {
                            format!("{} ({:.2}x)", shown(value(m)), value(m) / value(floor))
                        }
                        (Some(m), None) => shown(value(m)),
                        _ => "-".to_owned(),
                    };
                    row.push(cell);
                }
                table.row(row);
            }
            (title.to_owned(), table)
        };
        let tables = [
            figure(
                "Calls per second (ratio to plain reqwest)",
                |f| f.calls_per_second,
                |v| group(v.round()),
            ),
            figure(
                "Client CPU time per call, µs (ratio to plain reqwest)",
                |f| f.cpu_us,
                |v| format!("{v:.1}"),
            ),
            figure(
                "Latency p50, ms (ratio to plain reqwest)",
                |f| f.p50_ms,
                millis,
            ),
            figure(
                "Latency p99, ms (ratio to plain reqwest)",
                |f| f.p99_ms,
                millis,
            ),
            figure(
                "Peak memory of the client process (VmHWM), MiB (ratio to plain reqwest)",
                |f| f.peak_rss_mib,
                |v| format!("{v:.1}"),
            ),
        ];
        for (title, table) in tables {
            let _ = write!(out, "\n{title}\n\n{}", table.render());
        }
        let failed: u64 = self.throughput.iter().map(|s| s.figures.failed).sum();
        if failed > 0 {
            let _ = writeln!(out, "\n{failed} calls failed in these runs.");
        }
    }

    fn render_failover(&self, out: &mut String) {
        let _ = write!(out, "\nFailover: {}\n\n", self.failover_setup);
        let mut table = Table::new(
            [
                "client",
                "calls",
                "failed",
                "p99 ms",
                "max ms",
                "calls in the second after the kill",
                "failed",
                "p99 ms",
                "max ms",
            ]
            .map(str::to_owned)
            .to_vec(),
        );
        for sample in &self.failover {
            let m = &sample.measured;
            let mut row = vec![
                sample.client.label().to_owned(),
                group(m.calls as f64),
                group(m.failed as f64),
                millis(m.p99_us as f64 / 1e3),
                millis(m.max_us as f64 / 1e3),
            ];
            match &m.window {
                Some(w) => row.extend([
                    group(w.calls as f64),
                    group(w.failed as f64),
                    millis(w.p99_us as f64 / 1e3),
                    millis(w.max_us as f64 / 1e3),
                ]),
                None => row.extend(std::iter::repeat_n("-".to_owned(), 4)),
            }
            table.row(row);
        }
        out.push_str(&table.render());
        for sample in &self.failover {
            if let Some(error) = &sample.measured.first_error {
                let _ = writeln!(out, "{}, first failure: {error}", sample.client.label());
            }
        }
    }

    fn stream(&self, client: StreamClient, workload: Workload) -> Option<&Figures> {
        self.streams
            .iter()
            .find(|s| s.client == client && s.workload == workload)
            .map(|s| &s.figures)
    }

    fn render_streams(&self, out: &mut String) {
        let z = &self.stream_sizes;
        let secs = |d: Duration| d.as_secs_f64();
        let tables = [
            (
                Workload::Publish,
                format!(
                    "Streams, publish one by one: each order awaited, {} s after {} s of warm-up; \
                     latency of a publish",
                    secs(z.run),
                    secs(z.warmup)
                ),
            ),
            (
                Workload::Batch,
                format!(
                    "Streams, publish in batches of {BATCH}: one round trip each, {} s after {} s \
                     of warm-up; latency of a batch",
                    secs(z.run),
                    secs(z.warmup)
                ),
            ),
            (
                Workload::Consume,
                format!(
                    "Streams, consume: {} orders written before, read, decoded, handled and \
                     acknowledged (hopeit: its engine's `read_stream` of a STREAM event)",
                    group(z.consumed as f64)
                ),
            ),
            (
                Workload::Idle,
                format!(
                    "Streams, end to end with an idle consumer: {} orders one at a time, the \
                     next 1 ms after the handler saw the last; latency from publish to handler",
                    group(z.probes as f64)
                ),
            ),
            (
                Workload::Busy,
                format!(
                    "Streams, end to end with a busy consumer: {} orders a second for {} s, \
                     published every millisecond; latency from publish to handler",
                    group(z.busy_rate as f64),
                    secs(z.run)
                ),
            ),
        ];
        for (workload, title) in tables {
            let floor = self.stream(StreamClient::Redis, workload);
            let mut table = Table::new(
                [
                    "side",
                    "orders/s",
                    "to the floor",
                    "CPU µs per order",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                ]
                .map(str::to_owned)
                .to_vec(),
            );
            for client in StreamClient::ALL {
                let Some(f) = self.stream(client, workload) else {
                    continue;
                };
                let latency = workload != Workload::Consume;
                let ms = |v: f64| if latency { millis(v) } else { "-".to_owned() };
                table.row(vec![
                    client.label().to_owned(),
                    group(f.calls_per_second.round()),
                    floor.map_or("-".to_owned(), |floor| {
                        format!("{:.2}x", f.calls_per_second / floor.calls_per_second)
                    }),
                    format!("{:.1}", f.cpu_us),
                    ms(f.p50_ms),
                    ms(f.p99_ms),
                    ms(f.max_ms),
                ]);
            }
            let _ = write!(out, "\n{title}\n\n{}", table.render());
        }
        if let Some(late) = self.stream(StreamClient::Appwire, Workload::Lateness) {
            let _ = write!(
                out,
                "\nStreams, scheduled delivery: {} orders `publish_at` times spread over {} s, \
                 200 ms ahead; lateness from the due time to the handler (the floor and hopeit \
                 have no scheduled delivery)\n\n",
                group(z.scheduled as f64),
                secs(z.schedule_span)
            );
            let mut table = Table::new(
                ["side", "p50 ms", "p99 ms", "max ms", "delivered early"]
                    .map(str::to_owned)
                    .to_vec(),
            );
            table.row(vec![
                StreamClient::Appwire.label().to_owned(),
                millis(late.p50_ms),
                millis(late.p99_ms),
                millis(late.max_ms),
                group(late.failed as f64),
            ]);
            out.push_str(&table.render());
        }
    }

    /// Where each stream target stands.
    fn stream_targets(&self, verdict: fn(bool) -> &'static str) -> Vec<String> {
        let mut lines = Vec::new();
        let ratio = |workload, to| {
            Some(
                self.stream(StreamClient::Appwire, workload)?
                    .calls_per_second
                    / self.stream(to, workload)?.calls_per_second,
            )
        };
        let publish: Vec<(&str, f64)> = [
            ("one by one", Workload::Publish),
            ("batched", Workload::Batch),
        ]
        .into_iter()
        .filter_map(|(name, w)| Some((name, ratio(w, StreamClient::Redis)?)))
        .collect();
        if !publish.is_empty() {
            let each: Vec<String> = publish
                .iter()
                .map(|(n, r)| format!("{r:.2}x {n}"))
                .collect();
            lines.push(format!(
                "stream publish at least 0.9x the plain redis loop: {}: {}",
                each.join(", "),
                verdict(publish.iter().all(|(_, r)| *r >= 0.9))
            ));
        }
        if let Some(idle) = self.stream(StreamClient::Appwire, Workload::Idle) {
            lines.push(format!(
                "end-to-end p50 at most 1 ms with an idle subscriber: {} ms: {}",
                millis(idle.p50_ms),
                verdict(idle.p50_ms <= 1.0)
            ));
        }
        if let Some(r) = ratio(Workload::Consume, StreamClient::Python) {
            lines.push(format!(
                "consume throughput at least 20x hopeit's: {r:.1}x: {}",
                verdict(r >= 20.0)
            ));
        }
        if let Some(late) = self.stream(StreamClient::Appwire, Workload::Lateness) {
            lines.push(format!(
                "scheduled-delivery lateness p99 at most 10 ms: {} ms, {} early: {}",
                millis(late.p99_ms),
                late.failed,
                verdict(late.p99_ms <= 10.0 && late.failed == 0)
            ));
        }
        lines
    }

    /// Where each target stands, with the figure behind it.
    fn targets(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let verdict = |met: bool| if met { "met" } else { "MISSED" };
        let cpu: Vec<(usize, f64)> = self
            .levels
            .iter()
            .filter_map(|&c| {
                let (ours, floor) = (
                    self.sample(Client::Generated, c)?,
                    self.sample(Client::Reqwest, c)?,
                );
                Some((c, ours.cpu_us / floor.cpu_us))
            })
            .collect();
        if !cpu.is_empty() {
            let worst = cpu.iter().map(|(_, r)| *r).fold(0.0, f64::max);
            let each: Vec<String> = cpu
                .iter()
                .map(|(c, r)| format!("{r:.2}x at c={c}"))
                .collect();
            lines.push(format!(
                "appwire's CPU per call within 10 % of plain reqwest: {}: {}",
                each.join(", "),
                verdict(worst <= 1.10)
            ));
        }
        if let (Some(ours), Some(python)) = (
            self.sample(Client::Generated, 16),
            self.sample(Client::Python, 16),
        ) {
            let ratio = ours.calls_per_second / python.calls_per_second;
            lines.push(format!(
                "throughput at least 7x hopeit's apps-client at c=16: {ratio:.1}x: {}",
                verdict(ratio >= 7.0)
            ));
        }
        if let Some(ours) = self.failover.iter().find(|s| s.client == Client::Generated) {
            let failed = ours.measured.failed;
            lines.push(format!(
                "no failed calls when a host dies, retries on: {failed} failed of {}: {}",
                group(ours.measured.calls as f64),
                verdict(failed == 0)
            ));
        }
        if let Some(large) = self.codegen.iter().find(|s| s.events == 1000) {
            lines.push(format!(
                "generating a 1,000-event manifest under 1 s: {}: {}",
                seconds(large.generate),
                verdict(large.generate < Duration::from_secs(1))
            ));
        }
        lines.extend(self.stream_targets(verdict));
        lines
    }
}

fn render_codegen(samples: &[CodegenSample], out: &mut String) {
    let _ = write!(
        out,
        "\nCode generation: `appwire_codegen::generate` (median), and `cargo build` of the crate \
         `appwire generate --crate` writes, dependencies built already\n\n"
    );
    let mut table = Table::new(
        [
            "events",
            "generate",
            "lines",
            "lines per event",
            "build from clean",
            "rebuild after touch",
        ]
        .map(str::to_owned)
        .to_vec(),
    );
    for s in samples {
        let (fresh, incremental) = match s.build {
            Some(b) => (seconds(b.fresh), seconds(b.incremental)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        table.row(vec![
            group(s.events as f64),
            seconds(s.generate),
            group(s.lines as f64),
            format!("{:.0}", s.lines as f64 / s.events as f64),
            fresh,
            incremental,
        ]);
    }
    out.push_str(&table.render());
}

fn render_service(build: &ServiceBuild, out: &mut String) {
    let _ = write!(
        out,
        "\nService crate built from clean: `cargo build --offline` (dev profile) of a crate that \
         depends on `runtime/` with default features and makes one call of a \
         `#[appwire::clients]` client, from an empty target directory, its dependencies \
         included\n\n"
    );
    let mut table = Table::new(
        ["crate", "wall", "CPU (user + sys)", "crates compiled"]
            .map(str::to_owned)
            .to_vec(),
    );
    table.row(vec![
        "service (appwire, default features)".to_owned(),
        seconds(build.wall),
        seconds(build.cpu),
        group(build.compiled as f64),
    ]);
    out.push_str(&table.render());
}

/// A Markdown table, its columns padded: the first aligned left, the others right.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: Vec<String>) -> Self {
        Self {
            header,
            rows: Vec::new(),
        }
    }

    fn row(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    fn render(&self) -> String {
        let width = |i: usize| {
            std::iter::once(&self.header)
                .chain(&self.rows)
                .filter_map(|r| r.get(i))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..self.header.len()).map(width).collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (cell, &w))| match i {
                    0 => format!("{cell:<w$}"),
                    _ => format!("{cell:>w$}"),
                })
                .collect();
            format!("| {} |\n", padded.join(" | "))
        };
        let rule: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(i, &w)| match i {
                0 => "-".repeat(w + 2),
                _ => format!("{}:", "-".repeat(w + 1)),
            })
            .collect();
        let mut text = line(&self.header);
        text.push_str(&format!("|{}|\n", rule.join("|")));
        for row in &self.rows {
            text.push_str(&line(row));
        }
        text
    }
}

/// `12345` as `12,345`.
fn group(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// Milliseconds with two or three significant digits.
fn millis(ms: f64) -> String {
    match ms {
        ms if ms < 1.0 => format!("{ms:.3}"),
        ms if ms < 10.0 => format!("{ms:.2}"),
        ms if ms < 100.0 => format!("{ms:.1}"),
        ms => format!("{ms:.0}"),
    }
}

fn seconds(d: Duration) -> String {
    match d.as_secs_f64() {
        s if s < 1.0 => format!("{:.1} ms", s * 1e3),
        s => format!("{s:.2} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(group(0.0), "0");
        assert_eq!(group(999.0), "999");
        assert_eq!(group(1000.0), "1,000");
        assert_eq!(group(1234567.4), "1,234,567");
    }

    #[test]
    fn tables_are_padded_markdown() {
        let mut table = Table::new(vec!["client".into(), "c=1".into()]);
        table.row(vec!["reqwest".into(), "12".into()]);
        assert_eq!(
            table.render(),
            "| client  | c=1 |\n|---------|----:|\n| reqwest |  12 |\n"
        );
    }
}
