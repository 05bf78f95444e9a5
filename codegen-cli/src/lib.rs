//! appwire's generator: typed clients from hopeit.engine app manifests and the OpenAPI specs of
//! their target apps.
//!
//! One generator serves three front ends, which produce the same code for the same inputs:
//! the `appwire generate` command line, the build.rs [`Builder`], and the `appwire::clients`
//! proc macro. All of them read inputs with [`Inputs::load`] and call [`generate`].

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
