//! Rust tokens from the [`Ir`](crate::ir::Ir).
//!
//! Generated code names the runtime through one path (`root`, `::appwire` by default): serde
//! and the other crates it needs come from `root::__private`, so a user's crate depends on the
//! runtime alone.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use appwire_manifest::EventConnectionType;

use crate::ident;
use crate::ir::{ConnectionIr, Decode, Ir, MethodIr, Param, Returned, Shape};
use crate::types::doc_text;

pub(crate) fn emit(ir: &Ir, root: &TokenStream) -> TokenStream {
    let connections = ir.connections.iter().map(|c| connection(ir, c, root));
    quote!(#(#connections)*)
}

fn connection(ir: &Ir, c: &ConnectionIr, root: &TokenStream) -> TokenStream {
    let ty = &c.type_ident;
    let api = format_ident!("{}Api", ty);
    let module = ident::ident(&appwire_manifest::naming::method_name(&c.key));
    let key = &c.key;
    let (caller_name, caller_version) = &ir.caller;
    let (target_json, settings_key, settings_json) =
        (&c.target_json, &c.settings_key, &c.settings_json);
    let target = &c.target;
    let plugin = match &target.plugin_name {
        Some(p) => format!(", plugin `{p}`"),
        None => String::new(),
    };
    let spec_line = match &c.spec_file {
        Some(f) => format!(" Types come from the OpenAPI spec `{f}`."),
        None => " No OpenAPI spec was given: each method takes the types of its query, body and response as type parameters.".into(),
    };
    let doc = [
        format!(
            " Client of app connection `{key}`: app `{}` version `{}`{plugin}.",
            target.name, target.version
        ),
        String::new(),
        format!(
            " Settings come from section `{settings_key}` of the manifest, with `${{VAR}}`s expanded when the client is built.{spec_line}"
        ),
    ];
    let methods = c.methods.iter().map(|m| method(m, root));
    let signatures = c.methods.iter().map(|m| signature(m, root, true));
    let delegates = c.methods.iter().map(|m| {
        let sig = signature(m, root, true);
        let name = &m.ident;
        let args = call_args(m);
        quote!(#sig { #ty::#name(self, #(#args),*) })
    });
    let types = &c.types;
    let responses = c.methods.iter().filter_map(response_enum);
    let module_doc = format!(
        " App connection `{key}`: its client, the trait of its calls, and the types they use."
    );
    let api_doc = format!(
        " The calls of [`{ty}`], as a trait: implement it to stand in for the app connection in tests."
    );
    // A caller uses some of a connection's calls, and the code may be included in a binary or
    // a private module: what is unused or unexported there must not warn.
    quote! {
        #[doc = #module_doc]
        #[allow(dead_code, unreachable_pub)]
        pub mod #module {
            #(#types)*
            #(#responses)*

            #(#[doc = #doc])*
            #[derive(::std::clone::Clone, ::std::fmt::Debug)]
            pub struct #ty {
                connection: #root::Connection,
                options: #root::CallOptions,
            }

            impl #ty {
                /// The app connection's key in the manifest.
                pub const CONNECTION: &'static str = #key;

                const PARTS: #root::__private::Parts = #root::__private::Parts {
                    caller_name: #caller_name,
                    caller_version: #caller_version,
                    connection: #key,
                    target: #target_json,
                    settings_key: #settings_key,
                    settings: #settings_json,
                };

                /// Builds the client with the manifest's settings, `${VAR}`s read from the
                /// process environment.
                ///
                /// # Errors
                /// A variable the settings use is not set, or a setting is invalid.
                pub fn from_env() -> ::std::result::Result<Self, #root::Error> {
                    Self::from_lookup(&#root::__private::ProcessEnv)
                }

                /// Builds the client with the manifest's settings, `${VAR}`s read from `env`.
                ///
                /// # Errors
                /// A variable the settings use is not set, or a setting is invalid.
                pub fn from_lookup(env: &dyn #root::Lookup) -> ::std::result::Result<Self, #root::Error> {
                    #root::Connection::from_parts(&Self::PARTS, env).map(Self::new)
                }

                /// Builds the client with the given settings instead of the manifest's.
                ///
                /// # Errors
                /// A setting is invalid.
                pub fn from_settings(settings: #root::ConnectionSettings) -> ::std::result::Result<Self, #root::Error> {
                    #root::Connection::from_parts_with(&Self::PARTS, settings, &#root::__private::ProcessEnv).map(Self::new)
                }

                /// Wraps a connection built by hand.
                pub fn new(connection: #root::Connection) -> Self {
                    Self { connection, options: #root::CallOptions::default() }
                }

                /// The connection calls go through: its hosts' state, for metrics.
                pub fn connection(&self) -> &#root::Connection {
                    &self.connection
                }

                /// A client whose calls use `options` (timeouts, headers, track context).
                #[must_use]
                pub fn with_options(&self, options: #root::CallOptions) -> Self {
                    Self { connection: self.connection.clone(), options }
                }

                #(#methods)*
            }

            #[doc = #api_doc]
            pub trait #api {
                #(#signatures;)*
            }

            impl #api for #ty {
                #(#delegates)*
            }
        }

        #[allow(unused_imports, unreachable_pub)]
        pub use self::#module::{#ty, #api};
    }
}

/// The enum of a method with declared non-2xx responses.
fn response_enum(m: &MethodIr) -> Option<TokenStream> {
    let Shape::Typed {
        ok, alternatives, ..
    } = &m.shape
    else {
        return None;
    };
    if alternatives.is_empty() {
        return None;
    }
    let name = response_ident(m);
    let ok_ty = &ok.ty;
    let ok_doc = format!(" 200: {}", doc_text(&ok.description));
    let variants = alternatives.iter().map(|a| {
        let v = &a.variant;
        let ty = &a.returned.ty;
        let doc = format!(" {}: {}", a.status, doc_text(&a.returned.description));
        quote!(#[doc = #doc] #v(#ty),)
    });
    let doc = format!(
        " What `{}` answers: its 200 response or one it declares.",
        m.event
    );
    Some(quote! {
        #[doc = #doc]
        #[derive(::std::fmt::Debug)]
        pub enum #name {
            #[doc = #ok_doc]
            Ok(#ok_ty),
            #(#variants)*
        }
    })
}

fn response_ident(m: &MethodIr) -> proc_macro2::Ident {
    format_ident!(
        "{}Response",
        ident::type_name(&m.event)
            .to_string()
            .trim_start_matches("r#")
    )
}

/// The type a method returns inside `Response<..>`.
fn output(m: &MethodIr) -> TokenStream {
    match &m.shape {
        Shape::Typed {
            ok, alternatives, ..
        } if alternatives.is_empty() => {
            let ty = &ok.ty;
            quote!(#ty)
        }
        Shape::Typed { .. } => {
            let name = response_ident(m);
            quote!(#name)
        }
        Shape::Generic => quote!(R),
    }
}

fn param_type(p: &Param) -> TokenStream {
    let ty = &p.ty.tokens;
    let borrowed = if p.ty.is_string() {
        quote!(&str)
    } else {
        ty.clone()
    };
    if p.required {
        borrowed
    } else {
        quote!(::std::option::Option<#borrowed>)
    }
}

/// A method's signature; `send` makes it the `Send` future of the trait.
fn signature(m: &MethodIr, root: &TokenStream, send: bool) -> TokenStream {
    let name = &m.ident;
    let out = output(m);
    let ret = quote!(::std::result::Result<#root::Response<#out>, #root::Error>);
    let (generics, params, bounds) = match &m.shape {
        Shape::Typed { query, body, .. } => {
            let mut params: Vec<TokenStream> = query
                .iter()
                .map(|p| {
                    let id = &p.ident;
                    let ty = param_type(p);
                    quote!(#id: #ty)
                })
                .collect();
            if let Some(b) = body {
                let ty = if b.ty.is_string() {
                    quote!(str)
                } else {
                    b.ty.tokens.clone()
                };
                params.push(quote!(body: &#ty));
            }
            (quote!(), params, quote!())
        }
        Shape::Generic => {
            let serde = quote!(#root::__private::serde);
            let mut params = vec![quote!(query: &Q)];
            let mut generics = vec![quote!(Q)];
            let mut bounds =
                vec![quote!(Q: #serde::Serialize + ?::std::marker::Sized + ::std::marker::Sync)];
            if m.http == EventConnectionType::Post {
                params.push(quote!(body: &B));
                generics.push(quote!(B));
                bounds.push(
                    quote!(B: #serde::Serialize + ?::std::marker::Sized + ::std::marker::Sync),
                );
            }
            generics.push(quote!(R));
            bounds.push(quote!(R: #serde::de::DeserializeOwned + ::std::marker::Send));
            (quote!(<#(#generics),*>), params, quote!(where #(#bounds),*))
        }
    };
    let docs = method_docs(m);
    if send {
        quote! {
            #docs
            fn #name #generics(&self, #(#params),*) -> impl ::std::future::Future<Output = #ret> + ::std::marker::Send #bounds
        }
    } else {
        quote! {
            #docs
            pub async fn #name #generics(&self, #(#params),*) -> #ret #bounds
        }
    }
}

fn call_args(m: &MethodIr) -> Vec<TokenStream> {
    match &m.shape {
        Shape::Typed { query, body, .. } => {
            let mut args: Vec<TokenStream> = query
                .iter()
                .map(|p| {
                    let id = &p.ident;
                    quote!(#id)
                })
                .collect();
            if body.is_some() {
                args.push(quote!(body));
            }
            args
        }
        Shape::Generic if m.http == EventConnectionType::Post => vec![quote!(query), quote!(body)],
        Shape::Generic => vec![quote!(query)],
    }
}

fn method_docs(m: &MethodIr) -> TokenStream {
    let http = m.http.as_str();
    let mut lines = Vec::new();
    if !m.docs.is_empty() {
        lines.push(String::new());
    }
    lines.push(format!(" `{http} {}`: calls event `{}`.", m.route, m.event));
    let callers = m
        .callers
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    lines.push(String::new());
    lines.push(format!(" Declared by the caller events {callers}."));
    match &m.shape {
        Shape::Typed {
            query,
            ok,
            alternatives,
            ..
        } => {
            if !query.is_empty() {
                lines.push(String::new());
                lines.push(" Query parameters:".into());
                for p in query {
                    let req = if p.required { "required" } else { "optional" };
                    let d = p
                        .docs
                        .as_deref()
                        .map(|d| format!(": {}", doc_text(d)))
                        .unwrap_or_default();
                    lines.push(format!(" - `{}` ({req}){d}", p.name));
                }
            }
            lines.push(String::new());
            lines.push(format!(
                " Returns the 200 response: {}",
                doc_text(&ok.description)
            ));
            for a in alternatives {
                lines.push(format!(
                    " or the declared {}: {}",
                    a.status,
                    doc_text(&a.returned.description)
                ));
            }
        }
        Shape::Generic => {
            lines.push(String::new());
            lines.push(" `query` is serialized as query arguments, `body` (POST) as the JSON payload, and the response is decoded as `R` (a plain value is taken out of hopeit's `{\"<event>\": value}`).".into());
        }
    }
    lines.push(String::new());
    lines.push(" # Errors".into());
    lines.push(" When no host is healthy, a timeout or the deadline passes, retries run out, the target answers with an undeclared error status, or the answer does not decode.".into());
    let lines: Vec<String> = lines;
    let extra = &m.docs;
    quote!(#extra #(#[doc = #lines])*)
}

/// An inherent method: builds the call, sends it, decodes the answer.
fn method(m: &MethodIr, root: &TokenStream) -> TokenStream {
    let sig = signature(m, root, false);
    let event = &m.event;
    let new_call = match m.http {
        EventConnectionType::Get => quote!(#root::__private::Call::get(#event)),
        EventConnectionType::Post => quote!(#root::__private::Call::post(#event)),
    };
    let body = match &m.shape {
        Shape::Typed {
            query,
            body,
            ok,
            alternatives,
        } => {
            let query = query.iter().map(|p| {
                let (name, id) = (&p.name, &p.ident);
                if p.required {
                    quote!(let call = call.query(#name, #id);)
                } else {
                    quote! {
                        let call = match #id {
                            ::std::option::Option::Some(value) => call.query(#name, value),
                            ::std::option::Option::None => call,
                        };
                    }
                }
            });
            let payload = body.as_ref().map(|b| {
                if b.plain {
                    quote!(let call = call.value_body(body)?;)
                } else {
                    quote!(let call = call.json_body(body)?;)
                }
            });
            let declared = alternatives.iter().map(|a| {
                let status = a.status;
                quote!(let call = call.declare(#status);)
            });
            let decode_ok = decode(ok, event);
            let value = if alternatives.is_empty() {
                decode_ok
            } else {
                let name = response_ident(m);
                let arms = alternatives.iter().map(|a| {
                    let (status, variant) = (a.status, &a.variant);
                    let d = decode(&a.returned, event);
                    quote!(#status => #name::#variant(#d),)
                });
                quote! {
                    match raw.status.as_u16() {
                        #(#arms)*
                        _ => #name::Ok(#decode_ok),
                    }
                }
            };
            quote! {
                let call = #new_call;
                #(#declared)*
                #(#query)*
                #payload
                let raw = self.connection.send_with(call, &self.options).await?;
                let value = #value;
                ::std::result::Result::Ok(raw.respond(value))
            }
        }
        Shape::Generic => {
            let payload = (m.http == EventConnectionType::Post)
                .then(|| quote!(let call = call.json_body(body)?;));
            quote! {
                let call = #new_call.query_serialize(query)?;
                #payload
                let raw = self.connection.send_with(call, &self.options).await?;
                let value = raw.auto::<R>(#event)?;
                ::std::result::Result::Ok(raw.respond(value))
            }
        }
    };
    quote!(#sig { #body })
}

fn decode(r: &Returned, event: &str) -> TokenStream {
    let ty = &r.ty;
    match r.kind {
        Decode::Json => quote!(raw.json::<#ty>()?),
        Decode::Value => quote!(raw.value::<#ty>(#event)?),
        Decode::Bytes => quote!(raw.bytes()),
    }
}
