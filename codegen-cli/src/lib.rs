//! appwire's generator and its `appwire` command line.
//!
//! The library holds what the CLI does, so that it can be tested and embedded; the `appwire`
//! binary is a thin shell over [`cli::run`].

pub mod cli;
