//! Tokens of a client type: its constructors, once per connection, and a method per event.

use appwire_manifest::EventConnectionType;
use proc_macro2::TokenStream;
use quote::quote;

use super::docs;
use super::types::ty;
use crate::ident;
use crate::model::{
    Answer, App, CallShape, ClientDef, Decode, EventDef, EventKind, ParamPlace, TargetApp, Ty,
    TypedCall,
};

pub(crate) fn client(
    caller: &App,
    app: &TargetApp,
    c: &ClientDef,
    root: &TokenStream,
) -> TokenStream {
    let name = ident::tokens(&c.type_name);
    let plugin = match &c.plugin {
        Some((p, v)) => format!(", plugin `{p}` version `{v}`"),
        None => String::new(),
    };
    let lines = [
        format!(
            "Client of app connection `{}`: app `{}` version `{}`{plugin}.",
            c.key, app.app.name, app.app.version
        ),
        String::new(),
        format!(
            "Built with `from_env` or `builder`: settings from section `{}` of the manifest, `${{VAR}}`s expanded then. A method returns a [`Call`]: `.await` it for the [`Response`], or set options for that call first.",
            c.settings_key
        ),
    ];
    let doc = docs::attrs(&lines);
    let (caller_name, caller_version) = (&caller.name, &caller.version);
    let (key, target_name, target_version) = (&c.key, &app.app.name, &app.app.version);
    let plugin = match &c.plugin {
        Some((p, v)) => quote!(Some((#p, #v))),
        None => quote!(None),
    };
    let (settings_key, settings) = (&c.settings_key, &c.settings_json);
    let methods = c.events.iter().map(|e| event(app, e, root));
    quote! {
        #doc
        #[derive(Clone, Debug)]
        pub struct #name(Client);

        #root::__private::client!(#name);

        impl #name {
            const PARTS: #root::__private::Parts = #root::__private::Parts {
                caller_name: #caller_name,
                caller_version: #caller_version,
                connection: #key,
                target_name: #target_name,
                target_version: #target_version,
                plugin: #plugin,
                settings_key: #settings_key,
                settings: #settings,
            };

            #(#methods)*
        }
    }
}

fn event(app: &TargetApp, e: &EventDef, root: &TokenStream) -> TokenStream {
    let EventKind::Call(call) = &e.kind;
    let name = ident::tokens(&e.method);
    let mut lines = docs::paragraphs(
        [e.docs.summary.as_deref(), e.docs.description.as_deref()]
            .into_iter()
            .flatten(),
    );
    if let CallShape::Typed(typed) = &call.shape {
        let described: Vec<String> = typed
            .params
            .iter()
            .filter_map(|p| {
                let d = p.description.as_deref()?;
                Some(format!(
                    "- `{}`: {}",
                    p.ident.trim_start_matches("r#"),
                    docs::text(d)
                ))
            })
            .collect();
        if !described.is_empty() {
            lines.push(String::new());
            lines.extend(described);
        }
    }
    if !lines.is_empty() {
        lines.push(String::new());
    }
    let callers: Vec<String> = e.callers.iter().map(|c| format!("`{c}`")).collect();
    lines.push(format!(
        "`{} {}` calls event `{}`, for {}.",
        call.method.as_str(),
        call.route,
        e.name,
        callers.join(", ")
    ));
    if let CallShape::Untyped = call.shape {
        lines.push(String::new());
        lines.push("`query` goes as query arguments, `body` (a POST's) as the JSON payload, and the answer decodes as `R` (a plain value taken out of hopeit's `{\"<event>\": value}`).".to_owned());
    }
    let doc = docs::attrs(&lines);
    let new_request = match call.method {
        EventConnectionType::Get => quote!(Request::get),
        EventConnectionType::Post => quote!(Request::post),
    };
    let event = &e.name;
    match &call.shape {
        CallShape::Typed(typed) => {
            let (params, request) = typed_request(app, typed, quote!(#new_request(#event)));
            let (out, send) = match &typed.answer {
                Answer::Plain(r) => {
                    let send = match r.decode {
                        Decode::Json => quote!(json),
                        Decode::Value => quote!(value),
                        Decode::Bytes => quote!(bytes),
                    };
                    (ty(&app.types, &r.ty), send)
                }
                Answer::Declared(id) => {
                    let a = ident::tokens(&app.answers[id.0].name);
                    (quote!(#a), quote!(declared))
                }
            };
            let body = match params.is_empty() {
                true => quote!(self.0.#send(#request)),
                false => quote!(let request = #request; self.0.#send(request)),
            };
            // A method only makes its request: inline, so that a crate of many clients leaves
            // the calls (and decoding their answers) to the crates that make them.
            quote! {
                #doc
                #[inline]
                pub fn #name(&self, #(#params),*) -> Call<#out> {
                    #body
                }
            }
        }
        CallShape::Untyped => {
            let serde = quote!(#root::__private::serde);
            let query = quote!(Q: #serde::Serialize + ?Sized);
            let answer = quote!(R: #serde::de::DeserializeOwned + Send + 'static);
            let (generics, params, request) = match call.method {
                EventConnectionType::Get => (
                    quote!(<#query, #answer>),
                    quote!(query: &Q),
                    quote!(#new_request(#event).query_serialize(query)),
                ),
                EventConnectionType::Post => (
                    quote!(<#query, B: #serde::Serialize + ?Sized, #answer>),
                    quote!(query: &Q, body: &B),
                    quote!(#new_request(#event).query_serialize(query).and_then(|r| r.json_body(body))),
                ),
            };
            quote! {
                #doc
                #[inline]
                pub fn #name #generics(&self, #params) -> Call<R> {
                    self.0.auto(#request)
                }
            }
        }
    }
}

/// A typed call's arguments, and the expression of its request.
fn typed_request(
    app: &TargetApp,
    typed: &TypedCall,
    new: TokenStream,
) -> (Vec<TokenStream>, TokenStream) {
    let mut params = Vec::new();
    let mut request = new;
    for p in &typed.params {
        let id = ident::tokens(&p.ident);
        let borrowed = match &p.ty {
            Ty::String => quote!(&str),
            t => ty(&app.types, t),
        };
        let wire = &p.wire;
        match (p.place, p.required) {
            (ParamPlace::Query, true) => {
                params.push(quote!(#id: #borrowed));
                request = quote!(#request.query(#wire, #id));
            }
            (ParamPlace::Query, false) => {
                params.push(quote!(#id: Option<#borrowed>));
                request = quote!(#request.query_opt(#wire, #id));
            }
            (ParamPlace::Header, _) => {
                params.push(quote!(#id: &str));
                request = quote!(#request.header_param(#wire, #id));
            }
        }
    }
    if let Some(body) = &typed.body {
        let t = match &body.ty {
            Ty::String => quote!(str),
            t => ty(&app.types, t),
        };
        params.push(quote!(body: &#t));
        request = match body.plain {
            true => quote!(#request.value_body(body)),
            false => quote!(#request.json_body(body)),
        };
    }
    (params, request)
}
