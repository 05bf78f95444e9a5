//! The hopeit.engine app-config format ("manifest") as typed Rust, read exactly as hopeit
//! reads it, with every mistake explained.
//!
//! ```
//! use appwire_manifest::{Expansion, Manifest};
//!
//! let text = r#"{
//!   "app": {"name": "caller", "version": "1.0"},
//!   "app_connections": {"target": {"name": "target-app", "version": "${HOPEIT_APPS_API_VERSION}",
//!                                  "client": "hopeit.apps_client.AppsClient"}},
//!   "settings": {"target": {"connection_str": "${TARGET_HOSTS}", "retries": 2}},
//!   "events": {"call": {"type": "GET", "connections": [
//!     {"app_connection": "target", "event": "list_items", "type": "GET"}]}}
//! }"#;
//! // Without an environment, as code generation reads it: `${TARGET_HOSTS}` stays as written.
//! let manifest = Manifest::parse("app-config.json", text, Expansion::Deferred).unwrap();
//! let config = manifest.config();
//! assert_eq!(config.app_key(), "caller.1x0");
//! let conn = &config.app_connections["target"];
//! assert_eq!(appwire_manifest::naming::event_route(conn.route_target(), "list_items", None),
//!            "/api/target-app/0x30/list-items");
//!
//! // At run time, with the environment.
//! let env = std::collections::HashMap::from([("TARGET_HOSTS".into(), "http://h1:8020".into())]);
//! let manifest = Manifest::parse("app-config.json", text, Expansion::Env(&env)).unwrap();
//! let settings = manifest.config().connection_settings("target").unwrap();
//! assert_eq!(settings.retries, 2);
//! assert_eq!(settings.circuit_breaker_open_failures, 10); // hopeit's default
//! ```
//!
//! The pieces, in the order a manifest goes through them:
//! - [`env`](mod@env): `${VAR}` expansion of the raw text, hopeit's semantics plus `${VAR:-default}`;
//! - the [`model`]: every section and field with hopeit's defaults and lax coercions;
//! - templates: `{dotted.path}` and `{auto}` substitution, as hopeit does after parsing;
//! - checks: `Diagnostic`s with stable `Code`s, file locations and JSON paths;
//! - [`naming`]: app keys, routes and generated Rust names;
//! - `schema`: the JSON Schema of the format.
//!
//! # Features
//!
//! The model, [`env`](mod@env) expansion, [`naming`] and [`JsonPath`] are always there: they
//! are what a client needs at run time, and with no features the crate depends only on serde,
//! serde_json, indexmap and thiserror (and small helpers for error paths).
//!
//! - `diagnostics` (default): loading a manifest with located diagnostics: `Manifest`,
//!   `Expansion`, `Diagnostic`, `Diagnostics`, `Code`, `source`. The checks suggest
//!   a key for a misspelled one from the model's own serde field names, without `schema`.
//!   `source::JsonSource` locates diagnostics about other JSON files, such as OpenAPI specs.
//! - `schema` (default): the `schema` module and `schemars::JsonSchema` on the model types.
//! - `miette` (default, enables `diagnostics`): `Report`, `Diagnostics::reports`, a
//!   `miette::Diagnostic` for each diagnostic with its source snippet.

#[cfg(feature = "diagnostics")]
mod check;
#[cfg(feature = "diagnostics")]
pub mod diagnostic;
pub mod env;
#[cfg(feature = "diagnostics")]
mod fields;
mod lax;
#[cfg(feature = "diagnostics")]
mod load;
#[cfg(feature = "diagnostics")]
mod located;
pub mod model;
pub mod naming;
pub mod path;
#[cfg(feature = "schema")]
pub mod schema;
#[cfg(feature = "diagnostics")]
pub mod source;
#[cfg(feature = "diagnostics")]
mod template;
mod typed;

#[cfg(feature = "miette")]
pub use diagnostic::Report;
#[cfg(feature = "diagnostics")]
pub use diagnostic::{Code, Diagnostic, Diagnostics, Severity};
#[cfg(feature = "diagnostics")]
pub use load::{Expansion, Manifest};
pub use model::*;
pub use path::JsonPath;
#[cfg(feature = "diagnostics")]
pub use source::{LineCol, SourceFile};
