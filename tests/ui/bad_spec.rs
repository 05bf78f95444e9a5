// A spec that lacks an event's route: reported on the spec's path literal.
appwire::generate!(
    manifest = "../../../../codegen-cli/tests/fixtures/client-example.json",
    spec(simple_example_conn = "../../../../codegen-cli/tests/fixtures/inventory.openapi.json"),
);

fn main() {}
