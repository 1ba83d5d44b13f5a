// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title BLS12381
/// @notice BLS12-381 on the EIP-2537 precompiles: typed wrappers, RFC 9380 hash-to-G1 and min-sig
///         verification (signatures in G1, public keys in G2).
/// @dev Points use the EIP-2537 layouts: Fp is 64 bytes big-endian with the top 16 bytes zero, G1 is
///      `x ‖ y` (128 bytes), G2 is `x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1` (256 bytes). All-zero is infinity.
///      Precompile traps this library guards against: a failing precompile burns every unit of gas it
///      was given (so each call forwards a fixed budget), G1ADD/G2ADD do no subgroup check (only the
///      pairing and MSM do), and the pairing treats infinity as the identity (so callers must reject
///      infinity keys and signatures explicitly, see `verify`).
library BLS12381 {
    error InvalidLength(uint256 length);
    error NotCanonical();
    error PointAtInfinity();
    /// @notice A precompile rejected its input (off-curve or non-subgroup point, bad encoding).
    error PrecompileFailed(address precompile);
    /// @notice A precompile failed while hashing to G1 (cannot happen with well-formed input).
    error HashToG1Failed();

    address internal constant MODEXP = address(0x05);
    address internal constant G1ADD = address(0x0b);
    address internal constant G2ADD = address(0x0d);
    address internal constant PAIRING = address(0x0f);
    address internal constant MAP_FP_TO_G1 = address(0x10);

    // Fixed precompile prices (EIP-2537, Prague), forwarded with a 2x margin so a rejected input
    // burns little gas.
    uint256 internal constant G1ADD_GAS = 750;
    uint256 internal constant G2ADD_GAS = 1_200;
    uint256 internal constant MAP_FP_TO_G1_GAS = 11_000;
    uint256 internal constant PAIRING_BASE_GAS = 37_700;
    uint256 internal constant PAIRING_PER_PAIR_GAS = 32_600;
    // MODEXP of a 64-byte base with exponent 1 costs the minimum (200 in Prague, 500 after EIP-7883).
    uint256 internal constant MODEXP_GAS = 2_000;

    uint256 internal constant G1_LENGTH = 128;
    uint256 internal constant G2_LENGTH = 256;

    /// @dev p split into the high 16 and low 32 bytes of its 48-byte big-endian form.
    uint256 internal constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 internal constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;

    /// @dev −G2 generator (y negated), words in EIP-2537 order.
    uint256 internal constant NEG_G2_X0_HI = 0x024aa2b2f08f0a91260805272dc51051;
    uint256 internal constant NEG_G2_X0_LO =
        0xc6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8;
    uint256 internal constant NEG_G2_X1_HI = 0x13e02b6052719f607dacd3a088274f65;
    uint256 internal constant NEG_G2_X1_LO =
        0x596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e;
    uint256 internal constant NEG_G2_Y0_HI = 0x0d1b3cc2c7027888be51d9ef691d77bc;
    uint256 internal constant NEG_G2_Y0_LO =
        0xb679afda66c73f17f9ee3837a55024f78c71363275a75d75d86bab79f74782aa;
    uint256 internal constant NEG_G2_Y1_HI = 0x13fa4d4a0ad8b1ce186ed5061789213d;
    uint256 internal constant NEG_G2_Y1_LO =
        0x993923066dddaf1040bc3ff59f825c78df74f2d75467e25e0f55f8a00fa030ed;

    // ---------------------------------------------------------------------------------------------
    // Encoding checks
    // ---------------------------------------------------------------------------------------------

    /// @notice Reverts unless `point` is a G1 point in canonical encoding (each coordinate < p, top
    ///         16 bytes zero) and not infinity. Curve and subgroup membership are left to the pairing.
    function checkG1(bytes memory point) internal pure {
        if (point.length != G1_LENGTH) revert InvalidLength(point.length);
        checkPointAt(_data(point), 2);
    }

    /// @notice As `checkG1`, for a G2 point.
    function checkG2(bytes memory point) internal pure {
        if (point.length != G2_LENGTH) revert InvalidLength(point.length);
        checkPointAt(_data(point), 4);
    }

    /// @notice `checkG1`/`checkG2` on `coordinates` 64-byte field elements at memory `ptr`.
    function checkPointAt(uint256 ptr, uint256 coordinates) internal pure {
        bool canonical = true;
        bool zero = true;
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, coordinates) { i := add(i, 1) } {
                let hi := mload(add(ptr, shl(6, i)))
                let lo := mload(add(ptr, add(shl(6, i), 0x20)))
                // hi < P_HI, or hi == P_HI and lo < P_LO; hi >= 2^128 fails the first test too.
                if iszero(or(lt(hi, P_HI), and(eq(hi, P_HI), lt(lo, P_LO)))) { canonical := 0 }
                if or(hi, lo) { zero := 0 }
            }
        }
        if (!canonical) revert NotCanonical();
        if (zero) revert PointAtInfinity();
    }

    /// @notice Whether the G2 point at memory `ptr` is infinity (all 256 bytes zero).
    function isInfinityG2At(uint256 ptr) internal pure returns (bool zero) {
        assembly ("memory-safe") {
            zero := iszero(
                or(
                    or(
                        or(mload(ptr), mload(add(ptr, 0x20))),
                        or(mload(add(ptr, 0x40)), mload(add(ptr, 0x60)))
                    ),
                    or(
                        or(mload(add(ptr, 0x80)), mload(add(ptr, 0xa0))),
                        or(mload(add(ptr, 0xc0)), mload(add(ptr, 0xe0)))
                    )
                )
            )
        }
    }

    function _data(bytes memory b) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := add(b, 0x20)
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Precompile wrappers
    // ---------------------------------------------------------------------------------------------

    /// @notice a + b in G1 (no subgroup check: only combine points that were checked elsewhere).
    function g1Add(bytes memory a, bytes memory b) internal view returns (bytes memory out) {
        if (a.length != G1_LENGTH) revert InvalidLength(a.length);
        if (b.length != G1_LENGTH) revert InvalidLength(b.length);
        out = new bytes(G1_LENGTH);
        bool ok;
        assembly ("memory-safe") {
            let input := mload(0x40)
            mcopy(input, add(a, 0x20), 0x80)
            mcopy(add(input, 0x80), add(b, 0x20), 0x80)
            ok := staticcall(G1ADD_GAS, 0x0b, input, 0x100, add(out, 0x20), 0x80)
        }
        if (!ok) revert PrecompileFailed(G1ADD);
    }

    /// @notice a + b in G2 (no subgroup check).
    function g2Add(bytes memory a, bytes memory b) internal view returns (bytes memory out) {
        if (a.length != G2_LENGTH) revert InvalidLength(a.length);
        if (b.length != G2_LENGTH) revert InvalidLength(b.length);
        out = new bytes(G2_LENGTH);
        bool ok;
        assembly ("memory-safe") {
            let input := mload(0x40)
            mcopy(input, add(a, 0x20), 0x100)
            mcopy(add(input, 0x100), add(b, 0x20), 0x100)
            ok := staticcall(G2ADD_GAS, 0x0d, input, 0x200, add(out, 0x20), 0x100)
        }
        if (!ok) revert PrecompileFailed(G2ADD);
    }

    /// @notice −point in G2 (y negated); infinity stays infinity.
    function g2Negate(bytes memory point) internal pure returns (bytes memory out) {
        if (point.length != G2_LENGTH) revert InvalidLength(point.length);
        out = bytes.concat(point);
        negateG2At(_data(out));
    }

    /// @notice Negates the G2 point at memory `ptr` in place: each y component c becomes p − c
    ///         (zero stays zero, so infinity stays infinity and the encoding stays canonical).
    function negateG2At(uint256 ptr) internal pure {
        assembly ("memory-safe") {
            for { let off := 0x80 } lt(off, 0x100) { off := add(off, 0x40) } {
                let hi := mload(add(ptr, off))
                let lo := mload(add(ptr, add(off, 0x20)))
                if or(hi, lo) {
                    // (P_HI:P_LO) − (hi:lo) with borrow; a canonical c < p never underflows.
                    mstore(add(ptr, add(off, 0x20)), sub(P_LO, lo))
                    mstore(add(ptr, off), sub(sub(P_HI, hi), lt(P_LO, lo)))
                }
            }
        }
    }

    /// @notice Writes −G2 generator (256 bytes) at memory `ptr`.
    function writeNegG2GeneratorAt(uint256 ptr) internal pure {
        assembly ("memory-safe") {
            mstore(ptr, NEG_G2_X0_HI)
            mstore(add(ptr, 0x20), NEG_G2_X0_LO)
            mstore(add(ptr, 0x40), NEG_G2_X1_HI)
            mstore(add(ptr, 0x60), NEG_G2_X1_LO)
            mstore(add(ptr, 0x80), NEG_G2_Y0_HI)
            mstore(add(ptr, 0xa0), NEG_G2_Y0_LO)
            mstore(add(ptr, 0xc0), NEG_G2_Y1_HI)
            mstore(add(ptr, 0xe0), NEG_G2_Y1_LO)
        }
    }

    /// @notice MAP_FP_TO_G1 (SSWU + isogeny + cofactor clearing) of one canonical field element.
    function mapFpToG1(bytes memory fe) internal view returns (bytes memory out) {
        if (fe.length != 64) revert InvalidLength(fe.length);
        out = new bytes(G1_LENGTH);
        bool ok;
        assembly ("memory-safe") {
            ok := staticcall(MAP_FP_TO_G1_GAS, 0x10, add(fe, 0x20), 0x40, add(out, 0x20), 0x80)
        }
        if (!ok) revert PrecompileFailed(MAP_FP_TO_G1);
    }

    /// @notice The pairing check Π e(g1_i, g2_i) == 1 over `input` = k × (G1 ‖ G2) (k ≥ 1). The
    ///         precompile checks every point is on its curve and in its subgroup.
    function pairing(bytes memory input) internal view returns (bool result) {
        uint256 len = input.length;
        if (len == 0 || len % 384 != 0) revert InvalidLength(len);
        uint256 gasLimit = PAIRING_BASE_GAS + PAIRING_PER_PAIR_GAS * (len / 384);
        bool ok;
        assembly ("memory-safe") {
            mstore(0x00, 0)
            ok := staticcall(gasLimit, 0x0f, add(input, 0x20), len, 0x00, 0x20)
            result := eq(mload(0x00), 1)
        }
        if (!ok) revert PrecompileFailed(PAIRING);
    }

    // ---------------------------------------------------------------------------------------------
    // Hash to curve (RFC 9380, BLS12381G1_XMD:SHA-256_SSWU_RO_)
    // ---------------------------------------------------------------------------------------------

    /// @notice RFC 9380 `hash_to_curve` into G1 (random oracle variant) with domain tag `dst`:
    ///         expand_message_xmd(SHA-256) to 128 bytes, each 64-byte half reduced mod p with MODEXP
    ///         (base^1 mod p, which yields the EIP-2537 field layout directly), two MAP_FP_TO_G1
    ///         (which also clear the cofactor) and one G1ADD.
    /// @dev One scratch region past the free memory pointer, no allocations but the result: this
    ///      runs on every certificate, so every copy counts.
    function hashToG1(bytes memory message, bytes memory dst) internal view returns (bytes memory out) {
        uint256 dstLen = dst.length;
        if (dstLen > 255) revert InvalidLength(dstLen);
        out = new bytes(G1_LENGTH);
        bool ok;
        assembly ("memory-safe") {
            let msgLen := mload(message)
            // bIn = x(32) ‖ i(1) ‖ DST ‖ len(DST): input of b_1..b_4 (at most 289 bytes).
            let bIn := mload(0x40)
            mcopy(add(bIn, 33), add(dst, 0x20), dstLen)
            mstore8(add(bIn, add(33, dstLen)), dstLen)
            let bInLen := add(34, dstLen)
            // a = Z_pad(64) ‖ msg ‖ I2OSP(128, 2) ‖ 0x00 ‖ DST ‖ len(DST): input of b_0.
            let a := add(bIn, 0x140)
            mstore(a, 0)
            mstore(add(a, 0x20), 0)
            mcopy(add(a, 0x40), add(message, 0x20), msgLen)
            let t := add(add(a, 0x40), msgLen)
            mstore(t, 0x0080000000000000000000000000000000000000000000000000000000000000)
            mcopy(add(t, 3), add(dst, 0x20), dstLen)
            mstore8(add(t, add(3, dstLen)), dstLen)
            ok := staticcall(gas(), 0x02, a, add(add(0x44, msgLen), dstLen), 0x00, 0x20)
            let b0 := mload(0x00)
            // b_1 = H(b_0 ‖ 1 ‖ DST'), b_i = H((b_0 xor b_{i-1}) ‖ i ‖ DST'); stored at a[0..128).
            let prev := 0
            for { let i := 1 } lt(i, 5) { i := add(i, 1) } {
                mstore(bIn, xor(b0, prev))
                mstore8(add(bIn, 32), i)
                ok := and(ok, staticcall(gas(), 0x02, bIn, bInLen, 0x00, 0x20))
                prev := mload(0x00)
                mstore(add(a, shl(5, sub(i, 1))), prev)
            }
            // MODEXP input: len(base)=64, len(exp)=1, len(mod)=64, base, exp=1, mod=p.
            let m := add(a, 0x80)
            mstore(m, 0x40)
            mstore(add(m, 0x20), 0x01)
            mstore(add(m, 0x40), 0x40)
            mstore(add(m, 0x60), mload(a))
            mstore(add(m, 0x80), mload(add(a, 0x20)))
            mstore8(add(m, 0xa0), 0x01)
            mstore(add(m, 0xa1), P_HI)
            mstore(add(m, 0xc1), P_LO)
            // g = Q0 ‖ Q1, the G1ADD input; each u_i is mapped in place.
            let g := add(m, 0x100)
            ok := and(ok, staticcall(MODEXP_GAS, 0x05, m, 0xe1, g, 0x40))
            ok := and(ok, staticcall(MAP_FP_TO_G1_GAS, 0x10, g, 0x40, g, 0x80))
            mstore(add(m, 0x60), mload(add(a, 0x40)))
            mstore(add(m, 0x80), mload(add(a, 0x60)))
            let g1 := add(g, 0x80)
            ok := and(ok, staticcall(MODEXP_GAS, 0x05, m, 0xe1, g1, 0x40))
            ok := and(ok, staticcall(MAP_FP_TO_G1_GAS, 0x10, g1, 0x40, g1, 0x80))
            ok := and(ok, staticcall(G1ADD_GAS, 0x0b, g, 0x100, add(out, 0x20), 0x80))
        }
        if (!ok) revert HashToG1Failed();
    }

    // ---------------------------------------------------------------------------------------------
    // Min-sig verification
    // ---------------------------------------------------------------------------------------------

    /// @notice e(signature, −g2) · e(hashedMessage, publicKey) == 1.
    /// @dev Rejects infinity signature and key (the pairing would treat them as the identity and
    ///      accept); non-canonical, off-curve and non-subgroup points make the precompile fail.
    function verify(bytes memory signature, bytes memory publicKey, bytes memory hashedMessage)
        internal
        view
        returns (bool)
    {
        checkG1(signature);
        checkG2(publicKey);
        return pairing(pairingInput(signature, publicKey, hashedMessage));
    }

    /// @notice The 768-byte pairing input `signature ‖ −g2 ‖ hashedMessage ‖ publicKey`.
    function pairingInput(bytes memory signature, bytes memory publicKey, bytes memory hashedMessage)
        internal
        pure
        returns (bytes memory input)
    {
        if (signature.length != G1_LENGTH) revert InvalidLength(signature.length);
        if (publicKey.length != G2_LENGTH) revert InvalidLength(publicKey.length);
        if (hashedMessage.length != G1_LENGTH) revert InvalidLength(hashedMessage.length);
        input = new bytes(768);
        uint256 dst = _data(input);
        assembly ("memory-safe") {
            mcopy(dst, add(signature, 0x20), 0x80)
            mcopy(add(dst, 0x180), add(hashedMessage, 0x20), 0x80)
            mcopy(add(dst, 0x200), add(publicKey, 0x20), 0x100)
        }
        writeNegG2GeneratorAt(dst + 0x80);
    }
}
