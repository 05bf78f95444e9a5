//! The `appwire` command line: `appwire check`, `appwire generate` and `appwire schema`.

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use appwire_manifest::env::ProcessEnv;
use appwire_manifest::schema;
use appwire_manifest::{Diagnostic, Diagnostics, Expansion, Manifest, SourceFile};
use clap::{Parser, Subcommand, ValueEnum};

/// Typed clients for hopeit.engine apps.
#[derive(Debug, Parser)]
#[command(name = "appwire", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check app manifests and explain every problem found.
    Check(CheckArgs),
    /// Generate typed clients from a manifest and the OpenAPI specs of its target apps.
    Generate(GenerateArgs),
    /// Print a JSON Schema of the manifest format.
    Schema {
        /// Which schema.
        #[arg(value_enum, default_value_t = SchemaKind::AppConfig)]
        kind: SchemaKind,
    },
}

/// The schemas `appwire schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchemaKind {
    /// A whole app-config file.
    AppConfig,
    /// An app connection's settings section, appwire's extensions included.
    ConnectionSettings,
    /// A stream's settings section (`settings.<stream name>`), appwire's extension included.
    StreamSettings,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Manifest files (hopeit app-config JSON).
    #[arg(required = true)]
    manifests: Vec<PathBuf>,
    /// Expand `${VAR}` from the environment, as a hopeit server does at start, and check the
    /// values that come from it. Without it, those values are left for run time.
    #[arg(long)]
    env: bool,
    /// Fail on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// How diagnostics are written.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct GenerateArgs {
    /// The manifest (hopeit app-config JSON).
    manifest: PathBuf,
    /// The OpenAPI spec of an app connection's target app, as `connection=path`; repeatable.
    /// A connection's `api_spec` in the manifest is used when not given here.
    #[arg(long = "spec", value_name = "CONNECTION=PATH", value_parser = key_value)]
    specs: Vec<(String, String)>,
    /// Use your own type for a schema of the specs, as `Schema=crate::path::Type`; repeatable.
    #[arg(long = "replace", value_name = "SCHEMA=PATH", value_parser = key_value)]
    replace: Vec<(String, String)>,
    /// The path generated code names the runtime by.
    #[arg(long, default_value = "::appwire")]
    runtime_path: String,
    /// Write the code to this file (only when it changed); standard output when absent.
    #[arg(long, conflicts_with = "crate_dir")]
    out: Option<PathBuf>,
    /// With --out: write nothing, and exit with 1 when the file is not what would be generated.
    #[arg(long, requires = "out")]
    check: bool,
    /// Write a standalone client crate (Cargo.toml, README.md, src/lib.rs) into this folder.
    #[arg(long = "crate", value_name = "DIR")]
    crate_dir: Option<PathBuf>,
    /// With --crate: the package name (`<app>-clients` by default).
    #[arg(long, requires = "crate_dir")]
    name: Option<String>,
    /// With --crate: the `appwire` dependency, as a TOML value.
    #[arg(long, requires = "crate_dir", default_value = "\"0.1\"")]
    runtime_dependency: String,
}

fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got `{s}`")),
    }
}

/// How diagnostics are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// With source snippets.
    Human,
    /// One `file:line:col: severity[code]: message` line each, with help and path lines.
    Short,
}

/// Runs the command line with `args` (the program name first), writing to stdout and stderr.
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let stdout = io::stdout();
    let stderr = io::stderr();
    let color = stderr.is_terminal();
    match run_with(args, &mut stdout.lock(), &mut stderr.lock(), color) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("appwire: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs the command line writing to `out` and `err`; `color` enables colored diagnostics.
pub fn run_with(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    out: &mut impl Write,
    err: &mut impl Write,
    color: bool,
) -> io::Result<ExitCode> {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let text = if color {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            let (w, code): (&mut dyn Write, u8) = if e.use_stderr() { (err, 2) } else { (out, 0) };
            w.write_all(text.as_bytes())?;
            return Ok(ExitCode::from(code));
        }
    };
    match cli.command {
        Command::Schema { kind } => {
            let text = match kind {
                SchemaKind::AppConfig => schema::app_config_schema_json(),
                SchemaKind::ConnectionSettings => schema::connection_settings_schema_json(),
                SchemaKind::StreamSettings => schema::stream_settings_schema_json(),
            };
            out.write_all(text.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check(args) => check(&args, err, color),
        Command::Generate(args) => generate(&args, out, err, color),
    }
}

fn check(args: &CheckArgs, err: &mut impl Write, color: bool) -> io::Result<ExitCode> {
    let (mut errors, mut warnings) = (0, 0);
    for path in &args.manifests {
        let expansion = if args.env {
            Expansion::Env(&ProcessEnv)
        } else {
            Expansion::Deferred
        };
        let diagnostics = match Manifest::load_with(path, expansion) {
            Ok(manifest) => manifest.warnings(),
            Err(diagnostics) => diagnostics,
        };
        errors += diagnostics.items().iter().filter(|d| d.is_error()).count();
        warnings += diagnostics.items().iter().filter(|d| !d.is_error()).count();
        write_diagnostics(&diagnostics, args.format, err, color)?;
    }
    let files = args.manifests.len();
    let s = |n: usize| if n == 1 { "" } else { "s" };
    writeln!(
        err,
        "checked {files} manifest{}: {errors} error{}, {warnings} warning{}",
        s(files),
        s(errors),
        s(warnings)
    )?;
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn generate(
    args: &GenerateArgs,
    out: &mut impl Write,
    err: &mut impl Write,
    color: bool,
) -> io::Result<ExitCode> {
    let specs = args
        .specs
        .iter()
        .map(|(k, v)| (k.clone(), PathBuf::from(v)))
        .collect();
    let options = crate::Options {
        runtime_path: args.runtime_path.clone(),
        replace: args.replace.iter().cloned().collect(),
    };
    let result = crate::Inputs::load(&args.manifest, &specs, options)
        .and_then(|inputs| crate::generate(&inputs).map(|g| (inputs, g)));
    let (inputs, generated) = match result {
        Ok(ok) => ok,
        Err(crate::GenerateError::Diagnostics(files)) => {
            for diagnostics in &files {
                write_diagnostics(diagnostics, Format::Human, err, color)?;
            }
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => {
            writeln!(err, "error: {e}")?;
            return Ok(ExitCode::FAILURE);
        }
    };
    write_diagnostics(&generated.warnings, Format::Human, err, color)?;
    let written = match (&args.out, &args.crate_dir) {
        (Some(path), _) if args.check => {
            let current = std::fs::read_to_string(path).unwrap_or_default();
            if current == generated.text {
                writeln!(err, "{} is up to date", path.display())?;
                return Ok(ExitCode::SUCCESS);
            }
            writeln!(
                err,
                "{} is out of date: run `appwire generate` without --check to update it",
                path.display()
            )?;
            return Ok(ExitCode::FAILURE);
        }
        (Some(path), _) => crate::write_if_changed(path, &generated.text)
            .map(|w| if w { vec![path.clone()] } else { vec![] }),
        (None, Some(dir)) => {
            let options = crate::CrateOptions {
                name: args.name.clone(),
                runtime_dependency: args.runtime_dependency.clone(),
            };
            crate::write_crate(dir, &inputs, &generated, &options)
        }
        (None, None) => {
            out.write_all(generated.text.as_bytes())?;
            return Ok(ExitCode::SUCCESS);
        }
    };
    match written {
        Ok(files) if files.is_empty() => writeln!(err, "up to date, nothing written")?,
        Ok(files) => {
            for f in files {
                writeln!(err, "wrote {}", f.display())?;
            }
        }
        Err(e) => {
            writeln!(err, "error: {e}")?;
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_diagnostics(
    diagnostics: &Diagnostics,
    format: Format,
    w: &mut impl Write,
    color: bool,
) -> io::Result<()> {
    match format {
        Format::Short => write!(w, "{diagnostics}"),
        Format::Human => {
            let theme = if color {
                miette::GraphicalTheme::unicode()
            } else {
                miette::GraphicalTheme::unicode_nocolor()
            };
            let handler = miette::GraphicalReportHandler::new_themed(theme)
                .with_width(100)
                .tab_width(TAB_WIDTH);
            let source = diagnostics.source();
            for report in diagnostics.reports() {
                if !drawable(source, report.diagnostic()) {
                    write!(w, "{}", report.diagnostic().plain(source))?;
                    writeln!(w)?;
                    continue;
                }
                let mut text = String::new();
                handler
                    .render_report(&mut text, &report)
                    .map_err(io::Error::other)?;
                writeln!(w, "{text}")?;
            }
            Ok(())
        }
    }
}

/// The tab width of snippets, which [`drawable`] counts with.
const TAB_WIDTH: usize = 4;

/// Whether miette can draw the snippet of `d`. It indents a label's underline with a `{:width$}`
/// of the label's column on screen, and std's formatting panics on widths past `u16::MAX`
/// ("Formatting argument out of range"); a span outside the text fails the rendering too.
/// Decided from an upper bound of that column: a tab counts [`TAB_WIDTH`], another non-ASCII
/// character 2 (the widest), ASCII 1.
fn drawable(source: &SourceFile, d: &Diagnostic) -> bool {
    let text = source.text();
    d.labels.iter().all(|label| {
        let start = label.span.start;
        let line_start = source.line_start(source.line_col(start).line);
        let Some(before) = line_start.and_then(|s| text.get(s..start)) else {
            return false;
        };
        let widest: usize = before
            .chars()
            .map(|c| match c {
                '\t' => TAB_WIDTH,
                c if c.is_ascii() => 1,
                _ => 2,
            })
            .sum();
        widest <= usize::from(u16::MAX) && label.span.end <= text.len()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The human report of a one-line manifest whose only error, an undeclared app connection,
    /// starts after `pad`.
    fn human(pad: &str) -> String {
        let text = format!(
            r#"{{"app": {{"name": "a", "version": "1"}}, "events": {{"e": {{"type": "GET", "connections": [{pad}{{"app_connection": "x", "event": "y", "type": "GET"}}]}}}}}}"#
        );
        let Err(diagnostics) = Manifest::parse("m.json", text.as_str(), Expansion::Deferred) else {
            panic!("the manifest is valid");
        };
        let mut out = Vec::new();
        write_diagnostics(&diagnostics, Format::Human, &mut out, false).expect("write");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn snippets_are_drawn_up_to_the_widest_format_width() {
        let text = human("");
        assert!(text.contains("╭─[m.json:1:"), "{text}");
        let column = |text: &str| -> usize {
            let at = text.find("m.json:1:").expect("location") + "m.json:1:".len();
            text[at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
                .expect("column")
        };
        // Columns start at 1: a label at column 65,536 is indented by 65,535, the widest
        // indentation std formats; one more and miette would panic.
        let pad = " ".repeat(65_536 - column(&text));
        let text = human(&pad);
        assert_eq!(column(&text), 65_536);
        assert!(text.contains("╭─[m.json:1:65536]"), "drawn: {text:.200}");
        let text = human(&format!("{pad} "));
        assert!(
            text.starts_with("m.json:1:65537: error[undeclared-connection]:"),
            "{text:.200}"
        );
        // A tab counts as up to four columns.
        let text = human(&"\t".repeat(16_384));
        assert!(text.starts_with("m.json:1:"), "{text:.200}");
        assert!(!text.contains("╭─["), "{text:.200}");
    }
}
