//! One integration test binary (it links once): each module runs the real
//! `gbooks` binary against local fakes.

mod auth;
mod auth_keyring;
mod common;
mod oauth_fake;
mod search;
