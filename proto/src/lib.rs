//! Generated gRPC/protobuf types for Surety's operator → aggregator protocol.
