//! Every generated name, owned by one namespace per scope.
//!
//! A target app's module is one scope: the names generated code relies on (the standard
//! prelude's, and what the module imports from the runtime) are reserved first, then client
//! types, then the spec's schema types in the order they are first used, then answer enums.
//! A type name already taken gets the lowest free number from 2 (`Error` becomes `Error2`);
//! a method, argument or field name already taken gets a trailing `_` (`new_`).

use std::collections::HashSet;

use crate::ident;

/// Type names a target app's module cannot define: the prelude's types, traits and variants,
/// and the names it imports.
pub(crate) const RESERVED_TYPES: &[&str] = &[
    // The prelude.
    "AsMut",
    "AsRef",
    "Box",
    "Clone",
    "Copy",
    "Debug",
    "Default",
    "DoubleEndedIterator",
    "Drop",
    "Eq",
    "Err",
    "ExactSizeIterator",
    "Extend",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "FromIterator",
    "Hash",
    "Into",
    "IntoIterator",
    "Iterator",
    "None",
    "Ok",
    "Option",
    "Ord",
    "PartialEq",
    "PartialOrd",
    "Result",
    "Send",
    "Sized",
    "Some",
    "String",
    "Sync",
    "ToOwned",
    "ToString",
    "TryFrom",
    "TryInto",
    "Unpin",
    "Vec",
    // What a module imports.
    "BTreeMap",
    "Bytes",
    "Call",
    "Client",
    "Declared",
    "Deserialize",
    "Error",
    "JsonValue",
    "Request",
    "Response",
    "Serialize",
];

/// Type names the `streams` module cannot define besides [`RESERVED_TYPES`]: what it imports.
pub(crate) const RESERVED_STREAM_TYPES: &[&str] = &[
    "BTreeMap",
    "Bytes",
    "Deserialize",
    "Error",
    "Handler",
    "JsonValue",
    "ProcessEnv",
    "Publisher",
    "Runner",
    "Serialize",
    "SharedBroker",
    "Subscriber",
];

/// Method names a client type defines itself.
pub(crate) const RESERVED_METHODS: &[&str] = &[
    "builder",
    "client",
    "clone",
    "fmt",
    "from_env",
    "new",
    "with_options",
];

/// The names taken in one scope.
#[derive(Debug, Default)]
pub(crate) struct Namespace {
    taken: HashSet<String>,
}

impl Namespace {
    /// A scope where `reserved` are taken.
    pub(crate) fn with_reserved(reserved: &[&str]) -> Self {
        Self {
            taken: reserved.iter().map(|&r| r.to_owned()).collect(),
        }
    }

    /// Takes `name` exactly; false when it was taken already.
    pub(crate) fn take(&mut self, name: &str) -> bool {
        self.taken.insert(name.to_owned())
    }

    /// An `UpperCamelCase` type name for `wanted`, numbered when taken.
    pub(crate) fn type_name(&mut self, wanted: &str) -> String {
        let base = ident::type_name(wanted);
        let mut name = base.clone();
        let mut n = 2;
        while !self.take(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        name
    }

    /// A `snake_case` name for `wanted` (already snake-cased or not), `_`-suffixed when taken.
    pub(crate) fn value_name(&mut self, wanted: &str) -> String {
        self.value_name_as(ident::field(wanted))
    }

    /// `name` as given (a valid identifier), `_`-suffixed when taken.
    pub(crate) fn value_name_as(&mut self, mut name: String) -> String {
        while !self.take(&name) {
            name.push('_');
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_type_name_gets_the_next_free_number() {
        let mut ns = Namespace::with_reserved(RESERVED_TYPES);
        assert_eq!(ns.type_name("Error"), "Error2");
        assert_eq!(ns.type_name("error"), "Error3");
        assert_eq!(ns.type_name("Item"), "Item");
        assert_eq!(ns.type_name("Item"), "Item2");
    }

    #[test]
    fn a_taken_value_name_gets_a_trailing_underscore() {
        let mut ns = Namespace::with_reserved(RESERVED_METHODS);
        assert_eq!(ns.value_name("new"), "new_");
        assert_eq!(ns.value_name("itemId"), "item_id");
        assert_eq!(ns.value_name("item_id"), "item_id_");
        assert_eq!(ns.value_name("type"), "r#type");
    }
}
