//! One integration test binary (it links once): each module runs the real
//! `gbooks` binary against local fakes, and is named for the behaviour it
//! covers. `support` holds what they share.

mod support;

mod api_key;
mod auth;
mod auth_keyring;
mod batch_limits;
mod cache;
mod citations;
mod cite;
mod colour_and_quiet;
mod config;
mod covers;
mod errors;
mod hardening;
mod identify;
mod isbn;
mod layers;
mod login;
mod on_a_terminal;
mod open;
mod pager;
mod paging;
mod pipes_and_signals;
mod preconnect;
mod progress;
mod requests;
mod screenshot;
mod search;
mod secrets;
mod shell;
mod shelves;
mod show;
mod terminal_safety;
mod tls;
mod usage;
mod verified_isbn;
mod widths;
