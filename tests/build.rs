//! The build.rs front end: clients of the inventory fixture into `OUT_DIR`.

fn main() {
    if let Err(e) = appwire_codegen::Builder::new()
        .manifest("../codegen-cli/tests/fixtures/inventory.json")
        .generate()
    {
        // Reported with the manifest's file:line:col by cargo.
        for line in e.to_string().lines() {
            println!("cargo:warning={line}");
        }
        std::process::exit(1);
    }
}
