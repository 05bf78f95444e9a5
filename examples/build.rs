//! The build.rs front end: generates the quickstart's clients into `OUT_DIR` for the
//! `build_script` example.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    appwire_codegen::Builder::new()
        .manifest("quickstart/app-config.json")
        .generate()?;
    Ok(())
}
