//! Project automation, in the rust-analyzer style: `cargo xtask <task>`.
//!
//! * `ci`: everything CI checks: formatting, clippy with warnings denied, and the full test suite.
fn main() {}
