//! appwire's generator: typed clients from hopeit.engine app manifests and the OpenAPI specs of
//! their target apps.
//!
//! One generator serves three front ends, which produce the same code for the same inputs:
//! the `appwire generate` command line, the build.rs [`Builder`], and the `appwire::clients`
//! proc macro. All of them read inputs with [`Inputs::load`] and call [`generate`].
//!
//! What is generated, for each target app (name and version) the manifest connects to: a
//! module holding the types of its spec, each schema once whichever connections and events use
//! it; the answer enums of the events that declare statuses; and a client type per app
//! connection, re-exported beside the module. A client wraps the runtime's `Client`, and each
//! of its methods makes its event's request and returns the runtime's `Call`. In a module, the
//! names of the standard prelude and of the runtime items it imports are reserved, then come
//! client types, schema types and answer enums: a type name already taken gets the lowest free
//! number from 2 (`Error2`), a method, argument or field name a trailing `_` (`new_`).
//!
//! Problems of the manifest and of the specs are all collected before generation fails, each
//! with its stable code, file, line, column and JSON path ([`GenerateError::Diagnostics`]).

mod builder;
#[cfg(feature = "cli")]
pub mod cli;
mod emit;
mod error;
mod generate;
mod ident;
pub mod macro_support;
mod model;
mod spec;
#[cfg(feature = "scaffold")]
mod standalone;

pub use builder::Builder;
pub use error::GenerateError;
pub use generate::{ClientSummary, Generated, Inputs, Options, generate, write_if_changed};
#[cfg(feature = "scaffold")]
pub use standalone::{CrateOptions, write_crate};
