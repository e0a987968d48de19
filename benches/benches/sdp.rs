//! Placeholder until this layer's bench lands.
fn main() {}
