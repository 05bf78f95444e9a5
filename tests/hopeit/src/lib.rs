//! appwire against real hopeit.engine 0.30.1 servers on loopback.
//!
//! `apps/` holds small hopeit apps: `appwire-target` (the events called), its OnApp plugin
//! `auth-echo`, and `appwire-caller`, whose manifest the [`clients`] are generated from with
//! the target's OpenAPI spec as `hopeit_openapi` writes it. The servers run from the venv that
//! `tests/hopeit/setup-venv.sh` installs at the workspace root (`bash .ci/run` calls it), or
//! from the one `APPWIRE_HOPEIT_VENV` names.
//!
//! A [`Fleet`] runs instances of the target app for one test and stops them when it is
//! dropped, also when the test panics. A [`HopeitStreams`] runs the `shop` app of
//! `apps/streams/` with its STREAM events consuming from a test's Redis (see [`shop`] for its
//! streams). Tests that need hopeit fail when it is not installed,
//! unless `APPWIRE_SKIP_HOPEIT=1` tells them to skip.

mod fleet;
mod hopeit;
mod streams;

pub use fleet::{Fleet, Server};
pub use hopeit::{Error, Hopeit, SKIP, VENV};
pub use streams::{HopeitStreams, shop};

/// The caller app's clients: `Target` (UNSECURED), `TargetSigned` (`CLIENT_APP_PUBLIC_KEY`)
/// and `AuthEcho` (the plugin's event, `FORWARD_CONTEXT`).
#[appwire::clients(manifest = "apps/caller/config/app-config.json")]
pub mod clients {}

/// The same clients with `explode` declaring hopeit's `500` error body (`ErrorInfo`), as an
/// event written with `responses={500: ErrorInfo}` would: `apps/target/api/openapi.json` with
/// that one response added.
#[appwire::clients(
    manifest = "apps/caller/config/app-config.json",
    spec(
        target = "apps/target/api/openapi-declared-500.json",
        target_signed = "apps/target/api/openapi-declared-500.json",
        auth_echo = "apps/target/api/openapi-declared-500.json",
    )
)]
pub mod declared_500 {}
