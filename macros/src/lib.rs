//! The proc-macro front end of appwire. Use it through the `appwire` crate, which re-exports
//! its macros: `#[appwire::clients(..)]` and `appwire::generate!(..)`.

use std::path::{Path, PathBuf};

use appwire_codegen::{GenerateError, Inputs, Options};
use indexmap::IndexMap;
use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token, parenthesized};

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
/// `replace(..)` uses your types for schemas of the specs; `runtime = path` names the runtime
/// crate when it is renamed. Editing an input file rebuilds the crate.
#[proc_macro_attribute]
pub fn clients(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(attr as Args);
    let module = syn::parse_macro_input!(item as syn::ItemMod);
    if module
        .content
        .as_ref()
        .is_some_and(|(_, items)| !items.is_empty())
    {
        return syn::Error::new_spanned(
            &module,
            "`#[appwire::clients]` fills an empty module: write `mod name {}`",
        )
        .to_compile_error()
        .into();
    }
    match expand(&args) {
        Ok(code) => {
            let (attrs, vis, name) = (&module.attrs, &module.vis, &module.ident);
            quote!(#(#attrs)* #vis mod #name { #code }).into()
        }
        Err(e) => e.to_compile_error().into(),
    }
}

/// Expands to the clients of a manifest, in place; takes the arguments of
/// [`macro@clients`]:
///
/// ```ignore
/// appwire::generate!(manifest = "config/app-config.json", spec(catalog = "api/catalog.json"));
/// ```
#[proc_macro]
pub fn generate(input: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(input as Args);
    match expand(&args) {
        Ok(code) => code.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// The macro arguments.
struct Args {
    manifest: LitStr,
    specs: Vec<(Ident, LitStr)>,
    replace: Vec<(Ident, syn::Path)>,
    runtime: Option<syn::Path>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut manifest = None;
        let mut specs = Vec::new();
        let mut replace = Vec::new();
        let mut runtime = None;
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            match key.to_string().as_str() {
                "manifest" => {
                    input.parse::<Token![=]>()?;
                    manifest = Some(input.parse::<LitStr>()?);
                }
                "spec" => {
                    let content;
                    parenthesized!(content in input);
                    let pairs = Punctuated::<(Ident, LitStr), Token![,]>::parse_terminated_with(
                        &content,
                        |p| {
                            let k: Ident = p.parse()?;
                            p.parse::<Token![=]>()?;
                            Ok((k, p.parse()?))
                        },
                    )?;
                    specs.extend(pairs);
                }
                "replace" => {
                    let content;
                    parenthesized!(content in input);
                    let pairs = Punctuated::<(Ident, syn::Path), Token![,]>::parse_terminated_with(
                        &content,
                        |p| {
                            let k: Ident = p.parse()?;
                            p.parse::<Token![=]>()?;
                            Ok((k, p.parse()?))
                        },
                    )?;
                    replace.extend(pairs);
                }
                "runtime" => {
                    input.parse::<Token![=]>()?;
                    runtime = Some(input.parse()?);
                }
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown option `{other}`: expected `manifest`, `spec`, `replace` or `runtime`"
                        ),
                    ));
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        let manifest = manifest
            .ok_or_else(|| input.error("missing `manifest = \"path/to/app-config.json\"`"))?;
        Ok(Self {
            manifest,
            specs,
            replace,
            runtime,
        })
    }
}

/// Paths in the macro are relative to the crate being compiled.
fn crate_path(lit: &LitStr) -> PathBuf {
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_default();
    root.join(lit.value())
}

fn expand(args: &Args) -> syn::Result<TokenStream2> {
    let manifest = crate_path(&args.manifest);
    let specs: IndexMap<String, PathBuf> = args
        .specs
        .iter()
        .map(|(k, v)| (k.to_string(), crate_path(v)))
        .collect();
    let options = Options {
        runtime_path: args.runtime.as_ref().map_or_else(
            || "::appwire".to_owned(),
            |p| quote!(#p).to_string().replace(' ', ""),
        ),
        replace: args
            .replace
            .iter()
            .map(|(k, p)| (k.to_string(), quote!(#p).to_string().replace(' ', "")))
            .collect(),
    };
    let error_span = |e: &GenerateError| -> Span {
        match e {
            GenerateError::Spec {
                file: Some(file), ..
            }
            | GenerateError::Io { path: file, .. } => args
                .specs
                .iter()
                .find(|(_, lit)| crate_path(lit) == *file)
                .map_or_else(|| args.manifest.span(), |(_, lit)| lit.span()),
            _ => args.manifest.span(),
        }
    };
    let inputs = Inputs::load(&manifest, &specs, options)
        .map_err(|e| syn::Error::new(error_span(&e), e.to_string()))?;
    let generated = appwire_codegen::generate(&inputs)
        .map_err(|e| syn::Error::new(error_span(&e), e.to_string()))?;
    // Editing an input recompiles the crate.
    let watched = inputs.files().map(|p| absolute(p).display().to_string());
    let code = generated.tokens;
    Ok(quote! {
        #(const _: &[u8] = ::core::include_bytes!(#watched);)*
        #code
    })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}
