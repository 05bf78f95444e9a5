//! Doc comments from spec text.

use proc_macro2::TokenStream;
use quote::quote;

/// `#[doc]` attributes, one per line; an empty string is a paragraph break.
pub(crate) fn attrs(lines: &[String]) -> TokenStream {
    let lines = lines.iter().map(|l| match l.is_empty() {
        true => String::new(),
        false => format!(" {l}"),
    });
    quote!(#(#[doc = #lines])*)
}

/// Paragraphs of text from a spec, each line made safe; paragraphs apart.
pub(crate) fn paragraphs<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut lines = Vec::new();
    for t in texts {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.extend(t.lines().map(|l| text(l.trim_end())));
    }
    lines
}

/// Text from a spec made safe for rustdoc, which reads Markdown: brackets (links) and angle
/// brackets (HTML) are escaped the Markdown way, so that they show as written in rustdoc and
/// in editors alike; bare URLs become links.
pub(crate) fn text(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            if word.starts_with("http://") || word.starts_with("https://") {
                format!("<{word}>")
            } else {
                let mut out = String::with_capacity(word.len());
                for c in word.chars() {
                    if matches!(c, '\\' | '[' | ']' | '<' | '>') {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_text_shows_as_written() {
        assert_eq!(text("a -> b <c> [d]"), r"a -\> b \<c\> \[d\]");
        assert_eq!(text("see https://x.y/z"), "see <https://x.y/z>");
        assert_eq!(
            paragraphs(["One", "Two\nlines "]),
            ["One", "", "Two", "lines"]
        );
    }
}
