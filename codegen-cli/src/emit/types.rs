//! Tokens of a target app's types: the spec's schemas and the answer enums of events.

use proc_macro2::TokenStream;
use quote::quote;

use super::docs;
use crate::ident;
use crate::model::{AnswerEnum, Decode, Returned, TargetApp, Ty, TypeDef, TypeKind};

/// The tokens of a type of the app's type space.
pub(crate) fn ty(app: &TargetApp, t: &Ty) -> TokenStream {
    match t {
        Ty::Named(id) => {
            let name = ident::tokens(&app.types[id.0].name);
            quote!(#name)
        }
        Ty::Replaced(path) => quote!(#path),
        Ty::String => quote!(String),
        Ty::Integer => quote!(i64),
        Ty::Number => quote!(f64),
        Ty::Boolean => quote!(bool),
        Ty::Bytes => quote!(Bytes),
        Ty::Json => quote!(JsonValue),
        Ty::Unit => quote!(()),
        Ty::List(item) => {
            let item = ty(app, item);
            quote!(Vec<#item>)
        }
        Ty::Map(value) => {
            let value = ty(app, value);
            quote!(BTreeMap<String, #value>)
        }
        Ty::Option(inner) => {
            let inner = ty(app, inner);
            quote!(Option<#inner>)
        }
    }
}

/// A named type of the spec.
pub(crate) fn definition(app: &TargetApp, def: &TypeDef, serde: &str) -> TokenStream {
    let name = ident::tokens(&def.name);
    let mut lines = docs::paragraphs(
        [def.docs.summary.as_deref(), def.docs.description.as_deref()]
            .into_iter()
            .flatten(),
    );
    if let Some(schema) = def.schema.as_deref().filter(|s| *s != def.name) {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(format!("The spec's `{}`.", docs::text(schema)));
    }
    let doc = docs::attrs(&lines);
    match &def.kind {
        TypeKind::Struct(fields) => {
            let fields = fields.iter().map(|f| {
                let id = ident::tokens(&f.ident);
                let t = ty(app, &f.ty);
                let doc = docs::attrs(&docs::paragraphs(f.description.as_deref()));
                let mut serde_attrs = Vec::new();
                if f.ident.trim_start_matches("r#") != f.wire {
                    let wire = &f.wire;
                    serde_attrs.push(quote!(rename = #wire));
                }
                if f.optional {
                    serde_attrs.push(quote!(default, skip_serializing_if = "Option::is_none"));
                }
                let serde_attrs =
                    (!serde_attrs.is_empty()).then(|| quote!(#[serde(#(#serde_attrs),*)]));
                quote!(#doc #serde_attrs pub #id: #t,)
            });
            quote! {
                #doc
                #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
                #[serde(crate = #serde)]
                pub struct #name { #(#fields)* }
            }
        }
        TypeKind::Enum(variants) => {
            let variants = variants.iter().map(|v| {
                let id = ident::tokens(&v.ident);
                let wire = &v.wire;
                let rename = (v.ident != v.wire).then(|| quote!(#[serde(rename = #wire)]));
                quote!(#rename #id,)
            });
            quote! {
                #doc
                #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
                #[serde(crate = #serde)]
                pub enum #name { #(#variants)* }
            }
        }
        TypeKind::Alias(target) => {
            let target = ty(app, target);
            quote!(#doc pub type #name = #target;)
        }
    }
}

/// The enum of an event's answers, and how a response decodes into it.
pub(crate) fn answer(app: &TargetApp, a: &AnswerEnum, root: &TokenStream) -> TokenStream {
    let name = ident::tokens(&a.name);
    let doc = format!(
        " What `{}` answers: its 200 response or one it declares.",
        a.event
    );
    let ok_ty = ty(app, &a.ok.ty);
    let ok_doc = format!(" 200: {}", docs::text(&a.ok.description));
    let variants = a.alternatives.iter().map(|alt| {
        let v = ident::tokens(&alt.variant);
        let t = ty(app, &alt.returned.ty);
        let doc = format!(" {}: {}", alt.status, docs::text(&alt.returned.description));
        quote!(#[doc = #doc] #v(#t),)
    });
    let statuses = a
        .alternatives
        .iter()
        .map(|alt| proc_macro2::Literal::u16_unsuffixed(alt.status));
    let arms = a.alternatives.iter().map(|alt| {
        let status = proc_macro2::Literal::u16_unsuffixed(alt.status);
        let v = ident::tokens(&alt.variant);
        let d = decode(&alt.returned);
        quote!(#status => #d.map(Self::#v),)
    });
    let ok = decode(&a.ok);
    let uses_event = std::iter::once(&a.ok)
        .chain(a.alternatives.iter().map(|alt| &alt.returned))
        .any(|r| r.decode == Decode::Value);
    let event = match uses_event {
        true => quote!(event),
        false => quote!(_event),
    };
    quote! {
        #[doc = #doc]
        #[derive(Debug)]
        pub enum #name {
            #[doc = #ok_doc]
            Ok(#ok_ty),
            #(#variants)*
        }

        impl #root::__private::Declared for #name {
            const STATUSES: &'static [u16] = &[#(#statuses),*];

            fn decode(raw: &RawResponse, #event: &str) -> Result<Self, Error> {
                match raw.status.as_u16() {
                    #(#arms)*
                    _ => #ok.map(Self::Ok),
                }
            }
        }
    }
}

fn decode(r: &Returned) -> TokenStream {
    match r.decode {
        Decode::Json => quote!(raw.json()),
        Decode::Value => quote!(raw.value(event)),
        Decode::Bytes => quote!(Ok::<_, Error>(raw.bytes())),
    }
}
