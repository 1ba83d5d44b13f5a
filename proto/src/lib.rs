//! Generated gRPC/protobuf types for Surety's operator → aggregator protocol
//! (`proto/surety/v1/attestation.proto`). Byte fields follow `docs/protocol.md`.

/// Version 1 of the protocol.
pub mod v1 {
    #![allow(unreachable_pub, clippy::all)]
    tonic::include_proto!("surety.v1");
}
