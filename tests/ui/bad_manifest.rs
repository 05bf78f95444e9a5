// A manifest with an error: the message names its file, line and column, on the path literal.
#[appwire::clients(manifest = "../../../../tests/ui/manifests/undeclared-connection.json")]
mod clients {}

fn main() {}
