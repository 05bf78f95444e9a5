//! Rust tokens from the [`Model`]: the only place the generator writes tokens.
//!
//! Generated code names the runtime through one path (`root`, `::appwire` by default): serde
//! and the other crates it needs come from `root::__private`, so a user's crate depends on the
//! runtime alone. Each target app is a module that imports the few runtime items it uses;
//! their names and the standard prelude's are reserved in it, so that a schema never shadows
//! them (see `model::names`).

mod client;
mod docs;
mod streams;
mod types;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ident;
use crate::model::{Answer, CallShape, EventKind, Model, TargetApp, Ty, TypeKind};

pub(crate) fn emit(model: &Model, root: &syn::Path) -> TokenStream {
    let root = quote!(#root);
    let apps = model.apps.iter().map(|app| target_app(model, app, &root));
    let streams = model
        .streams
        .as_ref()
        .map(|s| streams::streams(&model.caller, s, &root));
    quote!(#(#apps)* #streams)
}

fn target_app(model: &Model, app: &TargetApp, root: &TokenStream) -> TokenStream {
    let module = ident::tokens(&app.module);
    let spec = match &app.spec_file {
        Some(f) => format!(" Its types come from the OpenAPI spec `{f}`."),
        None => " No OpenAPI spec was given: each method takes the types of its query, body and answer as type parameters.".to_owned(),
    };
    let doc = format!(
        " App `{}` version `{}`: the clients of its connections and the types they use.{spec}",
        app.app.name, app.app.version
    );
    let serde = format!("{root}::__private::serde").replace(' ', "");
    let defs = app
        .types
        .iter()
        .map(|d| types::definition(&app.types, d, &serde));
    let answers = app
        .answers
        .iter()
        .map(|a| types::answer(&app.types, a, &serde));
    let clients = app
        .clients
        .iter()
        .map(|c| client::client(&model.caller, app, c, root));
    let exported = app.clients.iter().map(|c| ident::tokens(&c.type_name));
    let imports = imports(app, root);
    // A caller uses some of a module's items, and the code may be included in a binary or a
    // private module: what is unused or unexported there must not warn. Fields and variants
    // are documented where the spec says something of them.
    quote! {
        #[doc = #doc]
        #[allow(dead_code, missing_docs, unreachable_pub)]
        pub mod #module {
            #imports

            #(#defs)*
            #(#answers)*
            #(#clients)*
        }

        #[allow(unused_imports, unreachable_pub)]
        pub use self::#module::{#(#exported),*};
    }
}

/// The `use`s of a target app's module: the runtime's items every client uses, and those of
/// its types as they need them.
fn imports(app: &TargetApp, root: &TokenStream) -> TokenStream {
    let mut used = Used::default();
    for def in &app.types {
        match &def.kind {
            TypeKind::Struct(fields) => fields.iter().for_each(|f| used.ty(&f.ty)),
            TypeKind::Alias(t) => used.ty(t),
            TypeKind::Enum(_) => {}
        }
    }
    for a in &app.answers {
        used.ty(&a.ok.ty);
        a.alternatives
            .iter()
            .for_each(|alt| used.ty(&alt.returned.ty));
    }
    for e in app.clients.iter().flat_map(|c| &c.events) {
        let EventKind::Call(call) = &e.kind;
        if let CallShape::Typed(typed) = &call.shape {
            typed.params.iter().for_each(|p| used.ty(&p.ty));
            if let Some(body) = &typed.body {
                used.ty(&body.ty);
            }
            if let Answer::Plain(r) = &typed.answer {
                used.ty(&r.ty);
            }
        }
    }
    let runtime = [
        quote!(Call),
        quote!(Client),
        quote!(Error),
        quote!(Request),
        quote!(Response),
    ];
    // `Deserialize` is the runtime's derive (and serde's trait), `Declared` its answers' derive.
    let serde =
        (!app.types.is_empty()).then(|| quote!(use #root::__private::{Deserialize, Serialize};));
    let declared = (!app.answers.is_empty()).then(|| quote!(use #root::__private::Declared;));
    let (map, bytes, json) = used.uses(root);
    quote! {
        #map
        #[allow(unused_imports)]
        use #root::{#(#runtime),*};
        #bytes
        #declared
        #serde
        #json
    }
}

/// The imported types some type uses.
#[derive(Default)]
struct Used {
    map: bool,
    bytes: bool,
    json: bool,
}

impl Used {
    /// The `use`s of the map, bytes and JSON types, each when used.
    fn uses(
        &self,
        root: &TokenStream,
    ) -> (
        Option<TokenStream>,
        Option<TokenStream>,
        Option<TokenStream>,
    ) {
        let map = self.map.then(|| {
            quote!(
                use ::std::collections::BTreeMap;
            )
        });
        let bytes = self.bytes.then(|| quote!(use #root::__private::Bytes;));
        let json = self
            .json
            .then(|| quote!(use #root::__private::serde_json::Value as JsonValue;));
        (map, bytes, json)
    }

    /// Their `use`s, in one stream.
    fn imports(&self, root: &TokenStream) -> TokenStream {
        let (map, bytes, json) = self.uses(root);
        quote!(#map #bytes #json)
    }

    fn ty(&mut self, t: &Ty) {
        match t {
            Ty::Map(v) => {
                self.map = true;
                self.ty(v);
            }
            Ty::List(t) | Ty::Option(t) => self.ty(t),
            Ty::Bytes => self.bytes = true,
            Ty::Json => self.json = true,
            _ => {}
        }
    }
}
