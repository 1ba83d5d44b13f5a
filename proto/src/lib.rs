//! Surety's operator → aggregator protocol: the gRPC/protobuf code generated from
//! `proto/surety/v1/attestation.proto`, and [`convert`], the one place its messages become
//! validated `surety-primitives` types. Byte fields follow `docs/protocol.md`.

pub mod convert;

pub use convert::ProtoError;

/// Version 1 of the protocol.
pub mod v1 {
    #![allow(unreachable_pub, clippy::all)]
    tonic::include_proto!("surety.v1");
}
