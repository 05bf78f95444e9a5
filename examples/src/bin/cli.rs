//! The command-line front end: `src/cli_clients.rs` was written by
//!
//! ```sh
//! cargo run -p appwire-codegen -- generate examples/quickstart/app-config.json --out examples/src/cli_clients.rs
//! ```
//!
//! and is checked in; a workspace test fails when it is out of date (`--check`).
//!
//! Run it with `cargo run -p appwire-examples --bin cli`.

use appwire_examples::{catalog_host, env};

mod clients {
    include!("../cli_clients.rs");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let host = catalog_host("host a").await;
    let connection = clients::Catalog::builder(&env(&[&host]))?.build()?;
    let catalog = clients::Catalog::new(connection);
    let saved = catalog
        .save_item(&clients::catalog::Item {
            id: "item-7".into(),
            name: "Chair".into(),
            price: None,
            served_by: None,
        })
        .await?;
    println!("save_item -> {} {:?}", saved.status, saved.value);
    Ok(())
}
