#![recursion_limit = "512"]

//! Tollgate's server: configuration, the axum router (Leptos pages, server functions, static
//! files), sessions and the security middleware. `main.rs` only wires these together.

pub mod cli;
pub mod config;
pub mod rest;
pub mod router;
pub mod security;
pub mod serve;
pub mod session;
pub mod tls;

pub use router::{router, router_with};
