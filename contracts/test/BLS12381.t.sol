// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS12381} from "../src/libraries/BLS12381.sol";
import {BLSKeys} from "./utils/BLSKeys.sol";
import {vm} from "./utils/Vm.sol";

/// @dev External entry points so reverts of the internal library surface to `expectRevert`.
contract BLSHarness {
    function hashToG1(bytes calldata message, bytes calldata dst) external view returns (bytes memory) {
        return BLS12381.hashToG1(message, dst);
    }

    function verify(bytes calldata sig, bytes calldata pk, bytes calldata message)
        external
        view
        returns (bool)
    {
        return BLS12381.verify(sig, pk, BLS12381.hashToG1(message, BLSKeys.SIG_DST));
    }

    function checkG1(bytes calldata point) external pure {
        BLS12381.checkG1(point);
    }

    function checkG2(bytes calldata point) external pure {
        BLS12381.checkG2(point);
    }

    function g2Add(bytes calldata a, bytes calldata b) external view returns (bytes memory) {
        return BLS12381.g2Add(a, b);
    }

    function g1Add(bytes calldata a, bytes calldata b) external view returns (bytes memory) {
        return BLS12381.g1Add(a, b);
    }

    function mapFpToG1(bytes calldata fe) external view returns (bytes memory) {
        return BLS12381.mapFpToG1(fe);
    }

    function g2Negate(bytes calldata a) external pure returns (bytes memory) {
        return BLS12381.g2Negate(a);
    }
}

contract BLS12381Test {
    BLSHarness internal h;

    bytes internal constant RFC_DST = "QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_";

    function setUp() public {
        h = new BLSHarness();
    }

    function _uncompressed(bytes memory x48, bytes memory y48) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes16(0), x48, bytes16(0), y48);
    }

    /// RFC 9380 appendix J.9.1 vectors for BLS12381G1_XMD:SHA-256_SSWU_RO_.
    function test_hashToG1_rfc9380Vectors() public view {
        vm.assertEq(
            h.hashToG1("", RFC_DST),
            _uncompressed(
                hex"052926add2207b76ca4fa57a8734416c8dc95e24501772c814278700eed6d1e4e8cf62d9c09db0fac349612b759e79a1",
                hex"08ba738453bfed09cb546dbb0783dbb3a5f1f566ed67bb6be0e8c67e2e81a4cc68ee29813bb7994998f3eae0c9c6a265"
            ),
            "msg empty"
        );
        vm.assertEq(
            h.hashToG1("abc", RFC_DST),
            _uncompressed(
                hex"03567bc5ef9c690c2ab2ecdf6a96ef1c139cc0b2f284dca0a9a7943388a49a3aee664ba5379a7655d3c68900be2f6903",
                hex"0b9c15f3fe6e5cf4211f346271d7b01c8f3b28be689c8429c85b67af215533311f0b8dfaaa154fa6b88176c229f2885d"
            ),
            "msg abc"
        );
        vm.assertEq(
            h.hashToG1("abcdef0123456789", RFC_DST),
            _uncompressed(
                hex"11e0b079dea29a68f0383ee94fed1b940995272407e3bb916bbf268c263ddd57a6a27200a784cbc248e84f357ce82d98",
                hex"03a87ae2caf14e8ee52e51fa2ed8eefe80f02457004ba4d486d6aa1f517c0889501dc7413753f9599b099ebcbbd2d709"
            ),
            "msg abcdef0123456789"
        );
    }

    function testFuzz_signVerify(uint256 seed, bytes32 message) public view {
        uint256 sk = BLSKeys.secretKey(seed);
        bytes memory pk = BLSKeys.publicKey(sk);
        bytes memory sig = BLSKeys.sign(sk, message);
        vm.assertTrue(h.verify(sig, pk, abi.encodePacked(message)), "valid signature");
        vm.assertFalse(h.verify(sig, pk, abi.encodePacked(~message)), "other message");
        vm.assertFalse(
            h.verify(sig, BLSKeys.publicKey(BLSKeys.secretKey(~seed)), abi.encodePacked(message)), "other key"
        );
    }

    function test_verify_rejectsInfinity() public {
        bytes memory pk = BLSKeys.publicKey(7);
        vm.expectRevert(BLS12381.PointAtInfinity.selector);
        h.verify(new bytes(128), pk, "m");
        bytes memory sig = BLSKeys.sign(7, bytes32("m"));
        vm.expectRevert(BLS12381.PointAtInfinity.selector);
        h.verify(sig, new bytes(256), abi.encodePacked(bytes32("m")));
    }

    function test_verify_rejectsNonSubgroupKey() public {
        bytes memory sig = BLSKeys.sign(7, bytes32("m"));
        vm.expectRevert(abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, address(0x0f)));
        h.verify(sig, BLSKeys.G2_NON_SUBGROUP, abi.encodePacked(bytes32("m")));
    }

    function test_verify_rejectsNonSubgroupSignature() public {
        bytes memory pk = BLSKeys.publicKey(7);
        vm.expectRevert(abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, address(0x0f)));
        h.verify(BLSKeys.G1_NON_SUBGROUP, pk, abi.encodePacked(bytes32("m")));
    }

    function test_verify_rejectsOffCurveKey() public {
        bytes memory pk = BLSKeys.publicKey(7);
        pk[255] = pk[255] ^ 0x01;
        bytes memory sig = BLSKeys.sign(7, bytes32("m"));
        vm.expectRevert(abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, address(0x0f)));
        h.verify(sig, pk, abi.encodePacked(bytes32("m")));
    }

    function test_checkG2_rejectsNonCanonical() public {
        bytes memory pk = BLSKeys.publicKey(7);
        // x.c0 + p: same residue, non-canonical encoding.
        bytes memory bad = _atLeastP(pk, 0, 0);
        vm.expectRevert(BLS12381.NotCanonical.selector);
        h.checkG2(bad);
        // A non-zero byte in the 16-byte zero padding.
        bytes memory padded = bytes.concat(pk);
        padded[64] = 0x01;
        vm.expectRevert(BLS12381.NotCanonical.selector);
        h.checkG2(padded);
        vm.expectRevert(abi.encodeWithSelector(BLS12381.InvalidLength.selector, 255));
        h.checkG2(new bytes(255));
    }

    function testFuzz_g2Negate_addsToInfinity(uint256 seed) public view {
        bytes memory pk = BLSKeys.publicKey(BLSKeys.secretKey(seed));
        vm.assertEq(h.g2Add(pk, h.g2Negate(pk)), new bytes(256), "pk + (-pk) = 0");
        vm.assertEq(h.g2Negate(h.g2Negate(pk)), pk, "double negation");
    }

    function testFuzz_mapAndAdd_matchScalarMultiplication(bytes32 seed) public view {
        bytes memory fe = abi.encodePacked(bytes32(0), seed);
        fe[16] = 0; // keep below p: top 16 bytes zero, next byte zero
        bytes memory q = h.mapFpToG1(fe);
        vm.assertEq(h.g1Add(q, q), BLSKeys.mul(q, 2), "Q + Q = 2Q");
    }

    function test_wrappers_rejectBadInput() public {
        bytes memory fe = abi.encodePacked(bytes16(0), bytes16(uint128(BLS12381.P_HI)), BLS12381.P_LO);
        vm.expectRevert(abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, address(0x10)));
        h.mapFpToG1(fe); // p itself is not a canonical field element
        bytes memory offCurve = bytes.concat(BLSKeys.G1_NON_SUBGROUP);
        offCurve[127] = offCurve[127] ^ 0x01;
        vm.expectRevert(abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, address(0x0b)));
        h.g1Add(offCurve, new bytes(128));
        vm.expectRevert(abi.encodeWithSelector(BLS12381.InvalidLength.selector, 127));
        h.g1Add(new bytes(127), new bytes(128));
    }

    function testFuzz_checkG1_rejectsAnyCoordinateAtOrAboveP(uint256 extra, bool second) public {
        bytes memory sig = BLSKeys.sign(3, bytes32("m"));
        bytes memory bad = _atLeastP(sig, second ? 1 : 0, extra);
        vm.expectRevert(BLS12381.NotCanonical.selector);
        h.checkG1(bad);
    }

    /// @dev Sets the coordinate at `index` to p + extra: a value ≥ p whose high word stays below
    ///      2^128, so only the value, not the zero padding, is out of range.
    function _atLeastP(bytes memory point, uint256 index, uint256 extra)
        internal
        pure
        returns (bytes memory out)
    {
        out = bytes.concat(point);
        uint256 off = 32 + index * 64;
        uint256 hi = BLS12381.P_HI;
        uint256 lo;
        unchecked {
            lo = BLS12381.P_LO + extra;
            if (lo < extra) hi += 1;
        }
        assembly {
            mstore(add(out, off), hi)
            mstore(add(out, add(off, 32)), lo)
        }
    }
}
