//! Rust identifiers for names that come from manifests and specs.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// Rust's strict and reserved keywords, which can only be used as raw identifiers.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// An identifier for an already snake- or camel-cased name, raw when it is a keyword.
pub(crate) fn ident(name: &str) -> Ident {
    let name = appwire_manifest::naming::rust_ident(name);
    if KEYWORDS.contains(&name.as_str()) {
        Ident::new_raw(&name, Span::call_site())
    } else {
        Ident::new(&name, Span::call_site())
    }
}

/// A field or parameter name: `snake_case`.
pub(crate) fn field(name: &str) -> Ident {
    ident(&name.to_snake_case())
}

/// A type or variant name: `UpperCamelCase`.
pub(crate) fn type_name(name: &str) -> Ident {
    let camel = name.to_upper_camel_case();
    ident(if camel.is_empty() { "Value" } else { &camel })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_valid() {
        assert_eq!(field("type").to_string(), "r#type");
        assert_eq!(field("itemId").to_string(), "item_id");
        assert_eq!(field("self").to_string(), "self_");
        assert_eq!(field("2x").to_string(), "_2x");
        assert_eq!(type_name("Dataset_Iris_").to_string(), "DatasetIris");
        assert_eq!(type_name("image/png").to_string(), "ImagePng");
        assert_eq!(type_name("").to_string(), "Value");
    }
}
