//! A target app's type space: the Rust types of its spec's JSON schemas, as hopeit writes
//! them.
//!
//! hopeit's schemas are pydantic dataclasses: objects with required and optional properties,
//! `nullable` fields, arrays, string enums, maps (`additionalProperties`), and `$ref`s between
//! them. Each referenced component becomes one named type, however many events and
//! connections use it; inline objects and enums get a name from where they appear. A schema
//! outside that subset (`oneOf`, `not`, a mixed `allOf`) becomes a JSON value, so the client
//! still compiles and the value is still readable.

use std::collections::HashMap;

use appwire_manifest::{Diagnostic, JsonPath};
use indexmap::IndexMap;
use openapiv3::{
    AdditionalProperties, ReferenceOr, Schema, SchemaKind, StringFormat, Type,
    VariantOrUnknownOrEmpty,
};

use super::names::Namespace;
use super::{Docs, Field, Ty, TypeDef, TypeId, TypeKind, Variant};
use crate::ident;
use crate::spec::Spec;

/// What keeps a schema from becoming a type, located in its spec.
type Problem = Diagnostic;

/// The types of one spec, created as they are used.
pub(crate) struct TypeSpace<'a> {
    spec: &'a Spec,
    /// User types replacing components, by component name.
    replace: &'a IndexMap<String, syn::Path>,
    pub(crate) defs: Vec<TypeDef>,
    /// The types of the components already met.
    components: HashMap<String, TypeId>,
}

impl<'a> TypeSpace<'a> {
    pub(crate) fn new(spec: &'a Spec, replace: &'a IndexMap<String, syn::Path>) -> Self {
        Self {
            spec,
            replace,
            defs: Vec::new(),
            components: HashMap::new(),
        }
    }

    /// A space for `spec` that goes on from `defs`, the types of other specs in the same scope.
    pub(crate) fn with_defs(
        spec: &'a Spec,
        replace: &'a IndexMap<String, syn::Path>,
        defs: Vec<TypeDef>,
    ) -> Self {
        Self {
            defs,
            ..Self::new(spec, replace)
        }
    }

    /// The Rust type of `schema`, found at `at`; `hint` names a definition it may need.
    pub(crate) fn type_of(
        &mut self,
        ns: &mut Namespace,
        schema: &ReferenceOr<Schema>,
        at: &JsonPath,
        hint: &str,
    ) -> Result<Ty, Problem> {
        match schema {
            ReferenceOr::Reference { reference } => self.component(ns, reference, at),
            ReferenceOr::Item(schema) => self.item_type(ns, schema, at, hint),
        }
    }

    /// [`type_of`](Self::type_of) a boxed schema, as properties and items hold them.
    pub(crate) fn boxed_type_of(
        &mut self,
        ns: &mut Namespace,
        schema: &ReferenceOr<Box<Schema>>,
        at: &JsonPath,
        hint: &str,
    ) -> Result<Ty, Problem> {
        match schema {
            ReferenceOr::Reference { reference } => self.component(ns, reference, at),
            ReferenceOr::Item(schema) => self.item_type(ns, schema, at, hint),
        }
    }

    fn item_type(
        &mut self,
        ns: &mut Namespace,
        schema: &Schema,
        at: &JsonPath,
        hint: &str,
    ) -> Result<Ty, Problem> {
        let ty = self.schema_type(ns, schema, at, hint)?;
        Ok(if schema.schema_data.nullable {
            ty.optional()
        } else {
            ty
        })
    }

    /// A named component: its user replacement, or its type. `at` holds the `$ref`.
    fn component(
        &mut self,
        ns: &mut Namespace,
        reference: &str,
        at: &JsonPath,
    ) -> Result<Ty, Problem> {
        let spec = self.spec;
        let component = spec.component(reference, at)?;
        let name = component.name;
        if let Some(path) = self.replace.get(name) {
            return Ok(Ty::Replaced(path.clone()));
        }
        if let Some(id) = self.components.get(name) {
            return Ok(Ty::Named(*id));
        }
        let id = self.reserve(ns, name, Some(name));
        self.components.insert(name.to_owned(), id);
        let kind = match component.schema {
            ReferenceOr::Item(schema) => {
                let name = self.defs[id.0].name.clone();
                let (docs, kind) = self.define(ns, &name, schema, &component.path)?;
                self.defs[id.0].docs = docs;
                kind
            }
            // A component that is another name for one.
            ReferenceOr::Reference { reference } => {
                TypeKind::Alias(self.component(ns, reference, &component.path)?)
            }
        };
        self.defs[id.0].kind = kind;
        Ok(Ty::Named(id))
    }

    /// A new named type, defined later: components may refer to each other in cycles.
    fn reserve(&mut self, ns: &mut Namespace, hint: &str, schema: Option<&str>) -> TypeId {
        let id = TypeId(self.defs.len());
        self.defs.push(TypeDef {
            name: ns.type_name(hint),
            schema: schema.map(str::to_owned),
            docs: Docs::default(),
            kind: TypeKind::Alias(Ty::Json),
        });
        id
    }

    /// A named type for an inline object or enum.
    fn inline(
        &mut self,
        ns: &mut Namespace,
        schema: &Schema,
        at: &JsonPath,
        hint: &str,
    ) -> Result<Ty, Problem> {
        let id = self.reserve(ns, hint, None);
        let name = self.defs[id.0].name.clone();
        let (docs, kind) = self.define(ns, &name, schema, at)?;
        self.defs[id.0].docs = docs;
        self.defs[id.0].kind = kind;
        Ok(Ty::Named(id))
    }

    /// The type of an inline schema, defining a named type for objects and enums.
    fn schema_type(
        &mut self,
        ns: &mut Namespace,
        schema: &Schema,
        at: &JsonPath,
        hint: &str,
    ) -> Result<Ty, Problem> {
        Ok(match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) if !s.enumeration.is_empty() => {
                self.inline(ns, schema, at, hint)?
            }
            SchemaKind::Type(Type::String(s)) => match &s.format {
                VariantOrUnknownOrEmpty::Item(StringFormat::Binary) => Ty::Bytes,
                _ => Ty::String,
            },
            SchemaKind::Type(Type::Integer(_)) => Ty::Integer,
            SchemaKind::Type(Type::Number(_)) => Ty::Number,
            SchemaKind::Type(Type::Boolean(_)) => Ty::Boolean,
            SchemaKind::Type(Type::Array(a)) => match &a.items {
                Some(items) => Ty::List(Box::new(self.boxed_type_of(
                    ns,
                    items,
                    &at.key("items"),
                    &format!("{hint}Item"),
                )?)),
                None => Ty::List(Box::new(Ty::Json)),
            },
            SchemaKind::Type(Type::Object(o)) if o.properties.is_empty() => {
                match &o.additional_properties {
                    Some(AdditionalProperties::Schema(value)) => Ty::Map(Box::new(self.type_of(
                        ns,
                        value,
                        &at.key("additionalProperties"),
                        &format!("{hint}Value"),
                    )?)),
                    _ => Ty::Map(Box::new(Ty::Json)),
                }
            }
            SchemaKind::Type(Type::Object(_)) => self.inline(ns, schema, at, hint)?,
            SchemaKind::AllOf { all_of } if all_of.len() == 1 => {
                self.type_of(ns, &all_of[0], &at.key("allOf").index(0), hint)?
            }
            SchemaKind::AnyOf { any_of } | SchemaKind::OneOf { one_of: any_of } => {
                let key = match &schema.schema_kind {
                    SchemaKind::AnyOf { .. } => "anyOf",
                    _ => "oneOf",
                };
                // `anyOf: [T, {"type": "null"}]` is pydantic's `Optional[T]`.
                let not_null: Vec<(usize, &ReferenceOr<Schema>)> = any_of
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| !is_null(s))
                    .collect();
                match not_null.as_slice() {
                    [(i, only)] => {
                        let ty = self.type_of(ns, only, &at.key(key).index(*i), hint)?;
                        if not_null.len() < any_of.len() {
                            ty.optional()
                        } else {
                            ty
                        }
                    }
                    _ => Ty::Json,
                }
            }
            _ => Ty::Json,
        })
    }

    /// The docs and kind of the named type `name`: an object, a string enum, or an alias.
    fn define(
        &mut self,
        ns: &mut Namespace,
        name: &str,
        schema: &Schema,
        at: &JsonPath,
    ) -> Result<(Docs, TypeKind), Problem> {
        let data = &schema.schema_data;
        // A title that only repeats the type's name says nothing.
        let title = data
            .title
            .as_deref()
            .filter(|t| ident::type_name(t) != ident::type_name(name));
        let docs = Docs::new(title, data.description.as_deref());
        let kind = match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) if !s.enumeration.is_empty() => {
                let mut seen = Namespace::default();
                TypeKind::Enum(
                    s.enumeration
                        .iter()
                        .flatten()
                        .map(|value| Variant {
                            ident: seen.type_name(value),
                            wire: value.clone(),
                        })
                        .collect(),
                )
            }
            SchemaKind::Type(Type::Object(o)) => {
                let mut seen = Namespace::default();
                let mut fields = Vec::new();
                for (prop, prop_schema) in &o.properties {
                    let hint = format!("{name}{}", ident::type_name(prop));
                    let here = at.key("properties").key(prop.as_str());
                    let ty = self.boxed_type_of(ns, prop_schema, &here, &hint)?;
                    let description = match prop_schema {
                        ReferenceOr::Item(s) => s.schema_data.description.clone(),
                        ReferenceOr::Reference { .. } => None,
                    };
                    let required = o.required.contains(prop) && !matches!(ty, Ty::Option(_));
                    fields.push(Field {
                        ident: seen.value_name(prop),
                        wire: prop.clone(),
                        ty: if required { ty } else { ty.optional() },
                        optional: !required,
                        description,
                    });
                }
                TypeKind::Struct(fields)
            }
            _ => TypeKind::Alias(self.schema_type(ns, schema, at, &format!("{name}Inner"))?),
        };
        Ok((docs, kind))
    }
}

fn is_null(schema: &ReferenceOr<Schema>) -> bool {
    // openapiv3 reads `{"type": "null"}` (not OpenAPI 3.0) as an untyped schema.
    matches!(schema, ReferenceOr::Item(s) if matches!(&s.schema_kind, SchemaKind::Any(a) if a.typ.as_deref() == Some("null")))
}
