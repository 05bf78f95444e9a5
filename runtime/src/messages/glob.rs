//! Glob patterns over stream names, with Redis's own rules (`KEYS`, `SCAN MATCH`), so that a
//! pattern selects the same streams on every backend.
//!
//! `*` matches any run of bytes, `?` one byte, `[abc]` one of a set, `[^abc]` one outside it,
//! `[a-z]` a range, and `\` makes the next byte literal. Matching is case-sensitive.

/// Whether `name` matches the glob `pattern`.
///
/// ```
/// use appwire::messages::glob::matches;
///
/// assert!(matches("orders.*", "orders.high"));
/// assert!(matches("orders.[ab]?", "orders.bx"));
/// assert!(!matches("orders.*", "Orders.high"));
/// ```
pub fn matches(pattern: &str, name: &str) -> bool {
    matches_bytes(pattern.as_bytes(), name.as_bytes())
}

/// Whether the pattern has any special byte: a pattern without one names one stream.
pub fn is_pattern(pattern: &str) -> bool {
    pattern.bytes().any(|b| matches!(b, b'*' | b'?' | b'[' | b'\\'))
}

fn matches_bytes(pattern: &[u8], name: &[u8]) -> bool {
    // Backtracking over the last `*` only: linear in practice, never exponential.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
                continue;
            }
            Some(b'?') => {
                p += 1;
                n += 1;
                continue;
            }
            Some(b'[') => {
                if let Some((true, next)) = class(pattern, p, name[n]) {
                    p = next;
                    n += 1;
                    continue;
                }
            }
            // Not a guard: an escape that does not match is a mismatch, not a literal `\`.
            #[allow(clippy::collapsible_match)]
            Some(b'\\') if p + 1 < pattern.len() => {
                if pattern[p + 1] == name[n] {
                    p += 2;
                    n += 1;
                    continue;
                }
            }
            Some(&c) if c == name[n] => {
                p += 1;
                n += 1;
                continue;
            }
            _ => {}
        }
        // A mismatch: let the last `*` take one more byte, or fail.
        match star {
            Some((sp, sn)) => {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

/// Whether the class starting at `pattern[start] == b'['` takes `byte`, and where the pattern
/// goes on after it; `None` for a class without its `]`, which Redis matches as far as it goes.
fn class(pattern: &[u8], start: usize, byte: u8) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = pattern.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let mut matched = false;
    loop {
        match *pattern.get(i)? {
            b']' => break,
            b'\\' if i + 1 < pattern.len() => {
                matched |= pattern[i + 1] == byte;
                i += 2;
            }
            low if pattern.get(i + 1) == Some(&b'-') && i + 2 < pattern.len() => {
                let high = pattern[i + 2];
                let (low, high) = if low <= high { (low, high) } else { (high, low) };
                matched |= (low..=high).contains(&byte);
                i += 3;
            }
            c => {
                matched |= c == byte;
                i += 1;
            }
        }
    }
    Some((matched != negate, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_glob_rules() {
        let cases = [
            ("*", "anything", true),
            ("*", "", true),
            ("orders.*", "orders.", true),
            ("orders.*", "orders", false),
            ("orders.*", "orders.high.eu", true),
            ("*.high", "orders.high", true),
            ("*.high", "orders.low", false),
            ("h?llo", "hello", true),
            ("h?llo", "hllo", false),
            ("h[ae]llo", "hallo", true),
            ("h[ae]llo", "hillo", false),
            ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("h[a-b]llo", "hcllo", false),
            ("h\\*llo", "h*llo", true),
            ("h\\*llo", "hello", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("Orders", "orders", false),
            ("[", "x", false),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(matches(pattern, name), expected, "{pattern} ~ {name}");
        }
    }

    #[test]
    fn long_names_do_not_backtrack_exponentially() {
        let name = "a".repeat(10_000);
        assert!(!matches("*a*a*a*a*a*b", &name));
    }
}
