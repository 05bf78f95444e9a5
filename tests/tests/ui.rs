//! Compile errors of the proc macros: bad manifests and bad options give the intended message,
//! on the intended span (`ui/*.rs` and their `.stderr`). trybuild compiles each case as a crate
//! of its own in `target/tests/trybuild/appwire-tests`, which the macros' crate-relative paths
//! in the cases start from.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
