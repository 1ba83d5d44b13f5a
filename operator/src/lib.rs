//! The Surety operator node.

pub mod slashing_protection;
