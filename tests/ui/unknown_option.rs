// An option the macro does not know, spanned on the option.
#[appwire::clients(manifest = "../../../../tests/ui/manifests/undeclared-connection.json", specs(x = "y"))]
mod clients {}

fn main() {}
