//! The `appwire` command line: `appwire check` and `appwire schema`.

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use appwire_manifest::env::ProcessEnv;
use appwire_manifest::schema;
use appwire_manifest::{Diagnostics, Expansion, Manifest};
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
            };
            out.write_all(text.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check(args) => check(&args, err, color),
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
            let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
            for report in diagnostics.reports() {
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
