//! Tokens of the `streams` module: the streams' payload types, a publisher per `write_stream`,
//! and a handler trait, runner and subscriber per STREAM event. Each function hands its
//! embedded spec to the runtime, which builds the rest.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::types::{definition, ty};
use super::{Used, docs};
use crate::ident;
use crate::model::{App, PublisherDef, StreamEvent, Streams, SubscriberDef, TypeKind};

pub(crate) fn streams(caller: &App, s: &Streams, root: &TokenStream) -> TokenStream {
    let module = ident::tokens(&s.module);
    let doc = format!(
        " The streams of app `{}` version `{}`: publishers of its events' `write_stream`s, and the handlers, runners and subscribers of its STREAM events. A function fails with an `Error` when its stream settings do not read, an environment variable they name is unset included.",
        caller.name, caller.version
    );
    let serde = format!("{root}::__private::serde").replace(' ', "");
    let defs = s.types.iter().map(|d| definition(&s.types, d, &serde));
    let events = s.events.iter().map(|e| event(s, e));
    let mut used = Used::default();
    for def in &s.types {
        match &def.kind {
            TypeKind::Struct(fields) => fields.iter().for_each(|f| used.ty(&f.ty)),
            TypeKind::Alias(t) => used.ty(t),
            TypeKind::Enum(_) => {}
        }
    }
    for e in &s.events {
        if let Some(p) = &e.publisher {
            used.ty(&p.payload);
        }
        if let Some(sub) = &e.subscriber {
            used.ty(&sub.payload);
            if let Some((_, out)) = &sub.output {
                used.ty(out);
            }
        }
    }
    let imports = used.imports(root);
    let serde_use =
        (!s.types.is_empty()).then(|| quote!(use #root::__private::{Deserialize, Serialize};));
    quote! {
        #[doc = #doc]
        #[allow(dead_code, missing_docs, unreachable_pub)]
        pub mod #module {
            #imports
            #[allow(unused_imports)]
            use #root::__private::{
                publisher, runner, subscriber, Error, Handler, ProcessEnv, Publisher, Runner,
                SharedBroker, Subscriber,
            };
            #serde_use

            #(#defs)*
            #(#events)*
        }
    }
}

fn event(s: &Streams, e: &StreamEvent) -> TokenStream {
    let subscriber = e.subscriber.as_ref().map(|sub| read(s, e, sub));
    let publisher = e.publisher.as_ref().map(|p| {
        let name = ident::tokens(&p.function);
        let payload = ty(&s.types, &p.payload);
        let doc = format!(
            " Publishes to `{}`, the `write_stream` of event `{}`.",
            docs::text(&p.stream),
            docs::text(&e.name)
        );
        let (json, spec, event) = (raw(&p.spec_json), ident::tokens(&p.spec_const), &e.name);
        quote! {
            const #spec: &str = #json;
            #[doc = #doc]
            pub fn #name(broker: &SharedBroker) -> Result<Publisher<#payload>, Error> {
                publisher(broker, #spec, #event, &ProcessEnv)
            }
        }
    });
    quote!(#subscriber #publisher)
}

fn read(s: &Streams, e: &StreamEvent, sub: &SubscriberDef) -> TokenStream {
    let (runner, function) = (ident::tokens(&sub.runner), ident::tokens(&sub.function));
    let handler = ident::tokens(&sub.handler);
    let payload = ty(&s.types, &sub.payload);
    let (stream, name) = (docs::text(&sub.stream), docs::text(&e.name));
    let (output, publishes, write) = match (&sub.output, &e.publisher) {
        (Some((to, out)), Some(PublisherDef { spec_const, .. })) => {
            let spec = ident::tokens(spec_const);
            (
                ty(&s.types, out),
                format!(", its results published to `{}`", docs::text(to)),
                quote!(Some(#spec)),
            )
        }
        _ => (quote!(()), String::new(), quote!(None)),
    };
    let trait_doc =
        format!(" The handler of STREAM event `{name}`: it reads `{stream}`{publishes}.");
    let runner_doc = format!(
        " Runs `handler` over the messages of `{stream}` as event `{name}` (consumer group and settings from the manifest){publishes}; each message is acknowledged once handled."
    );
    let sub_doc = format!(" Subscribes to `{stream}` as event `{name}` does, without a handler.");
    let (json, spec, event) = (raw(&sub.spec_json), ident::tokens(&sub.spec_const), &e.name);
    quote! {
        const #spec: &str = #json;
        #[doc = #trait_doc]
        pub trait #handler: Handler<#payload, Output = #output> {}
        impl<H: Handler<#payload, Output = #output>> #handler for H {}

        #[doc = #runner_doc]
        pub fn #runner<H: #handler>(broker: &SharedBroker, handler: H) -> Result<Runner<#payload, H>, Error> {
            runner(broker, #spec, #write, #event, &ProcessEnv, handler)
        }

        #[doc = #sub_doc]
        pub fn #function(broker: &SharedBroker) -> Result<Subscriber<#payload>, Error> {
            subscriber(broker, #spec, #event, &ProcessEnv)
        }
    }
}

/// `text` as a raw string literal, with as many `#`s as it needs.
fn raw(text: &str) -> Literal {
    let mut hashes = 1;
    while text.contains(&format!("\"{}", "#".repeat(hashes))) {
        hashes += 1;
    }
    let h = "#".repeat(hashes);
    format!("r{h}\"{text}\"{h}")
        .parse()
        .unwrap_or_else(|_| Literal::string(text))
}
