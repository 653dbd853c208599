//! See the module docs in main.rs.
