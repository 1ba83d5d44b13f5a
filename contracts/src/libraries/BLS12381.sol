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
        _checkCoordinates(point, 2);
    }

    /// @notice As `checkG1`, for a G2 point.
    function checkG2(bytes memory point) internal pure {
        if (point.length != G2_LENGTH) revert InvalidLength(point.length);
        _checkCoordinates(point, 4);
    }

    function _checkCoordinates(bytes memory point, uint256 count) private pure {
        bool canonical = true;
        bool zero = true;
        assembly ("memory-safe") {
            let ptr := add(point, 0x20)
            for { let i := 0 } lt(i, count) { i := add(i, 1) } {
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

    /// @notice Whether every byte of `point` is zero (the EIP-2537 encoding of infinity).
    function isInfinity(bytes memory point) internal pure returns (bool zero) {
        zero = true;
        assembly ("memory-safe") {
            let ptr := add(point, 0x20)
            let end := add(ptr, mload(point))
            for {} lt(ptr, end) { ptr := add(ptr, 0x20) } { if mload(ptr) { zero := 0 } }
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
        out = new bytes(G2_LENGTH);
        assembly ("memory-safe") {
            let src := add(point, 0x20)
            let dst := add(out, 0x20)
            mcopy(dst, src, 0x80)
            let zero :=
                iszero(
                    or(
                        or(mload(add(src, 0x80)), mload(add(src, 0xa0))),
                        or(mload(add(src, 0xc0)), mload(add(src, 0xe0)))
                    )
                )
            if iszero(zero) {
                for { let off := 0x80 } lt(off, 0x100) { off := add(off, 0x40) } {
                    let hi := mload(add(src, off))
                    let lo := mload(add(src, add(off, 0x20)))
                    // (P_HI:P_LO) − (hi:lo); a canonical y < p never underflows the high word.
                    mstore(add(dst, add(off, 0x20)), sub(P_LO, lo))
                    mstore(add(dst, off), sub(sub(P_HI, hi), lt(P_LO, lo)))
                }
            }
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

    /// @notice `expand_message_xmd` with SHA-256 producing 128 bytes (two 64-byte field inputs),
    ///         returned as its four 32-byte blocks.
    function expandMessageXmd(bytes memory message, bytes memory dst)
        internal
        pure
        returns (bytes32 b1, bytes32 b2, bytes32 b3, bytes32 b4)
    {
        if (dst.length > 255) revert InvalidLength(dst.length);
        bytes memory dstPrime = abi.encodePacked(dst, uint8(dst.length));
        // msg_prime = Z_pad(64) ‖ msg ‖ I2OSP(128, 2) ‖ I2OSP(0, 1) ‖ DST_prime
        bytes32 b0 =
            sha256(abi.encodePacked(bytes32(0), bytes32(0), message, uint16(128), uint8(0), dstPrime));
        b1 = sha256(abi.encodePacked(b0, uint8(1), dstPrime));
        b2 = sha256(abi.encodePacked(b0 ^ b1, uint8(2), dstPrime));
        b3 = sha256(abi.encodePacked(b0 ^ b2, uint8(3), dstPrime));
        b4 = sha256(abi.encodePacked(b0 ^ b3, uint8(4), dstPrime));
    }

    /// @notice `hash_to_field` for count 2: each 64-byte block of the expanded message reduced mod p
    ///         with MODEXP (base^1 mod p), which yields the EIP-2537 64-byte field layout directly.
    function hashToField(bytes memory message, bytes memory dst)
        internal
        view
        returns (bytes memory u0, bytes memory u1)
    {
        (bytes32 b1, bytes32 b2, bytes32 b3, bytes32 b4) = expandMessageXmd(message, dst);
        u0 = _reduce(b1, b2);
        u1 = _reduce(b3, b4);
    }

    function _reduce(bytes32 hi, bytes32 lo) private view returns (bytes memory fe) {
        fe = new bytes(64);
        bool ok;
        assembly ("memory-safe") {
            // MODEXP input: len(base)=64, len(exp)=1, len(mod)=64, base, exp=1, mod=p (64 bytes).
            let input := mload(0x40)
            mstore(input, 0x40)
            mstore(add(input, 0x20), 0x01)
            mstore(add(input, 0x40), 0x40)
            mstore(add(input, 0x60), hi)
            mstore(add(input, 0x80), lo)
            mstore8(add(input, 0xa0), 0x01)
            mstore(add(input, 0xa1), P_HI)
            mstore(add(input, 0xc1), P_LO)
            ok := staticcall(MODEXP_GAS, 0x05, input, 0xe1, add(fe, 0x20), 0x40)
        }
        if (!ok) revert PrecompileFailed(MODEXP);
    }

    /// @notice RFC 9380 `hash_to_curve` into G1 with `dst` (random oracle variant).
    function hashToG1(bytes memory message, bytes memory dst) internal view returns (bytes memory) {
        (bytes memory u0, bytes memory u1) = hashToField(message, dst);
        return g1Add(mapFpToG1(u0), mapFpToG1(u1));
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
        if (hashedMessage.length != G1_LENGTH) revert InvalidLength(hashedMessage.length);
        input = new bytes(768);
        assembly ("memory-safe") {
            let dst := add(input, 0x20)
            mcopy(dst, add(signature, 0x20), 0x80)
            mstore(add(dst, 0x80), NEG_G2_X0_HI)
            mstore(add(dst, 0xa0), NEG_G2_X0_LO)
            mstore(add(dst, 0xc0), NEG_G2_X1_HI)
            mstore(add(dst, 0xe0), NEG_G2_X1_LO)
            mstore(add(dst, 0x100), NEG_G2_Y0_HI)
            mstore(add(dst, 0x120), NEG_G2_Y0_LO)
            mstore(add(dst, 0x140), NEG_G2_Y1_HI)
            mstore(add(dst, 0x160), NEG_G2_Y1_LO)
            mcopy(add(dst, 0x180), add(hashedMessage, 0x20), 0x80)
            mcopy(add(dst, 0x200), add(publicKey, 0x20), 0x100)
        }
    }
}
