//! Valid inputs for every precompile live in Prague (0x01–0x11), drawn from a seeded RNG.
//!
//! Points are the curves' generators (and their negations, so that pairing checks succeed);
//! field elements and scalars are random. The point-evaluation input proves the zero polynomial
//! (commitment and proof at infinity), which is valid for any `z`.

use alloy::{
    primitives::{Address, B256, Bytes, U256, hex, uint},
    signers::SignerSync,
};

use crate::genesis::derive_key;
use rand::{Rng, RngCore, rngs::StdRng};

/// The precompiles exercised, in address order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precompile {
    EcRecover,
    Sha256,
    Ripemd160,
    Identity,
    ModExp,
    Bn254Add,
    Bn254Mul,
    Bn254Pairing,
    Blake2F,
    PointEvaluation,
    Bls12G1Add,
    Bls12G1Msm,
    Bls12G2Add,
    Bls12G2Msm,
    Bls12Pairing,
    Bls12MapFpToG1,
    Bls12MapFp2ToG2,
}

impl Precompile {
    /// All of them.
    pub const ALL: [Self; 17] = [
        Self::EcRecover,
        Self::Sha256,
        Self::Ripemd160,
        Self::Identity,
        Self::ModExp,
        Self::Bn254Add,
        Self::Bn254Mul,
        Self::Bn254Pairing,
        Self::Blake2F,
        Self::PointEvaluation,
        Self::Bls12G1Add,
        Self::Bls12G1Msm,
        Self::Bls12G2Add,
        Self::Bls12G2Msm,
        Self::Bls12Pairing,
        Self::Bls12MapFpToG1,
        Self::Bls12MapFp2ToG2,
    ];

    /// The precompile's address (0x01–0x11).
    pub fn address(self) -> Address {
        let index = Self::ALL
            .iter()
            .position(|p| *p == self)
            .unwrap_or_default() as u8
            + 1;
        Address::with_last_byte(index)
    }

    /// Gas that comfortably covers the inputs [`Precompile::input`] produces.
    pub fn gas(self) -> u64 {
        match self {
            Self::Bn254Pairing | Self::Bls12Pairing => 250_000,
            Self::Bls12G2Msm | Self::Bls12G1Msm | Self::Bls12MapFp2ToG2 => 120_000,
            Self::PointEvaluation => 80_000,
            _ => 60_000,
        }
    }

    /// A valid input.
    pub fn input(self, rng: &mut StdRng) -> Bytes {
        let mut out = Vec::new();
        match self {
            Self::EcRecover => {
                let signer = derive_key(rng.next_u64(), 0);
                let hash = random_b256(rng);
                out.extend_from_slice(hash.as_slice());
                match signer.sign_hash_sync(&hash) {
                    Ok(sig) => {
                        out.extend_from_slice(
                            &U256::from(27 + u8::from(sig.v())).to_be_bytes::<32>(),
                        );
                        out.extend_from_slice(&sig.r().to_be_bytes::<32>());
                        out.extend_from_slice(&sig.s().to_be_bytes::<32>());
                    }
                    // Signing a 32-byte hash with a valid key cannot fail; a garbage signature
                    // is still a valid input (ecrecover then returns nothing).
                    Err(_) => out.resize(128, 1),
                }
            }
            Self::Sha256 | Self::Ripemd160 | Self::Identity => out = random_bytes(rng, 1..300),
            Self::ModExp => {
                for _ in 0..3 {
                    out.extend_from_slice(&U256::from(32).to_be_bytes::<32>());
                }
                for _ in 0..3 {
                    out.extend_from_slice(random_b256(rng).as_slice());
                }
            }
            Self::Bn254Add => {
                bn_g1(&mut out, false);
                bn_g1(&mut out, rng.gen_bool(0.5));
            }
            Self::Bn254Mul => {
                bn_g1(&mut out, false);
                out.extend_from_slice(random_b256(rng).as_slice());
            }
            Self::Bn254Pairing => {
                // e(G1, G2) · e(−G1, G2) = 1
                bn_g1(&mut out, false);
                out.extend_from_slice(&BN_G2);
                bn_g1(&mut out, true);
                out.extend_from_slice(&BN_G2);
            }
            Self::Blake2F => {
                out.extend_from_slice(&rng.gen_range(0u32..=64).to_be_bytes());
                out.extend(random_bytes(rng, 208..209));
                out.push(u8::from(rng.gen_bool(0.5)));
            }
            Self::PointEvaluation => {
                out.extend_from_slice(&KZG_ZERO_VERSIONED_HASH);
                let mut z = random_b256(rng);
                z[0] &= 0x3f; // below the BLS12-381 scalar modulus
                out.extend_from_slice(z.as_slice());
                out.extend_from_slice(&[0; 32]);
                for _ in 0..2 {
                    out.push(0xc0);
                    out.extend_from_slice(&[0; 47]);
                }
            }
            Self::Bls12G1Add => {
                bls_g1(&mut out, false);
                bls_g1(&mut out, rng.gen_bool(0.5));
            }
            Self::Bls12G1Msm => {
                for negate in [false, true] {
                    bls_g1(&mut out, negate);
                    out.extend_from_slice(random_b256(rng).as_slice());
                }
            }
            Self::Bls12G2Add => {
                out.extend_from_slice(&BLS_G2);
                out.extend_from_slice(&BLS_G2);
            }
            Self::Bls12G2Msm => {
                out.extend_from_slice(&BLS_G2);
                out.extend_from_slice(random_b256(rng).as_slice());
            }
            Self::Bls12Pairing => {
                // e(G1, G2) · e(−G1, G2) = 1
                bls_g1(&mut out, false);
                out.extend_from_slice(&BLS_G2);
                bls_g1(&mut out, true);
                out.extend_from_slice(&BLS_G2);
            }
            Self::Bls12MapFpToG1 => bls_fp(&mut out, rng),
            Self::Bls12MapFp2ToG2 => {
                bls_fp(&mut out, rng);
                bls_fp(&mut out, rng);
            }
        }
        out.into()
    }
}

fn random_b256(rng: &mut StdRng) -> B256 {
    let mut b = B256::ZERO;
    rng.fill_bytes(b.as_mut_slice());
    b
}

fn random_bytes(rng: &mut StdRng, len: std::ops::Range<usize>) -> Vec<u8> {
    let mut v = vec![0; rng.gen_range(len)];
    rng.fill_bytes(&mut v);
    v
}

const BN_P: U256 =
    uint!(21888242871839275222246405745257275088696311157297823662689037894645226208583_U256);

/// The BN254 G1 generator (1, 2) or its negation (1, p − 2).
fn bn_g1(out: &mut Vec<u8>, negate: bool) {
    out.extend_from_slice(&U256::from(1).to_be_bytes::<32>());
    let y = if negate {
        BN_P - U256::from(2)
    } else {
        U256::from(2)
    };
    out.extend_from_slice(&y.to_be_bytes::<32>());
}

/// The BN254 G2 generator in EIP-197 order (x.im, x.re, y.im, y.re).
const BN_G2: [u8; 128] = hex!(
    "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"
    "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"
    "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"
    "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"
);

/// BLS12-381 G1 generator coordinates (48 bytes each) and −y.
const BLS_G1_X: [u8; 48] = hex!(
    "17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"
);
const BLS_G1_Y: [u8; 48] = hex!(
    "08b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1"
);
const BLS_G1_NEG_Y: [u8; 48] = hex!(
    "114d1d6855d545a8aa7d76c8cf2e21f267816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca"
);

/// The BLS12-381 G2 generator in EIP-2537 encoding (x.c0, x.c1, y.c0, y.c1; 64 bytes each).
const BLS_G2: [u8; 256] = hex!(
    "00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8"
    "0000000000000000000000000000000013e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e"
    "000000000000000000000000000000000ce5d527727d6e118cc9cdc6da2e351aadfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801"
    "000000000000000000000000000000000606c4a02ea734cc32acd2b02bc28b99cb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff05f79be"
);

/// `0x01 ‖ sha256(point at infinity)[1..]`: the versioned hash of the zero-polynomial commitment.
const KZG_ZERO_VERSIONED_HASH: [u8; 32] =
    hex!("010657f37554c781402a22917dee2f75def7ab966d7b770905398eba3c444014");

/// The BLS12-381 G1 generator or its negation, EIP-2537 encoded (128 bytes).
fn bls_g1(out: &mut Vec<u8>, negate: bool) {
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(&BLS_G1_X);
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(if negate { &BLS_G1_NEG_Y } else { &BLS_G1_Y });
}

/// A random base-field element below p (top byte ≤ 0x0f < 0x1a), EIP-2537 encoded (64 bytes).
fn bls_fp(out: &mut Vec<u8>, rng: &mut StdRng) {
    let mut fp = [0u8; 48];
    rng.fill_bytes(&mut fp);
    fp[0] &= 0x0f;
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(&fp);
}
