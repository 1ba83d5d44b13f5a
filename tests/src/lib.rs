//! End-to-end test harness for Surety (local anvil chains, real contracts, real gRPC).
