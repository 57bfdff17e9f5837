//! Delivery: writing report files (atomically) and sending them.

pub mod files;
