//! Circulo's HTTP API: actix handlers, authentication, the conventions every endpoint shares and
//! the OpenAPI document generated from the same route table.

pub mod auth;
pub mod config;
pub mod error;
pub mod faults;
pub mod handlers;
pub mod http;
pub mod jobs;
pub mod middleware;
pub mod openapi;
pub mod secret;
pub mod server;
pub mod state;
pub mod webhooks;
pub mod write;

pub use config::{AuthSettings, Config};
pub use openapi::openapi;
pub use server::{Running, StartError, start};
