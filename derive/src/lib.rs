//! The derives appwire's generated code uses, through `appwire::__private`; no stability
//! promise.
//!
//! - `Deserialize` decodes the types of a spec (structs with named fields, string enums) as
//!   serde's derive decodes them from JSON objects and strings, in much less code: a struct's
//!   fields are read by one generic visitor of the runtime, so a spec of hundreds of types
//!   compiles fast. Unlike serde's, it does not read a struct from an array. It reads serde's
//!   attributes as the generator writes them: `crate` on the type, `rename` on variants and
//!   fields, `default` on fields.
//! - `Declared` decodes an event's answer enum by status: `#[answer(404)]` marks the variant
//!   of a declared status, the one without a status is the 2xx answer; `value` or `bytes`
//!   after the status says how its body decodes (JSON by default).
//!
//! Both find the runtime from the type's `#[serde(crate = "<runtime>::__private::serde")]`.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::punctuated::Punctuated;
use syn::{Data, DeriveInput, Fields, LitStr, Token};

/// Decoding of a spec's struct or string enum.
#[proc_macro_derive(Deserialize, attributes(serde))]
pub fn deserialize(input: TokenStream) -> TokenStream {
    expand(input, deserialize_impl)
}

/// Decoding of an event's answer enum by status.
#[proc_macro_derive(Declared, attributes(serde, answer))]
pub fn declared(input: TokenStream) -> TokenStream {
    expand(input, declared_impl)
}

fn expand(input: TokenStream, f: fn(&DeriveInput) -> syn::Result<Tokens>) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    f(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// The runtime's `__private` path, from `#[serde(crate = "<runtime>::__private::serde")]`.
fn private_path(input: &DeriveInput) -> syn::Result<syn::Path> {
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let mut found = None;
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                let mut path: syn::Path = lit.parse()?;
                path.segments.pop();
                path.segments.pop_punct();
                found = Some(path);
            }
            Ok(())
        })?;
        if let Some(path) = found {
            return Ok(path);
        }
    }
    Err(syn::Error::new_spanned(
        &input.ident,
        "expected #[serde(crate = \"<runtime>::__private::serde\")]",
    ))
}

/// What serde's `rename` and `default` say of a field or variant.
#[derive(Default)]
struct SerdeAttrs {
    rename: Option<String>,
    default: bool,
}

fn serde_attrs(attrs: &[syn::Attribute]) -> syn::Result<SerdeAttrs> {
    let mut out = SerdeAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                out.rename = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("default") {
                out.default = true;
            } else if meta.input.peek(Token![=]) {
                // Attributes for serialization only, such as `skip_serializing_if`.
                meta.value()?.parse::<syn::Expr>()?;
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// Whether a type is written `Option<..>`: serde reads a missing `Option` field as `None`.
fn is_option(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

fn deserialize_impl(input: &DeriveInput) -> syn::Result<Tokens> {
    let p = private_path(input)?;
    let name = &input.ident;
    let label = name.to_string();
    match &input.data {
        Data::Struct(s) => {
            let Fields::Named(fields) = &s.fields else {
                return Err(syn::Error::new_spanned(name, "expected named fields"));
            };
            let mut wires = Vec::new();
            let mut slots = Vec::new();
            let mut reads = Vec::new();
            let mut builds = Vec::new();
            for (i, f) in fields.named.iter().enumerate() {
                let attrs = serde_attrs(&f.attrs)?;
                let ident = f
                    .ident
                    .as_ref()
                    .ok_or_else(|| syn::Error::new_spanned(f, "unnamed"))?;
                let wire = attrs
                    .rename
                    .unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned());
                let ty = &f.ty;
                let index = syn::Index::from(i);
                slots.push(quote!(::core::option::Option<#ty>));
                reads.push(quote!(#i => #p::de::put(&mut slots.#index, map, #wire),));
                builds.push(if attrs.default || is_option(ty) {
                    quote!(#ident: slots.#index.unwrap_or_default(),)
                } else {
                    quote!(#ident: #p::de::required(slots.#index, #wire)?,)
                });
                wires.push(wire);
            }
            let nones = slots.iter().map(|_| quote!(::core::option::Option::None));
            Ok(quote! {
                const _: () = {
                    impl<'de> #p::serde::Deserialize<'de> for #name {
                        #[inline]
                        fn deserialize<D: #p::serde::Deserializer<'de>>(
                            deserializer: D,
                        ) -> ::core::result::Result<Self, D::Error> {
                            #p::de::record(deserializer)
                        }
                    }

                    impl #p::de::Record for #name {
                        const NAME: &'static str = #label;
                        const FIELDS: &'static [&'static str] = &[#(#wires),*];
                        type Slots = (#(#slots,)*);

                        #[inline]
                        fn slots() -> Self::Slots {
                            (#(#nones,)*)
                        }

                        #[inline]
                        fn read<'de, A: #p::serde::de::MapAccess<'de>>(
                            slots: &mut Self::Slots,
                            field: usize,
                            map: &mut A,
                        ) -> ::core::result::Result<(), A::Error> {
                            match field {
                                #(#reads)*
                                _ => #p::de::skip(map),
                            }
                        }

                        #[inline]
                        fn build<E: #p::serde::de::Error>(
                            slots: Self::Slots,
                        ) -> ::core::result::Result<Self, E> {
                            ::core::result::Result::Ok(Self { #(#builds)* })
                        }
                    }
                };
            })
        }
        Data::Enum(e) => {
            let mut wires = Vec::new();
            let mut arms = Vec::new();
            for (i, v) in e.variants.iter().enumerate() {
                if !matches!(v.fields, Fields::Unit) {
                    return Err(syn::Error::new_spanned(v, "expected a unit variant"));
                }
                let attrs = serde_attrs(&v.attrs)?;
                let ident = &v.ident;
                wires.push(attrs.rename.unwrap_or_else(|| ident.to_string()));
                arms.push(quote!(#i => Self::#ident,));
            }
            let Some(last) = e.variants.last().map(|v| &v.ident) else {
                return Err(syn::Error::new_spanned(name, "expected variants"));
            };
            arms.pop();
            Ok(quote! {
                impl<'de> #p::serde::Deserialize<'de> for #name {
                    #[inline]
                    fn deserialize<D: #p::serde::Deserializer<'de>>(
                        deserializer: D,
                    ) -> ::core::result::Result<Self, D::Error> {
                        const VARIANTS: &[&str] = &[#(#wires),*];
                        let index = #p::de::variant(deserializer, #label, VARIANTS)?;
                        ::core::result::Result::Ok(match index {
                            #(#arms)*
                            _ => Self::#last,
                        })
                    }
                }
            })
        }
        Data::Union(_) => Err(syn::Error::new_spanned(
            name,
            "expected a struct or an enum",
        )),
    }
}

/// How an answer's body decodes.
enum Decode {
    Json,
    Value,
    Bytes,
}

fn declared_impl(input: &DeriveInput) -> syn::Result<Tokens> {
    let p = private_path(input)?;
    let name = &input.ident;
    let Data::Enum(e) = &input.data else {
        return Err(syn::Error::new_spanned(name, "expected an enum"));
    };
    let mut statuses = Vec::new();
    let mut arms = Vec::new();
    let mut ok = None;
    let mut uses_event = false;
    for v in &e.variants {
        let (status, decode) = answer_attr(v)?;
        let ident = &v.ident;
        let body = match decode {
            Decode::Json => quote!(raw.json().map(Self::#ident)),
            Decode::Value => {
                uses_event = true;
                quote!(raw.value(event).map(Self::#ident))
            }
            Decode::Bytes => quote!(::core::result::Result::Ok(Self::#ident(raw.bytes()))),
        };
        match status {
            Some(status) => {
                statuses.push(status.clone());
                arms.push(quote!(#status => #body,));
            }
            None if ok.is_none() => ok = Some(body),
            None => {
                return Err(syn::Error::new_spanned(
                    v,
                    "a second variant without a status",
                ));
            }
        }
    }
    let ok = ok.ok_or_else(|| syn::Error::new_spanned(name, "no variant for the 2xx answer"))?;
    let event = match uses_event {
        true => quote!(event),
        false => quote!(_event),
    };
    Ok(quote! {
        impl #p::Declared for #name {
            const STATUSES: &'static [u16] = &[#(#statuses),*];

            #[inline]
            fn decode(
                raw: &#p::RawResponse,
                #event: &str,
            ) -> ::core::result::Result<Self, #p::Error> {
                match raw.status.as_u16() {
                    #(#arms)*
                    _ => #ok,
                }
            }
        }
    })
}

/// A variant's `#[answer(404, value)]`: its status (none for the 2xx answer) and decoding.
fn answer_attr(v: &syn::Variant) -> syn::Result<(Option<syn::LitInt>, Decode)> {
    let mut status = None;
    let mut decode = Decode::Json;
    for attr in v.attrs.iter().filter(|a| a.path().is_ident("answer")) {
        let items = attr.parse_args_with(Punctuated::<syn::Expr, Token![,]>::parse_terminated)?;
        for item in items {
            match &item {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(i),
                    ..
                }) => status = Some(i.clone()),
                syn::Expr::Path(p) if p.path.is_ident("value") => decode = Decode::Value,
                syn::Expr::Path(p) if p.path.is_ident("bytes") => decode = Decode::Bytes,
                syn::Expr::Path(p) if p.path.is_ident("json") => decode = Decode::Json,
                other => {
                    return Err(syn::Error::new_spanned(
                        other,
                        "expected a status, `json`, `value` or `bytes`",
                    ));
                }
            }
        }
    }
    Ok((status, decode))
}
