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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::ops::Range;

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

/// Every `${...}` reference in `text`, in order: the matches of hopeit's pattern
/// `\$\{([^}{]+)\}`, leftmost first and not overlapping.
pub fn references(text: &str) -> Vec<Reference> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("${") {
        let start = from + found;
        let name = start + 2;
        // The name runs to the next brace, which must close it. Braces are ASCII, so byte
        // offsets stay on char boundaries. A failed start leaves nothing to rescan but this
        // brace-free run, so the scan is linear.
        match bytes[name..].iter().position(|b| matches!(b, b'{' | b'}')) {
            Some(len) if len > 0 && bytes[name + len] == b'}' => {
                let end = name + len + 1;
                out.push(Reference {
                    name: text[name..end - 1].to_owned(),
                    span: start..end,
                });
                from = end;
            }
            _ => from = start + 1,
        }
    }
    out
}

/// Byte offsets of every `${` that does not start a plausible reference: `${}`, `${a{b}`, an
/// unclosed `${X`. hopeit leaves the first kinds as they are, and reads an unclosed one up to the
/// next `}` of the file, quotes and line breaks included: neither is what was meant.
pub fn malformed(text: &str) -> Vec<usize> {
    let references = references(text);
    // Both are in text order: walk them together.
    let mut next = references.iter().peekable();
    text.match_indices("${")
        .map(|(i, _)| i)
        .filter(|&i| {
            while next.next_if(|r| r.span.start < i).is_some() {}
            next.peek()
                .filter(|r| r.span.start == i)
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
/// brought in by a value) is an error naming every such variable. `env` is asked once per
/// distinct reference.
///
/// ```
/// use std::collections::HashMap;
/// let env = HashMap::from([("HOSTS".to_string(), "http://a,http://b".to_string())]);
/// let text = r#"{"connection_str": "${hosts}", "retries": ${N:-2}}"#;
/// assert_eq!(appwire_manifest::env::expand(text, &env).unwrap(),
///            r#"{"connection_str": "http://a,http://b", "retries": 2}"#);
/// ```
pub fn expand(text: &str, env: &impl Lookup) -> Result<String, UnsetVariables> {
    expand_mapped(text, env).map(|e| e.text)
}

/// A text expanded as hopeit does.
#[cfg_attr(not(feature = "diagnostics"), allow(dead_code))] // `edits` maps diagnostics back
pub(crate) struct Expanded {
    pub(crate) text: String,
    /// Each replaced reference's range in the original text and its value, in order, when
    /// replacing every reference in place gives hopeit's result (always, unless a value, or a
    /// value with the text around it, forms a reference).
    pub(crate) edits: Option<Vec<(Range<usize>, String)>>,
}

/// [`expand`], with the edits that map the result back to `text`.
///
/// hopeit replaces each reference's text everywhere in the whole text, one reference after the
/// other: quadratic. Replacing each reference in place in one pass gives the same result unless
/// a replacement forms a new reference, and any reference so formed would survive that pass,
/// because replacements cannot overlap a reference. So the pass is kept when the only
/// references left in its result are the unset ones it kept; otherwise hopeit's steps are
/// replayed.
pub(crate) fn expand_mapped(text: &str, env: &impl Lookup) -> Result<Expanded, UnsetVariables> {
    let references = references(text);
    let mut values: HashMap<&str, Option<String>> = HashMap::new();
    for r in &references {
        values
            .entry(r.name.as_str())
            .or_insert_with(|| resolve(&r.name, env));
    }
    let value = |r: &Reference| values.get(r.name.as_str()).and_then(Option::as_deref);

    let mut result = String::with_capacity(text.len());
    let mut edits = Vec::new();
    let mut kept = Vec::new();
    let mut copied = 0;
    for r in &references {
        result.push_str(&text[copied..r.span.start]);
        match value(r) {
            Some(v) => {
                edits.push((r.span.clone(), v.to_owned()));
                result.push_str(v);
            }
            None => {
                kept.push(result.len());
                result.push_str(&text[r.span.clone()]);
            }
        }
        copied = r.span.end;
    }
    result.push_str(&text[copied..]);
    let mut left = self::references(&result);
    let mut edits = Some(edits);
    if !left.iter().map(|r| r.span.start).eq(kept.iter().copied()) {
        result = text.to_owned();
        for r in &references {
            if let Some(v) = value(r) {
                result = result.replace(&text[r.span.clone()], v);
            }
        }
        left = self::references(&result);
        edits = None;
    }
    if left.is_empty() {
        return Ok(Expanded {
            text: result,
            edits,
        });
    }
    let mut seen = HashSet::new();
    let names = left
        .iter()
        .map(|r| r.name.to_uppercase())
        .filter(|n| seen.insert(n.clone()))
        .collect();
    // Locate the leftovers in the original text; a leftover brought in by a value has no
    // place of its own there and is named only.
    let left_names: HashSet<&str> = left.iter().map(|r| r.name.as_str()).collect();
    let references = references
        .into_iter()
        .filter(|r| left_names.contains(r.name.as_str()))
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
    fn a_value_forming_a_reference_is_replaced_as_in_hopeit() {
        // hopeit replaces `${x}` everywhere, the one `A` formed with the text around it too.
        let e = env(&[("A", "x"), ("X", "y")]);
        assert_eq!(expand("${${A}} ${x}", &e).as_deref(), Ok("y y"));
        // A later reference replaces what an earlier value brought in.
        let e = env(&[("A", "${B}"), ("B", "v")]);
        assert_eq!(expand("${A} ${B}", &e).as_deref(), Ok("v v"));
        let err = expand("${${A}} ${b}", &env(&[("A", "x")])).unwrap_err();
        assert_eq!(err.names, ["X", "B"]);
        assert_eq!(
            err.references,
            [Reference {
                name: "b".into(),
                span: 8..12
            }]
        );
    }

    #[test]
    fn many_references_expand_and_report_in_one_pass() {
        // Replacing each reference across the whole text, or checking names against a list,
        // takes minutes at this size.
        let set: HashMap<String, String> = (0..1000)
            .map(|i| (format!("V{i}"), i.to_string()))
            .collect();
        let text: String = (0..200_000)
            .map(|i| format!("${{v{}}},", i % 1000))
            .collect();
        let expanded = expand(&text, &set).unwrap();
        let want: String = (0..200_000).map(|i| format!("{},", i % 1000)).collect();
        assert_eq!(expanded, want);

        let text: String = (0..200_000)
            .map(|i| format!("${{u{}}} ", i % 100_000))
            .collect();
        let err = expand(&text, &set).unwrap_err();
        let names: Vec<String> = (0..100_000).map(|i| format!("U{i}")).collect();
        assert_eq!(err.names, names);
        assert_eq!(err.references.len(), 200_000);
        assert_eq!(err.references[100_001].name, "u1");
        assert_eq!(&text[err.references[100_001].span.clone()], "${u1}");
    }

    #[test]
    fn each_distinct_reference_is_looked_up_once() {
        let calls = std::cell::RefCell::new(Vec::new());
        let lookup = |name: &str| {
            calls.borrow_mut().push(name.to_owned());
            (name != "B").then(|| "v".to_owned())
        };
        let text = "${a} ${B} ${a} ${b} ${B}";
        assert!(expand(text, &lookup).is_err());
        assert_eq!(*calls.borrow(), ["A", "B", "B"]);
    }

    /// hopeit's `replace_env_vars`, literally: the regex, and each match's text replaced
    /// across the whole result.
    fn hopeit_expand(text: &str, env: &HashMap<String, String>) -> Result<String, Vec<String>> {
        let re = regex::Regex::new(r"\$\{([^}{]+)\}").unwrap();
        let mut result = text.to_owned();
        for c in re.captures_iter(text) {
            if let Some(v) = resolve(&c[1], env) {
                result = result.replace(&c[0], &v);
            }
        }
        let left: Vec<String> = re
            .captures_iter(&result)
            .map(|c| c[1].to_uppercase())
            .collect();
        if left.is_empty() {
            Ok(result)
        } else {
            Err(left)
        }
    }

    proptest::proptest! {
        #[test]
        fn same_as_hopeit(
            text in "[${}aAb\"\né:-]{0,40}",
            values in proptest::collection::vec("[${}ab]{0,6}", 3),
        ) {
            let re = regex::Regex::new(r"\$\{([^}{]+)\}").unwrap();
            let found: Vec<Reference> = re
                .captures_iter(&text)
                .map(|c| Reference { name: c[1].to_owned(), span: c.get(0).unwrap().range() })
                .collect();
            proptest::prop_assert_eq!(references(&text), found);
            let env = env(&[("A", &values[0]), ("B", &values[1]), ("AB", &values[2])]);
            match (expand(&text, &env), hopeit_expand(&text, &env)) {
                (Ok(ours), Ok(theirs)) => proptest::prop_assert_eq!(ours, theirs),
                (Err(ours), Err(mut theirs)) => {
                    let mut seen = HashSet::new();
                    theirs.retain(|n| seen.insert(n.clone()));
                    proptest::prop_assert_eq!(ours.names, theirs);
                }
                (ours, theirs) => proptest::prop_assert!(false, "{ours:?} vs {theirs:?}"),
            }
        }
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
