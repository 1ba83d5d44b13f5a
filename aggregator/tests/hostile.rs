//! Hostile input against a running aggregator over real gRPC: malformed messages, wrong
//! lengths, infinity and off-curve points, unknown keys, future heights and floods of invalid
//! signatures all get typed refusals, and the server keeps serving valid attestations.

mod common;

use common::{Devnet, client, submit};
use proptest::prelude::*;
use surety_aggregator::Aggregator;
use surety_primitives::{Attestation, SecretKey};
use surety_proto::v1;
use tonic::Code;

const TYPED: [u32; 3] = [
    Code::InvalidArgument as u32,
    Code::FailedPrecondition as u32,
    Code::Unauthenticated as u32,
];

/// Applies `(field, position, byte, kind)` mutations: overwrite, truncate or extend a field.
fn mutate(mut a: v1::Attestation, mutations: &[(u8, u16, u8, u8)]) -> v1::Attestation {
    for &(field, position, byte, kind) in mutations {
        let statement = a.statement.get_or_insert_with(Default::default);
        let bytes = match field % 7 {
            0 => &mut a.public_key,
            1 => &mut a.signature,
            2 => &mut statement.block_hash,
            3 => &mut statement.parent_hash,
            4 => &mut statement.state_root,
            5 => {
                statement.block_number = u64::from(position);
                continue;
            }
            _ => {
                if kind % 4 == 0 {
                    a.statement = None;
                } else {
                    statement.rollup_id = u64::from(byte);
                }
                continue;
            }
        };
        let i = usize::from(position) % (bytes.len() + 1);
        match kind % 3 {
            0 if i < bytes.len() => bytes[i] ^= byte.max(1),
            1 => bytes.truncate(i),
            _ => bytes.push(byte),
        }
    }
    a
}

#[test]
fn hostile_input_gets_typed_refusals_and_the_server_keeps_serving() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let devnet = rt.block_on(Devnet::start());
    let dir = tempfile::tempdir().unwrap();
    let aggregator = rt
        .block_on(Aggregator::start(&devnet.config(dir.path())))
        .unwrap();
    let mut c = rt.block_on(client(aggregator.grpc_addr()));
    let chain = devnet.chain(3, "l2");
    let good = devnet.attest(0, &chain[0]);

    // Random mutations of a valid attestation: each is refused with a typed code (or, when the
    // mutation happens to be harmless, counted), never a failed call or a crash.
    proptest!(ProptestConfig::with_cases(200), |(mutations in prop::collection::vec(any::<(u8, u16, u8, u8)>(), 1..4))| {
        let wire = mutate(good.clone(), &mutations);
        // Tonic clients are cheap handles on one connection.
        let mut c = c.clone();
        let results = rt.block_on(submit(&mut c, vec![wire.clone()]));
        let r = &results[0];
        prop_assert!(
            r.status == i32::from(v1::Status::Accepted)
                || r.status == i32::from(v1::Status::Duplicate)
                || TYPED.contains(&r.code),
            "{r:?}"
        );
        match rt.block_on(c.submit_attestation(wire)) {
            Ok(_) => {}
            Err(status) => prop_assert!(TYPED.contains(&(status.code() as u32)), "{status:?}"),
        }
    });

    let single = |wire: v1::Attestation| {
        let mut c = c.clone();
        rt.block_on(async move {
            c.submit_attestation(wire)
                .await
                .map(|_| ())
                .map_err(|s| s.code())
        })
    };
    let mut infinity_key = vec![0u8; 96];
    infinity_key[0] = 0xc0;
    let mut infinity_signature = vec![0u8; 48];
    infinity_signature[0] = 0xc0;
    // x = 0 with the compression flag: not on either curve.
    let mut off_curve_key = vec![0u8; 96];
    off_curve_key[0] = 0x80;
    let mut off_curve_signature = vec![0u8; 48];
    off_curve_signature[0] = 0x80;
    let shapes = [
        v1::Attestation {
            public_key: infinity_key,
            ..good.clone()
        },
        v1::Attestation {
            public_key: off_curve_key,
            ..good.clone()
        },
        v1::Attestation {
            public_key: vec![1; 95],
            ..good.clone()
        },
        v1::Attestation {
            signature: infinity_signature,
            ..good.clone()
        },
        v1::Attestation {
            signature: off_curve_signature,
            ..good.clone()
        },
        v1::Attestation {
            signature: vec![1; 49],
            ..good.clone()
        },
        v1::Attestation {
            statement: None,
            ..good.clone()
        },
    ];
    for wire in shapes {
        assert_eq!(single(wire), Err(Code::InvalidArgument));
    }

    // A valid signature by a key the registry does not know.
    let stranger = SecretKey::from_ikm(&[99; 32]);
    let unknown: v1::Attestation = (&Attestation {
        statement: chain[0],
        public_key: stranger.public_key(),
        signature: stranger.sign(&chain[0].signing_root(&devnet.domain()).0),
    })
        .into();
    assert_eq!(single(unknown), Err(Code::Unauthenticated));

    // An unknown rollup, and a height too far above the certified head.
    let mut elsewhere = chain[0];
    elsewhere.rollup_id = 99;
    assert_eq!(
        single(devnet.attest(0, &elsewhere)),
        Err(Code::FailedPrecondition)
    );
    let mut future = chain[0];
    future.block_number = 100_001;
    assert_eq!(
        single(devnet.attest(0, &future)),
        Err(Code::FailedPrecondition)
    );

    // A flood: 1,023 well-formed signatures over the wrong messages and one honest one in a
    // single batch. Every forgery is refused; the honest one counts.
    let forged = devnet.attest(1, &chain[2]).signature;
    let mut flood: Vec<v1::Attestation> = (0..1_023)
        .map(|i| {
            let s = devnet.chain(3, &format!("flood {i}"))[1];
            v1::Attestation {
                signature: forged.clone(),
                ..devnet.attest(2, &s)
            }
        })
        .collect();
    flood.push(devnet.attest(3, &chain[1]));
    let results = rt.block_on(submit(&mut c, flood));
    assert!(
        results[..1_023]
            .iter()
            .all(|r| r.code == Code::Unauthenticated as u32)
    );
    assert_eq!(results[1_023].status, i32::from(v1::Status::Accepted));
    let too_many = vec![good.clone(); 1_025];
    let err = rt
        .block_on(c.submit_attestations(v1::AttestationBatch {
            attestations: too_many,
        }))
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);

    // Still serving.
    let results = rt.block_on(submit(&mut c, vec![devnet.attest(1, &chain[2])]));
    assert_eq!(results[0].status, i32::from(v1::Status::Accepted));
    rt.block_on(aggregator.stop());
}
