//! The `appwire` command line.

fn main() -> std::process::ExitCode {
    appwire_codegen::cli::run(std::env::args_os())
}
