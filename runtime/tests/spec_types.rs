//! The `Deserialize` derive of generated code decodes as serde's own derive does: the same
//! values from the same JSON, and the same errors.

use appwire::__private::{Deserialize as Compact, Serialize};

/// A type as generated code writes it, decoded by the runtime's derive.
#[derive(Debug, PartialEq, Serialize, Compact)]
#[serde(crate = "::appwire::__private::serde")]
struct Item {
    id: String,
    #[serde(rename = "itemKind")]
    kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    price: Option<f64>,
    /// Required but nullable: absent reads as `None`, as serde reads it.
    note: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    r#type: Option<Vec<String>>,
}

#[derive(Debug, PartialEq, Serialize, Compact)]
#[serde(crate = "::appwire::__private::serde")]
enum Kind {
    #[serde(rename = "tool")]
    Tool,
    #[serde(rename = "kit-box")]
    KitBox,
}

/// The same types, decoded by serde's derive.
mod by_serde {
    #[derive(Debug, PartialEq, serde::Deserialize)]
    pub(crate) struct Item {
        pub(crate) id: String,
        #[serde(rename = "itemKind")]
        pub(crate) kind: Kind,
        #[serde(default)]
        pub(crate) price: Option<f64>,
        pub(crate) note: Option<String>,
        #[serde(rename = "type", default)]
        pub(crate) r#type: Option<Vec<String>>,
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    pub(crate) enum Kind {
        #[serde(rename = "tool")]
        Tool,
        #[serde(rename = "kit-box")]
        KitBox,
    }
}

#[test]
fn spec_types_decode_as_serde_decodes_them() {
    let cases = [
        r#"{"id": "a", "itemKind": "tool", "price": 2.5, "note": "n", "type": ["x"]}"#,
        r#"{"itemKind": "kit-box", "id": "b"}"#,
        r#"{"id": "c", "itemKind": "tool", "price": null, "note": null, "extra": {"deep": [1]}}"#,
        r#"{"id": "d"}"#,
        r#"{"itemKind": "tool"}"#,
        r#"{"id": "e", "id": "f", "itemKind": "tool"}"#,
        r#"{"id": 3, "itemKind": "tool"}"#,
        r#"{"id": "g", "itemKind": "hammer"}"#,
        r#"{"id": "h", "itemKind": 7}"#,
        r#"["i", "tool"]"#,
        r#""not an object""#,
        r#"{"id": "j", "itemKind": "tool", "price": "cheap"}"#,
    ];
    for json in cases {
        let ours = serde_json::from_str::<Item>(json);
        let serdes = serde_json::from_str::<by_serde::Item>(json);
        match (&ours, &serdes) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.id, b.id, "{json}");
                assert_eq!(format!("{:?}", a.kind), format!("{:?}", b.kind), "{json}");
                assert_eq!(
                    (&a.price, &a.note, &a.r#type),
                    (&b.price, &b.note, &b.r#type)
                );
            }
            // serde's derive also reads a struct from a sequence, in its own way; generated
            // types are JSON objects, and the runtime's derive reads only those.
            (Err(_), _) if json.starts_with('[') => {}
            (Err(a), Err(b)) => {
                // The same fault at the same place; serde's derive words an enum's expectation
                // its own way.
                assert_eq!(
                    (a.line(), a.column()),
                    (b.line(), b.column()),
                    "{json}: {a} / {b}"
                );
                if !json.contains("7}") {
                    assert_eq!(a.to_string(), b.to_string(), "{json}");
                }
            }
            _ => panic!("{json}: {ours:?} / {serdes:?}"),
        }
    }
}

#[test]
fn a_decoded_type_serializes_back_as_it_came() {
    let json = r#"{"id":"a","itemKind":"kit-box","note":null}"#;
    let item: Item = serde_json::from_str(json).expect("item");
    assert_eq!(serde_json::to_string(&item).expect("json"), json);
}
