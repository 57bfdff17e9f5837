//! The CRM connectors (issue 5) against real HTTP servers (wiremock on
//! loopback) answering in each vendor's own shapes: pages recorded in
//! tests/fixtures/<vendor>/ for paging, throttling, server errors, refused
//! tokens, malformed pages and missing properties; and a canonical
//! snapshot served through each vendor's shapes, pulled back and compared
//! report for report with the `file` source.
//!
//! One test binary for all three, to link once.

#[path = "../common/mod.rs"]
mod common;
#[macro_use]
mod support;

mod doubles;
mod hubspot;
mod pipedrive;
mod roundtrip;
mod salesforce;
