//! Rust identifiers for names that come from manifests and specs, as text the emitter turns
//! into tokens (a keyword becomes a raw identifier, `r#type`).

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Rust's strict and reserved keywords, which can only be used as raw identifiers.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
    "virtual", "where", "while", "yield",
];

/// An identifier for an already snake- or camel-cased name, raw when it is a keyword.
pub(crate) fn ident(name: &str) -> String {
    let name = appwire_manifest::naming::rust_ident(name);
    if KEYWORDS.contains(&name.as_str()) {
        format!("r#{name}")
    } else {
        name
    }
}

/// A field or parameter name: `snake_case`.
pub(crate) fn field(name: &str) -> String {
    ident(&name.to_snake_case())
}

/// A type or variant name: `UpperCamelCase`.
pub(crate) fn type_name(name: &str) -> String {
    let camel = name.to_upper_camel_case();
    ident(if camel.is_empty() { "Value" } else { &camel })
}

/// The tokens of an identifier made by this module.
pub(crate) fn tokens(name: &str) -> proc_macro2::Ident {
    match name.strip_prefix("r#") {
        Some(raw) => proc_macro2::Ident::new_raw(raw, proc_macro2::Span::call_site()),
        None => proc_macro2::Ident::new(name, proc_macro2::Span::call_site()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_valid() {
        assert_eq!(field("type"), "r#type");
        assert_eq!(field("itemId"), "item_id");
        assert_eq!(field("self"), "self_");
        assert_eq!(field("2x"), "_2x");
        assert_eq!(type_name("Dataset_Iris_"), "DatasetIris");
        assert_eq!(type_name("image/png"), "ImagePng");
        assert_eq!(type_name(""), "Value");
    }
}
