//! The Surety operator node.
