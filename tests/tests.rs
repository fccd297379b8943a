//! One integration test binary (it links once): each module runs the real
//! `gbooks` binary against local fakes.

mod auth;
mod auth_keyring;
mod cache;
mod common;
mod daily;
mod errors;
mod hardening;
mod isbn;
mod layers;
mod oauth_fake;
mod paging;
mod search;
mod shelves;
mod show;
mod tls;
