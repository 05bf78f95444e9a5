// The attribute fills an empty module only.
#[appwire::clients(manifest = "../../../../codegen-cli/tests/fixtures/inventory.json")]
mod clients {
    fn mine() {}
}

fn main() {}
