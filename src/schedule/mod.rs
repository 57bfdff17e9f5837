//! Scheduling: cron parsing and next fire times (the `serve` loop builds on it).

pub mod cron;
