//! The generator's model of what to generate: plain data, no tokens.
//!
//! A manifest's app connections are grouped by target app (name and version as written):
//! each target app is one module with one type space, holding the types of its spec and a
//! client per connection to it. A client holds its connection's events; an event it reaches
//! is an HTTP call ([`EventKind`]).
//!
//! The manifest's own streams are one more scope, [`Streams`]: a publisher per `write_stream`
//! and a subscriber and handler runner per STREAM event, with the payload types of the
//! streams' schemas.
//!
//! Built by [`build`] from a manifest and specs; turned into tokens by [`crate::emit`].

mod build;
mod names;
mod streams;
mod types;

pub(crate) use build::build;

use appwire_manifest::EventConnectionType;

/// Everything generated from one manifest.
pub(crate) struct Model {
    /// The caller app, as written (its name and version may hold `${VAR}`s).
    pub(crate) caller: App,
    pub(crate) apps: Vec<TargetApp>,
    /// The manifest's own streams, when its events read or write any.
    pub(crate) streams: Option<Streams>,
}

/// The `streams` module: the payload types of the manifest's streams and the publishers,
/// subscribers and runners of its events.
pub(crate) struct Streams {
    /// The module's name.
    pub(crate) module: String,
    /// The payload types, from the streams' `appwire.schema`s, addressed by [`TypeId`].
    pub(crate) types: Vec<TypeDef>,
    /// The events that read or write a stream, in manifest order.
    pub(crate) events: Vec<StreamEvent>,
}

/// An event's stream functions.
pub(crate) struct StreamEvent {
    /// The event's name, as in the manifest.
    pub(crate) name: String,
    pub(crate) publisher: Option<PublisherDef>,
    pub(crate) subscriber: Option<SubscriberDef>,
}

/// The publisher of an event's `write_stream`.
pub(crate) struct PublisherDef {
    /// The function's name.
    pub(crate) function: String,
    /// The stream's name.
    pub(crate) stream: String,
    pub(crate) payload: Ty,
    /// The runtime's `WriteSpec`, as JSON, `${VAR}`s kept.
    pub(crate) spec_json: String,
    /// The name of the module's constant holding it.
    pub(crate) spec_const: String,
}

/// The subscriber and handler runner of a STREAM event's `read_stream`.
pub(crate) struct SubscriberDef {
    /// The runner function's name.
    pub(crate) runner: String,
    /// The subscriber function's name.
    pub(crate) function: String,
    /// The handler trait's name.
    pub(crate) handler: String,
    /// The stream's name.
    pub(crate) stream: String,
    pub(crate) payload: Ty,
    /// The runtime's `ReadSpec`, as JSON, `${VAR}`s kept.
    pub(crate) spec_json: String,
    /// The name of the module's constant holding it.
    pub(crate) spec_const: String,
    /// What the handler publishes: the event's `write_stream` (its name and payload), if any.
    pub(crate) output: Option<(String, Ty)>,
}

/// An app's name and version, as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct App {
    pub(crate) name: String,
    pub(crate) version: String,
}

/// A target app: one module holding its types and the clients of the connections to it.
pub(crate) struct TargetApp {
    /// The module's name.
    pub(crate) module: String,
    pub(crate) app: App,
    /// The spec's file name, when one was given.
    pub(crate) spec_file: Option<String>,
    /// The types of the spec, addressed by [`TypeId`], in the order they are first used.
    pub(crate) types: Vec<TypeDef>,
    /// The answer enums of events with declared statuses, addressed by [`AnswerId`].
    pub(crate) answers: Vec<AnswerEnum>,
    pub(crate) clients: Vec<ClientDef>,
}

/// A type of a target app's type space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TypeId(pub(crate) usize);

/// An answer enum of a target app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct AnswerId(pub(crate) usize);

/// One app connection: a client type.
pub(crate) struct ClientDef {
    /// The connection's key in the manifest.
    pub(crate) key: String,
    /// The client type's name.
    pub(crate) type_name: String,
    /// The target plugin's name and version, as written.
    pub(crate) plugin: Option<(String, String)>,
    /// The key of the connection's settings section.
    pub(crate) settings_key: String,
    /// The settings section as JSON, `${VAR}`s kept for the runtime to expand.
    pub(crate) settings_json: String,
    pub(crate) events: Vec<EventDef>,
}

/// One target event a client reaches.
pub(crate) struct EventDef {
    /// The target event's name, as in the manifest.
    pub(crate) name: String,
    /// The client method's name.
    pub(crate) method: String,
    /// The caller events that declare it.
    pub(crate) callers: Vec<String>,
    pub(crate) docs: Docs,
    pub(crate) kind: EventKind,
}

/// How an event is reached.
pub(crate) enum EventKind {
    /// An HTTP call.
    Call(HttpCall),
}

/// An HTTP call of a target event.
pub(crate) struct HttpCall {
    pub(crate) method: EventConnectionType,
    /// The default route (a `routes_override` in the settings may change it at run time).
    pub(crate) route: String,
    pub(crate) shape: CallShape,
}

/// What a call takes and returns.
pub(crate) enum CallShape {
    /// From the target's spec.
    Typed(TypedCall),
    /// No spec: the caller names the types.
    Untyped,
}

/// A call described by the target's spec.
#[derive(Clone)]
pub(crate) struct TypedCall {
    pub(crate) params: Vec<Param>,
    pub(crate) body: Option<Payload>,
    pub(crate) answer: Answer,
}

/// A query or header parameter.
#[derive(Clone)]
pub(crate) struct Param {
    /// Its name on the wire.
    pub(crate) wire: String,
    /// The method argument's name.
    pub(crate) ident: String,
    pub(crate) ty: Ty,
    pub(crate) required: bool,
    pub(crate) place: ParamPlace,
    pub(crate) description: Option<String>,
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamPlace {
    Query,
    Header,
}

/// A POST body.
#[derive(Clone)]
pub(crate) struct Payload {
    pub(crate) ty: Ty,
    /// A plain value, sent as `{"value": v}`.
    pub(crate) plain: bool,
}

/// What a call answers.
#[derive(Clone)]
pub(crate) enum Answer {
    /// Its 2xx response only.
    Plain(Returned),
    /// Its 2xx response or one of the statuses it declares.
    Declared(AnswerId),
}

/// A response body and how it decodes.
#[derive(Clone)]
pub(crate) struct Returned {
    pub(crate) ty: Ty,
    pub(crate) decode: Decode,
    pub(crate) description: String,
}

/// How a response body decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decode {
    /// JSON as the type.
    Json,
    /// A plain value: `{"<event>": v}`, or a `text/plain` body.
    Value,
    /// The raw bytes.
    Bytes,
}

/// The enum of an event's answers.
pub(crate) struct AnswerEnum {
    pub(crate) name: String,
    /// The target event.
    pub(crate) event: String,
    pub(crate) ok: Returned,
    pub(crate) alternatives: Vec<Alternative>,
}

/// A declared non-2xx response.
pub(crate) struct Alternative {
    pub(crate) status: u16,
    pub(crate) variant: String,
    pub(crate) returned: Returned,
}

/// A Rust type.
#[derive(Clone)]
pub(crate) enum Ty {
    /// A type of the target app's type space.
    Named(TypeId),
    /// A user type replacing a schema.
    Replaced(syn::Path),
    String,
    Integer,
    Number,
    Boolean,
    Bytes,
    /// Any JSON value.
    Json,
    /// No body.
    Unit,
    List(Box<Ty>),
    /// A map with string keys.
    Map(Box<Ty>),
    Option(Box<Ty>),
}

impl Ty {
    /// `Option<self>`; an optional type stays as it is.
    pub(crate) fn optional(self) -> Ty {
        match self {
            Ty::Option(_) => self,
            ty => Ty::Option(Box::new(ty)),
        }
    }
}

/// A named type of a spec.
pub(crate) struct TypeDef {
    pub(crate) name: String,
    /// The component's name in the spec, for a component.
    pub(crate) schema: Option<String>,
    pub(crate) docs: Docs,
    pub(crate) kind: TypeKind,
}

/// What a named type is.
pub(crate) enum TypeKind {
    Struct(Vec<Field>),
    /// A string enum.
    Enum(Vec<Variant>),
    /// Another name for a type.
    Alias(Ty),
}

/// A struct field.
pub(crate) struct Field {
    pub(crate) ident: String,
    /// Its name in JSON.
    pub(crate) wire: String,
    pub(crate) ty: Ty,
    /// Whether it may be absent: an `Option` left out when `None`.
    pub(crate) optional: bool,
    pub(crate) description: Option<String>,
}

/// A string enum's variant.
pub(crate) struct Variant {
    pub(crate) ident: String,
    /// Its string in JSON.
    pub(crate) wire: String,
}

/// Text from a spec: a summary (or title) and a description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Docs {
    pub(crate) summary: Option<String>,
    pub(crate) description: Option<String>,
}

impl Docs {
    /// Docs with `summary` and `description`, empty texts left out and a description that
    /// only repeats the summary dropped.
    pub(crate) fn new(summary: Option<&str>, description: Option<&str>) -> Self {
        let clean = |t: Option<&str>| {
            t.map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        let summary = clean(summary);
        let description = clean(description).filter(|d| Some(d) != summary.as_ref());
        Self {
            summary,
            description,
        }
    }
}
