//! The hand-written grammars before the nom rewrite, kept while the rewrite is checked
//! against them (see `differential`).
#![allow(dead_code)]

pub(crate) mod attribute_parse;
pub(crate) mod attribute_values;
pub(crate) mod checks;
#[cfg(test)]
mod differential;
pub(crate) mod fields;
pub(crate) mod lines;
