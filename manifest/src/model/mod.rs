//! The hopeit.engine 0.30.1 app-config format as typed Rust.
//!
//! Field names, defaults and accepted values are hopeit's; where hopeit coerces values (pydantic's
//! lax mode) the model does too. appwire's own additions are marked as extensions in their docs:
//! hopeit ignores unknown keys, so a manifest that uses them still loads in hopeit.

mod app;
mod connection;
mod engine;
mod event;
mod extensions;
mod server;
mod settings;
mod streams;

pub use app::{AppConfig, AppDescriptor, Env, EnvValue};
pub use connection::{AppConnection, NO_CLIENT_CONFIGURED};
pub use engine::{AppEngineConfig, Compression, Serialization, normalize_track_headers};
pub use event::{
    EventConnection, EventConnectionType, EventDescriptor, EventPlugMode, EventType, QueueStrategy,
    ReadStreamDescriptor, WriteStreamDescriptor,
};
pub use extensions::{
    Balance, ConnectionExtensions, HmacSettings, RetryBudgetSettings, SecretString,
};
pub use server::{ApiConfig, AuthConfig, AuthType, LoggingConfig, ServerConfig, StreamsConfig};
pub use settings::{
    AuthStrategy, ConnectionSettings, EventLoggingConfig, EventSettings, EventStreamConfig,
    SettingsError,
};
pub use streams::{
    AUTO_QUEUE, EventStreams, GroupStart, ReadStream, StreamExtension, WriteStream, WriteTarget,
    stream_key, write_target,
};
