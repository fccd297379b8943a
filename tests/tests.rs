//! One integration test binary (it links once): each module runs the real
//! `gbooks` binary against local fakes.

mod common;
mod isbn;
mod paging;
mod search;
