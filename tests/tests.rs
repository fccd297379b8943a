//! One integration test binary (it links once): each module runs the real
//! `gbooks` binary against local fakes.

mod cache;
mod common;
mod daily;
mod errors;
mod search;
mod shelves;
mod show;
