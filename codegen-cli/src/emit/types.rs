//! Tokens of a target app's types: the spec's schemas and the answer enums of events.

use proc_macro2::TokenStream;
use quote::quote;

use super::docs;
use crate::ident;
use crate::model::{AnswerEnum, Decode, Ty, TypeDef, TypeKind};

/// The tokens of a type of the app's type space.
pub(crate) fn ty(types: &[TypeDef], t: &Ty) -> TokenStream {
    match t {
        Ty::Named(id) => {
            let name = ident::tokens(&types[id.0].name);
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
            let item = ty(types, item);
            quote!(Vec<#item>)
        }
        Ty::Map(value) => {
            let value = ty(types, value);
            quote!(BTreeMap<String, #value>)
        }
        Ty::Option(inner) => {
            let inner = ty(types, inner);
            quote!(Option<#inner>)
        }
    }
}

/// A named type of the spec.
pub(crate) fn definition(types: &[TypeDef], def: &TypeDef, serde: &str) -> TokenStream {
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
                let t = ty(types, &f.ty);
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
            let target = ty(types, target);
            quote!(#doc pub type #name = #target;)
        }
    }
}

/// The enum of an event's answers, decoded by status with the runtime's `Declared` derive.
pub(crate) fn answer(types: &[TypeDef], a: &AnswerEnum, serde: &str) -> TokenStream {
    let name = ident::tokens(&a.name);
    let doc = format!(
        " What `{}` answers: its 200 response or one it declares.",
        a.event
    );
    let ok_ty = ty(types, &a.ok.ty);
    let ok_doc = format!(" 200: {}", docs::text(&a.ok.description));
    let ok_attr = decoding(None, a.ok.decode);
    let variants = a.alternatives.iter().map(|alt| {
        let v = ident::tokens(&alt.variant);
        let t = ty(types, &alt.returned.ty);
        let doc = format!(" {}: {}", alt.status, docs::text(&alt.returned.description));
        let attr = decoding(Some(alt.status), alt.returned.decode);
        quote!(#[doc = #doc] #attr #v(#t),)
    });
    quote! {
        #[doc = #doc]
        #[derive(Debug, Declared)]
        #[serde(crate = #serde)]
        pub enum #name {
            #[doc = #ok_doc]
            #ok_attr
            Ok(#ok_ty),
            #(#variants)*
        }
    }
}

/// A variant's `#[answer(..)]`: its status, and how its body decodes when not as JSON.
fn decoding(status: Option<u16>, decode: Decode) -> Option<TokenStream> {
    let status = status.map(proc_macro2::Literal::u16_unsuffixed);
    let how = match decode {
        Decode::Json => None,
        Decode::Value => Some(quote!(value)),
        Decode::Bytes => Some(quote!(bytes)),
    };
    match (status, how) {
        (None, None) => None,
        (Some(s), None) => Some(quote!(#[answer(#s)])),
        (None, Some(h)) => Some(quote!(#[answer(#h)])),
        (Some(s), Some(h)) => Some(quote!(#[answer(#s, #h)])),
    }
}
