//! Rust types from the JSON schemas of an OpenAPI 3.0 spec, as hopeit writes them.
//!
//! hopeit's schemas are pydantic dataclasses: objects with required and optional properties,
//! `nullable` fields, arrays, string enums, maps (`additionalProperties`), and `$ref`s between
//! them. Each referenced component becomes one named type; inline objects and enums get a name
//! from where they appear. A schema outside that subset (`oneOf`, `not`, a mixed `allOf`) becomes
//! `serde_json::Value`, so the client still compiles and the value is still readable.

use std::collections::{BTreeMap, HashMap, HashSet};

use indexmap::IndexMap;
use openapiv3::{
    AdditionalProperties, OpenAPI, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};
use proc_macro2::TokenStream;
use quote::quote;

use crate::error::GenerateError;
use crate::ident;

/// A Rust type, and whether it is already an `Option`.
#[derive(Clone)]
pub(crate) struct RustType {
    pub(crate) tokens: TokenStream,
    pub(crate) optional: bool,
}

impl RustType {
    pub(crate) fn plain(tokens: TokenStream) -> Self {
        Self {
            tokens,
            optional: false,
        }
    }

    /// Whether this is `String` (taken as `&str` in parameters).
    pub(crate) fn is_string(&self) -> bool {
        self.tokens.to_string() == quote!(::std::string::String).to_string()
    }
}

impl quote::ToTokens for RustType {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.tokens.to_tokens(tokens);
    }
}

/// The Rust types of one spec, created as they are used.
pub(crate) struct TypeSpace<'a> {
    spec: &'a OpenAPI,
    /// The path of the runtime crate in generated code.
    root: &'a TokenStream,
    /// User types replacing components, by component name.
    replace: &'a IndexMap<String, syn::Path>,
    /// Definitions made so far, by Rust name (sorted: the output is deterministic).
    defs: BTreeMap<String, TokenStream>,
    /// Rust names of the components already named.
    components: HashMap<String, String>,
    /// Rust names taken, by definitions or reservations.
    taken: HashSet<String>,
}

impl<'a> TypeSpace<'a> {
    pub(crate) fn new(
        spec: &'a OpenAPI,
        root: &'a TokenStream,
        replace: &'a IndexMap<String, syn::Path>,
    ) -> Self {
        Self {
            spec,
            root,
            replace,
            defs: BTreeMap::new(),
            components: HashMap::new(),
            taken: HashSet::new(),
        }
    }

    /// The definitions made, in name order.
    pub(crate) fn into_defs(self) -> Vec<TokenStream> {
        self.defs.into_values().collect()
    }

    /// The path of the runtime crate in generated code.
    pub(crate) fn root(&self) -> &TokenStream {
        self.root
    }

    /// A name for a new definition, unique in this space.
    fn fresh_name(&mut self, hint: &str) -> String {
        let base = ident::type_name(hint).to_string();
        let mut name = base.clone();
        let mut n = 2;
        while !self.taken.insert(name.clone()) {
            name = format!("{base}{n}");
            n += 1;
        }
        name
    }

    /// The Rust type of `schema`; `hint` names a definition it may need.
    pub(crate) fn type_of(
        &mut self,
        schema: &ReferenceOr<Schema>,
        hint: &str,
    ) -> Result<RustType, GenerateError> {
        match schema {
            ReferenceOr::Reference { reference } => self.component(reference),
            ReferenceOr::Item(schema) => self.item_type(schema, hint),
        }
    }

    pub(crate) fn boxed_type_of(
        &mut self,
        schema: &ReferenceOr<Box<Schema>>,
        hint: &str,
    ) -> Result<RustType, GenerateError> {
        match schema {
            ReferenceOr::Reference { reference } => self.component(reference),
            ReferenceOr::Item(schema) => self.item_type(schema, hint),
        }
    }

    fn item_type(&mut self, schema: &Schema, hint: &str) -> Result<RustType, GenerateError> {
        let ty = self.schema_type(schema, hint)?;
        Ok(if schema.schema_data.nullable {
            option(ty)
        } else {
            ty
        })
    }

    fn json_value(&self) -> RustType {
        let root = self.root;
        RustType::plain(quote!(#root::__private::serde_json::Value))
    }

    /// A named component: its user replacement, or its generated type.
    fn component(&mut self, reference: &str) -> Result<RustType, GenerateError> {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .ok_or_else(|| GenerateError::spec(format!("unsupported reference `{reference}`")))?;
        if let Some(path) = self.replace.get(name) {
            return Ok(RustType::plain(quote!(#path)));
        }
        if let Some(rust) = self.components.get(name) {
            let ident = ident::ident(rust);
            return Ok(RustType::plain(quote!(#ident)));
        }
        let schema = self
            .spec
            .components
            .as_ref()
            .and_then(|c| c.schemas.get(name))
            .ok_or_else(|| {
                GenerateError::spec(format!("`{reference}` names no schema of the spec"))
            })?;
        let rust = self.fresh_name(name);
        self.components.insert(name.to_owned(), rust.clone());
        let schema = match schema {
            ReferenceOr::Item(schema) => schema.clone(),
            ReferenceOr::Reference { reference } => {
                // A component that is an alias of another.
                let target = self.component(reference)?;
                let ident = ident::ident(&rust);
                self.defs
                    .insert(rust.clone(), quote!(pub type #ident = #target;));
                return Ok(RustType::plain(quote!(#ident)));
            }
        };
        self.define(&rust, &schema)?;
        let ident = ident::ident(&rust);
        Ok(RustType::plain(quote!(#ident)))
    }

    /// The type of an inline schema, defining a named type for objects and enums.
    fn schema_type(&mut self, schema: &Schema, hint: &str) -> Result<RustType, GenerateError> {
        let root = self.root;
        let plain = RustType::plain;
        Ok(match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) if !s.enumeration.is_empty() => {
                let name = self.fresh_name(hint);
                self.define(&name, schema)?;
                let ident = ident::ident(&name);
                plain(quote!(#ident))
            }
            SchemaKind::Type(Type::String(s)) => match &s.format {
                VariantOrUnknownOrEmpty::Item(StringFormat::Binary) => {
                    plain(quote!(#root::__private::Bytes))
                }
                _ => plain(quote!(::std::string::String)),
            },
            SchemaKind::Type(Type::Integer(_)) => plain(quote!(i64)),
            SchemaKind::Type(Type::Number(_)) => plain(quote!(f64)),
            SchemaKind::Type(Type::Boolean(_)) => plain(quote!(bool)),
            SchemaKind::Type(Type::Array(a)) => {
                let item = match &a.items {
                    Some(items) => self.boxed_type_of(items, &format!("{hint}Item"))?,
                    None => self.json_value(),
                };
                plain(quote!(::std::vec::Vec<#item>))
            }
            SchemaKind::Type(Type::Object(o)) if o.properties.is_empty() => {
                let value = match &o.additional_properties {
                    Some(AdditionalProperties::Schema(value)) => {
                        self.type_of(value, &format!("{hint}Value"))?
                    }
                    _ => self.json_value(),
                };
                plain(quote!(::std::collections::BTreeMap<::std::string::String, #value>))
            }
            SchemaKind::Type(Type::Object(_)) => {
                let name = self.fresh_name(hint);
                self.define(&name, schema)?;
                let ident = ident::ident(&name);
                plain(quote!(#ident))
            }
            SchemaKind::AllOf { all_of } if all_of.len() == 1 => self.type_of(&all_of[0], hint)?,
            SchemaKind::AnyOf { any_of } | SchemaKind::OneOf { one_of: any_of } => {
                // `anyOf: [T, {"type": "null"}]` is pydantic's `Optional[T]`.
                let not_null: Vec<&ReferenceOr<Schema>> =
                    any_of.iter().filter(|s| !is_null(s)).collect();
                match not_null.as_slice() {
                    [only] if not_null.len() < any_of.len() => option(self.type_of(only, hint)?),
                    [only] => self.type_of(only, hint)?,
                    _ => self.json_value(),
                }
            }
            _ => self.json_value(),
        })
    }

    /// Defines the named type `name` for an object or a string enum.
    fn define(&mut self, name: &str, schema: &Schema) -> Result<(), GenerateError> {
        let root = self.root;
        let serde_path = format!("{root}::__private::serde").replace(' ', "");
        let ident = ident::ident(name);
        let data = &schema.schema_data;
        let docs = if data.title.is_some() || data.description.is_some() {
            doc_lines(data.title.as_deref(), data.description.as_deref())
        } else {
            doc_lines(Some(&format!("`{name}` of the spec.")), None)
        };
        let derive = quote! {
            #[derive(::std::fmt::Debug, ::std::clone::Clone, ::std::cmp::PartialEq,
                #root::__private::serde::Serialize, #root::__private::serde::Deserialize)]
            #[serde(crate = #serde_path)]
        };
        let def = match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) if !s.enumeration.is_empty() => {
                let variants = s.enumeration.iter().flatten().map(|value| {
                    let variant = ident::type_name(value);
                    let doc = format!(" `{}`", doc_text(value));
                    quote!(#[doc = #doc] #[serde(rename = #value)] #variant,)
                });
                quote! {
                    #docs
                    #derive
                    pub enum #ident { #(#variants)* }
                }
            }
            SchemaKind::Type(Type::Object(o)) => {
                let mut fields = Vec::new();
                let mut seen = HashSet::new();
                for (prop, prop_schema) in &o.properties {
                    let mut field = ident::field(prop);
                    while !seen.insert(field.to_string()) {
                        field = ident::ident(&format!("{field}_"));
                    }
                    let hint = format!("{name}{}", ident::type_name(prop));
                    let ty = self.boxed_type_of(prop_schema, &hint)?;
                    let description = match prop_schema {
                        ReferenceOr::Item(s) => s.schema_data.description.as_deref(),
                        ReferenceOr::Reference { .. } => None,
                    };
                    let docs = match description {
                        Some(d) => doc_lines(None, Some(d)),
                        None => doc_lines(Some(&format!("`{prop}`")), None),
                    };
                    let rename = (field.to_string().trim_start_matches("r#") != prop)
                        .then(|| quote!(#[serde(rename = #prop)]));
                    let (ty, attrs) = if o.required.contains(prop) && !ty.optional {
                        (ty, quote!())
                    } else {
                        (
                            option(ty),
                            quote!(#[serde(default, skip_serializing_if = "::std::option::Option::is_none")]),
                        )
                    };
                    fields.push(quote! { #docs #rename #attrs pub #field: #ty, });
                }
                quote! {
                    #docs
                    #derive
                    pub struct #ident { #(#fields)* }
                }
            }
            _ => {
                let ty = self.schema_type(schema, &format!("{name}Inner"))?;
                quote!(#docs pub type #ident = #ty;)
            }
        };
        self.defs.insert(name.to_owned(), def);
        Ok(())
    }
}

/// `Option<T>`; an optional type stays as it is.
fn option(ty: RustType) -> RustType {
    if ty.optional {
        return ty;
    }
    let inner = ty.tokens;
    RustType {
        tokens: quote!(::std::option::Option<#inner>),
        optional: true,
    }
}

fn is_null(schema: &ReferenceOr<Schema>) -> bool {
    // openapiv3 reads `{"type": "null"}` (not OpenAPI 3.0) as an untyped schema.
    matches!(schema, ReferenceOr::Item(s) if matches!(&s.schema_kind, SchemaKind::Any(a) if a.typ.as_deref() == Some("null")))
}

/// Doc attributes from a schema's title and description.
pub(crate) fn doc_lines(title: Option<&str>, description: Option<&str>) -> TokenStream {
    let mut lines: Vec<String> = Vec::new();
    if let Some(t) = title.filter(|t| !t.is_empty()) {
        lines.push(format!(" {}", doc_text(t)));
    }
    if let Some(d) = description.filter(|d| !d.is_empty()) {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.extend(d.lines().map(|l| format!(" {}", doc_text(l.trim_end()))));
    }
    quote!(#(#[doc = #lines])*)
}

/// Text from a spec made safe for rustdoc: brackets and angle brackets escaped (no accidental
/// links or HTML), bare URLs made links.
pub(crate) fn doc_text(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if word.starts_with("http://") || word.starts_with("https://") {
                format!("<{word}>")
            } else {
                word.replace('\\', "\\\\")
                    .replace('[', "\\[")
                    .replace(']', "\\]")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
