// A manifest path that does not exist.
appwire::generate!(manifest = "../../../../tests/ui/manifests/nope.json");

fn main() {}
