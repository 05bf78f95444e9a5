//! The build.rs front end: `build.rs` runs `appwire_codegen::Builder` on the quickstart
//! manifest, and `appwire::include_clients!()` includes what it generated.
//!
//! Run it with `cargo run -p appwire-examples --bin build_script`.

use appwire_examples::{catalog_host, env};

mod clients {
    appwire::include_clients!();
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let host = catalog_host("host a").await;
    let connection = clients::Catalog::builder(&env(&[&host]))?.build()?;
    let catalog = clients::Catalog::new(connection);
    let items = catalog.list_items(None).await?;
    println!("list_items -> {} {}", items.status, items.value.len());
    for item in items.value {
        println!("  {} {}", item.id, item.name);
    }
    Ok(())
}
