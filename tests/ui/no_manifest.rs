// The manifest option is required.
appwire::generate!(spec(catalog = "api/catalog.json"));

fn main() {}
