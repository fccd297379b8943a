//! `--template`.
