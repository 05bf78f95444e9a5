//! The expansion of the `appwire::clients` and `appwire::generate!` proc macros, kept here so
//! that the proc-macro crate is a thin shell and the expansion can be tested like any function.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token, parenthesized};

use crate::{GenerateError, Inputs, Options};

/// Expands `#[appwire::clients(args)] item`: `item` must be an empty module, which is filled
/// with the clients.
pub fn expand_attribute(args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let result = syn::parse2::<Args>(args).and_then(|args| {
        let module: syn::ItemMod = syn::parse2(item)?;
        if module
            .content
            .as_ref()
            .is_some_and(|(_, items)| !items.is_empty())
        {
            return Err(syn::Error::new_spanned(
                &module.ident,
                "`#[appwire::clients]` fills an empty module: write `mod name {}`",
            ));
        }
        let code = expand_args(&args)?;
        let (attrs, vis, name) = (&module.attrs, &module.vis, &module.ident);
        Ok(quote!(#(#attrs)* #vis mod #name { #code }))
    });
    result.unwrap_or_else(syn::Error::into_compile_error)
}

/// Expands `appwire::generate!(args)` to the clients.
pub fn expand_generate(args: TokenStream2) -> TokenStream2 {
    syn::parse2::<Args>(args)
        .and_then(|args| expand_args(&args))
        .unwrap_or_else(syn::Error::into_compile_error)
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
                "spec" => specs.extend(pairs::<LitStr>(input)?),
                "replace" => replace.extend(pairs::<syn::Path>(input)?),
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

/// `(name = value, ...)`.
fn pairs<V: Parse>(input: ParseStream<'_>) -> syn::Result<Punctuated<(Ident, V), Token![,]>> {
    let content;
    parenthesized!(content in input);
    Punctuated::parse_terminated_with(&content, |p| {
        let name: Ident = p.parse()?;
        p.parse::<Token![=]>()?;
        Ok((name, p.parse()?))
    })
}

/// Paths in the macro are relative to the crate being compiled.
fn crate_path(lit: &LitStr) -> PathBuf {
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_default();
    root.join(lit.value())
}

fn expand_args(args: &Args) -> syn::Result<TokenStream2> {
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
    // An error is shown on the path of the file it is about.
    let span_of = |file: &Path| {
        args.specs
            .iter()
            .find(|(_, lit)| crate_path(lit) == file)
            .map_or_else(|| args.manifest.span(), |(_, lit)| lit.span())
    };
    let error_span = |e: &GenerateError| -> Span {
        match e {
            GenerateError::Io { path, .. } => span_of(path),
            GenerateError::Diagnostics(files) => files.first().map_or_else(
                || args.manifest.span(),
                |d| span_of(Path::new(d.source().name())),
            ),
            _ => args.manifest.span(),
        }
    };
    let inputs = Inputs::load(&manifest, &specs, options)
        .map_err(|e| syn::Error::new(error_span(&e), e.to_string()))?;
    let generated =
        crate::generate(&inputs).map_err(|e| syn::Error::new(error_span(&e), e.to_string()))?;
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
