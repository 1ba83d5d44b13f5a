//! The Surety aggregator.
