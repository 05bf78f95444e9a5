//! The proc-macro front end of appwire. Use it through the `appwire` crate, which re-exports
//! its macros: `#[appwire::clients(..)]` and `appwire::generate!(..)`. The expansion itself lives
//! in `appwire_codegen::macro_support`.

use proc_macro::TokenStream;

/// Fills an empty module with the clients of a manifest:
///
/// ```ignore
/// #[appwire::clients(
///     manifest = "config/app-config.json",
///     spec(catalog = "api/catalog.json"),
///     replace(Item = crate::model::Item),
/// )]
/// pub mod clients {}
/// ```
///
/// Paths are relative to the crate root (`CARGO_MANIFEST_DIR`). `spec(..)` gives the OpenAPI
/// spec of an app connection's target app (an `api_spec` in the manifest is used otherwise);
/// `replace(..)` uses your types for schemas of the specs (absolute paths); `runtime = path`
/// names the runtime crate when it is renamed. Editing an input file rebuilds the crate.
/// Problems in the manifest are reported on the manifest path with their file, line and
/// column.
#[proc_macro_attribute]
pub fn clients(attr: TokenStream, item: TokenStream) -> TokenStream {
    appwire_codegen::macro_support::expand_attribute(attr.into(), item.into()).into()
}

/// Expands to the clients of a manifest, in place; takes the arguments of [`macro@clients`]:
///
/// ```ignore
/// appwire::generate!(manifest = "config/app-config.json", spec(catalog = "api/catalog.json"));
/// ```
#[proc_macro]
pub fn generate(input: TokenStream) -> TokenStream {
    appwire_codegen::macro_support::expand_generate(input.into()).into()
}
