//! Generates the gRPC code with a vendored `protoc`, so a fresh machine needs no system install.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure().compile_with_config(
        config,
        &["surety/v1/attestation.proto"],
        &["."],
    )?;
    println!("cargo:rerun-if-changed=surety/v1/attestation.proto");
    Ok(())
}
