//! The quickstart: a typed client generated from a hopeit manifest and the target app's
//! OpenAPI spec (here by the `#[appwire::clients]` macro), calling two local catalog hosts, and
//! failing over when one of them stops.
//!
//! Run it with `cargo run -p appwire-examples --bin quickstart`.

use appwire::breaker::BreakerState;
use appwire_examples::{Host, catalog_host, env};
use tokio::time::Instant;

/// The clients of `quickstart/app-config.json`: one type per app connection, one method per
/// event the manifest connects to.
#[appwire::clients(manifest = "quickstart/app-config.json")]
mod clients {}

use clients::catalog::{Catalog, GetItemResponse, Item};

async fn show(catalog: &Catalog, id: &str) -> Result<(), appwire::Error> {
    match catalog.get_item(id).await?.value {
        GetItemResponse::Ok(item) => println!(
            "  get_item({id:<9}) -> {:<14} served by {}",
            item.name,
            item.served_by.as_deref().unwrap_or("?")
        ),
        GetItemResponse::NotFound(missing) => {
            println!(
                "  get_item({id:<9}) -> 404, declared: no item {:?}",
                missing.item_id
            )
        }
    }
    Ok(())
}

fn hosts_state(catalog: &Catalog, hosts: &[(&str, &Host)]) {
    let snapshots = catalog.client().connection().snapshot();
    for (snapshot, (name, _)) in snapshots.iter().zip(hosts) {
        let state = match snapshot.state {
            BreakerState::Closed => "closed".to_owned(),
            BreakerState::HalfOpen => "half-open".to_owned(),
            BreakerState::Open { until } => format!(
                "open for {} s more",
                until
                    .saturating_duration_since(Instant::now())
                    .as_secs_f32()
                    .round()
            ),
        };
        println!(
            "  host {name}: breaker {state:<18} failures {}  {}",
            snapshot.failures, snapshot.url
        );
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (a, b) = (catalog_host("host a").await, catalog_host("host b").await);
    let hosts = [("a", &a), ("b", &b)];
    // The manifest's settings read `${CATALOG_HOSTS}`; `Catalog::from_env()` reads the process
    // environment; here `Catalog::builder` is handed the two local hosts instead.
    let connection = Catalog::builder(&env(&[&a, &b]))?.build()?;
    let catalog = Catalog::new(connection);

    println!("Round robin over two hosts (GET /api/catalog/0x30/get-item):");
    for id in ["item-1", "item-2", "item-3", "missing-1"] {
        show(&catalog, id).await?;
    }

    let items = catalog.list_items(Some(2)).await?.value;
    println!("  list_items(2)      -> {} items", items.len());
    let item = Item {
        id: "item-9".into(),
        name: "Lamp".into(),
        price: Some(25.0),
        served_by: None,
    };
    println!(
        "  save_item(item-9)  -> saved {:?}",
        catalog.save_item(&item).await?.value
    );

    println!(
        "\nHost b stops. Every call still succeeds: a failed attempt is retried on the next host,"
    );
    println!("and after two failures host b's circuit breaker opens and takes it out of rotation:");
    b.stop();
    for id in ["item-4", "item-5", "item-6", "item-7"] {
        show(&catalog, id).await?;
    }
    hosts_state(&catalog, &hosts);
    println!(
        "\nRequests served: host a {}, host b {} (b took none after it stopped).",
        a.hits(),
        b.hits()
    );
    Ok(())
}
