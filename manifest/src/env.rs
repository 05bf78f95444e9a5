//! `${VAR}` expansion, with hopeit's exact semantics.
//!
//! hopeit expands environment variables in the raw text of a config file, before it parses the
//! JSON (`replace_env_vars`):
//!
//! - a reference is `${NAME}`, where `NAME` is any text without braces;
//! - the variable read is `NAME` upper-cased: `${my_hosts}` reads `MY_HOSTS`;
//! - the replacement is textual, everywhere (values and keys, quoted or not, so
//!   `"retries": ${N}` works) and with no JSON escaping;
//! - there is no default: an unset variable fails the whole load, and every unset variable is
//!   named in one error.
//!
//! appwire adds one extension: `${NAME:-default}` expands to `default` when neither `NAME:-DEFAULT`
//! (what hopeit would read) nor `NAME` is set. hopeit does not know it and fails on such a
//! manifest unless the variable is set, so `appwire check` warns where it is used.
//!
//! Expansion is its own step: code generation checks a manifest as written, without an
//! environment, while the runtime expands the settings when it starts.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

/// hopeit's reference pattern: `\${([^}{]+)}`.
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a literal pattern
    Regex::new(r"\$\{([^}{]+)\}").unwrap()
});

/// Variables hopeit sets itself when it starts, whatever the environment says.
pub const HOPEIT_BUILTINS: [(&str, &str); 3] = [
    ("HOPEIT_ENGINE_VERSION", "0.30.1"),
    ("HOPEIT_APPS_API_VERSION", "0.30"),
    ("HOPEIT_APPS_ROUTE_VERSION", "0x30"),
];

/// Where expansion reads variables from. The name passed is already upper-cased.
pub trait Lookup {
    /// The variable's value, or `None` when it is unset.
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Lookup for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// The value of one of hopeit's built-in variables ([`HOPEIT_BUILTINS`]).
pub fn builtin(name: &str) -> Option<String> {
    HOPEIT_BUILTINS
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| (*v).to_owned())
}

impl Lookup for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

impl Lookup for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        BTreeMap::get(self, name).cloned()
    }
}

impl<F: Fn(&str) -> Option<String>> Lookup for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// One `${...}` reference in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The text between the braces, as written.
    pub name: String,
    /// Byte range of the whole `${...}`.
    pub span: Range<usize>,
}

impl Reference {
    /// The appwire default of a `${NAME:-default}` reference.
    pub fn default_value(&self) -> Option<&str> {
        self.name.split_once(":-").map(|(_, d)| d)
    }
}

/// Every `${...}` reference in `text`, in order.
pub fn references(text: &str) -> Vec<Reference> {
    REFERENCE
        .captures_iter(text)
        .filter_map(|c| {
            let whole = c.get(0)?;
            Some(Reference {
                name: c.get(1)?.as_str().to_owned(),
                span: whole.range(),
            })
        })
        .collect()
}

/// Byte offsets of every `${` that does not start a plausible reference: `${}`, `${a{b}`, an
/// unclosed `${X`. hopeit leaves the first kinds as they are, and reads an unclosed one up to the
/// next `}` of the file, quotes and line breaks included: neither is what was meant.
pub fn malformed(text: &str) -> Vec<usize> {
    let references = references(text);
    text.match_indices("${")
        .map(|(i, _)| i)
        .filter(|i| {
            references
                .iter()
                .find(|r| r.span.start == *i)
                .is_none_or(|r| r.name.contains(['"', '\n']))
        })
        .collect()
}

/// The variables a text needed but the environment did not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsetVariables {
    /// Each unset variable's name, upper-cased as it was looked up, once, in order of first use.
    pub names: Vec<String>,
    /// Every reference to an unset variable in the original text.
    pub references: Vec<Reference>,
}

impl fmt::Display for UnsetVariables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.names.len() == 1 { "" } else { "s" };
        write!(
            f,
            "environment variable{s} not set: {}",
            self.names.join(", ")
        )
    }
}

impl std::error::Error for UnsetVariables {}

impl Lookup for &dyn Lookup {
    fn get(&self, name: &str) -> Option<String> {
        (**self).get(name)
    }
}

/// The value of the reference `${name}`: hopeit's upper-cased name first (a built-in, then
/// `env`), then the appwire default.
pub fn resolve(name: &str, env: &impl Lookup) -> Option<String> {
    let get = |n: &str| builtin(n).or_else(|| env.get(n));
    if let Some(v) = get(&name.to_uppercase()) {
        return Some(v);
    }
    let (var, default) = name.split_once(":-")?;
    Some(get(&var.to_uppercase()).unwrap_or_else(|| default.to_owned()))
}

/// Expands every `${VAR}` in `text` from `env`, as hopeit does.
///
/// hopeit's built-in variables ([`HOPEIT_BUILTINS`]) are always set and win over `env`, as they
/// do in a hopeit process.
///
/// Each reference of the original text is replaced, in order, wherever its exact text occurs
/// in the result so far; afterwards any reference left in the result (an unset variable, or one
/// brought in by a value) is an error naming every such variable.
///
/// ```
/// use std::collections::HashMap;
/// let env = HashMap::from([("HOSTS".to_string(), "http://a,http://b".to_string())]);
/// let text = r#"{"connection_str": "${hosts}", "retries": ${N:-2}}"#;
/// assert_eq!(appwire_manifest::env::expand(text, &env).unwrap(),
///            r#"{"connection_str": "http://a,http://b", "retries": 2}"#);
/// ```
pub fn expand(text: &str, env: &impl Lookup) -> Result<String, UnsetVariables> {
    let mut result = text.to_owned();
    for reference in references(text) {
        if let Some(value) = resolve(&reference.name, env) {
            result = result.replace(&text[reference.span.clone()], &value);
        }
    }
    let left = references(&result);
    if left.is_empty() {
        return Ok(result);
    }
    let mut names: Vec<String> = Vec::new();
    for r in &left {
        let name = r.name.to_uppercase();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    // Locate the leftovers in the original text; a leftover brought in by a value has no
    // place of its own there and is named only.
    let left_names: Vec<&str> = left.iter().map(|r| r.name.as_str()).collect();
    let references = references(text)
        .into_iter()
        .filter(|r| left_names.contains(&r.name.as_str()))
        .collect();
    Err(UnsetVariables { names, references })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn lookup_is_upper_cased_and_textual() {
        let e = env(&[("MY_HOSTS", "http://h:1"), ("N", "3")]);
        assert_eq!(
            expand(r#"{"a": "${my_hosts}", "${n}": ${N}}"#, &e).as_deref(),
            Ok(r#"{"a": "http://h:1", "3": 3}"#)
        );
    }

    #[test]
    fn every_unset_variable_is_named_once() {
        let err = expand("${a} ${B} ${a} ${c:-}", &env(&[])).unwrap_err();
        assert_eq!(err.names, ["A", "B"]);
        assert_eq!(err.references.len(), 3);
        assert_eq!(err.to_string(), "environment variables not set: A, B");
    }

    #[test]
    fn defaults_are_an_extension_behind_hopeits_lookup() {
        assert_eq!(expand("${X:-d}", &env(&[])).as_deref(), Ok("d"));
        assert_eq!(expand("${X:-d}", &env(&[("X", "v")])).as_deref(), Ok("v"));
        // hopeit reads the literal upper-cased name first.
        assert_eq!(
            expand("${X:-d}", &env(&[("X:-D", "h")])).as_deref(),
            Ok("h")
        );
    }

    #[test]
    fn not_references() {
        assert_eq!(
            expand("$X ${} ${a{b}", &env(&[])).as_deref(),
            Ok("$X ${} ${a{b}")
        );
        assert_eq!(malformed("$X ${} ${a{b} ${ok} ${open"), [3, 7, 20]);
        assert_eq!(malformed("\"${OPEN\",\n}"), [1]);
    }

    #[test]
    fn a_value_holding_a_reference_fails_as_in_hopeit() {
        let err = expand("${A}", &env(&[("A", "${B}")])).unwrap_err();
        assert_eq!(err.names, ["B"]);
        assert!(err.references.is_empty());
    }

    #[test]
    fn builtins_win() {
        let e = env(&[("HOPEIT_APPS_API_VERSION", "9.9")]);
        assert_eq!(
            expand("${hopeit_apps_api_version}", &e).as_deref(),
            Ok("0.30")
        );
    }
}
