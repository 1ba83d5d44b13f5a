// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS12381} from "../src/libraries/BLS12381.sol";
import {KeyRegistry} from "../src/KeyRegistry.sol";
import {BLSKeys} from "./utils/BLSKeys.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Byte equality with blst: the Rust generator (`cargo run -p surety-primitives --example
///         gen-fixtures`, fields in docs/crypto.md) writes hash-to-G1 outputs (RFC 9380 vectors and
///         random messages), keys, signatures, PoPs and aggregates; the Solidity side must agree.
contract BLSFixturesTest {
    string internal constant HASH_VECTORS = "test/fixtures/hash_to_g1.json";
    string internal constant BLS_VECTORS = "test/fixtures/bls_vectors.json";

    function _at(string memory list, uint256 i, string memory field) internal pure returns (string memory) {
        return string.concat(".", list, "[", vm.toString(i), "].", field);
    }

    function test_hashToG1_equalsBlst() public view {
        string memory json = vm.readFile(HASH_VECTORS);
        uint256 count = vm.parseJsonUint(json, ".count");
        vm.assertGe(count, 100, "at least 100 vectors");
        for (uint256 i; i < count; ++i) {
            bytes memory message = vm.parseJsonBytes(json, _at("vectors", i, "msg"));
            bytes memory dst = vm.parseJsonBytes(json, _at("vectors", i, "dst"));
            bytes memory expected = vm.parseJsonBytes(json, _at("vectors", i, "expected"));
            vm.assertEq(BLS12381.hashToG1(message, dst), expected, string.concat("vector ", vm.toString(i)));
        }
    }

    function test_keysSignaturesAndAggregates_verify() public view {
        string memory json = vm.readFile(BLS_VECTORS);
        vm.assertEq(vm.parseJsonBytes(json, ".sigDst"), BLSKeys.SIG_DST, "signature DST");
        bytes memory hm =
            BLS12381.hashToG1(abi.encodePacked(vm.parseJsonBytes32(json, ".signingRoot")), BLSKeys.SIG_DST);
        vm.assertEq(hm, vm.parseJsonBytes(json, ".messagePointEip2537"), "H(signing root)");

        bytes[] memory keys = new bytes[](4);
        for (uint256 i; i < keys.length; ++i) {
            keys[i] = vm.parseJsonBytes(json, _at("keys", i, "publicKeyEip2537"));
            uint256 sk = uint256(vm.parseJsonBytes32(json, _at("keys", i, "secretKey")));
            vm.assertEq(BLSKeys.publicKey(sk), keys[i], "pk = sk * G2 in EIP-2537 layout");
            vm.assertEq(keccak256(keys[i]), vm.parseJsonBytes32(json, _at("keys", i, "keyHash")), "keyHash");
        }
        for (uint256 i; i < 4; ++i) {
            bytes memory sig = vm.parseJsonBytes(json, _at("signatures", i, "signatureEip2537"));
            uint256 signer = vm.parseJsonUint(json, _at("signatures", i, "signer"));
            vm.assertTrue(BLS12381.verify(sig, keys[signer], hm), "blst signature verifies");
            vm.assertFalse(BLS12381.verify(sig, keys[(signer + 1) % 4], hm), "not under another key");
        }
        for (uint256 i; i < 3; ++i) {
            uint256[] memory signers = vm.parseJsonUintArray(json, _at("aggregates", i, "signers"));
            bytes memory apk = new bytes(256);
            for (uint256 j; j < signers.length; ++j) {
                apk = BLS12381.g2Add(apk, keys[signers[j]]);
            }
            vm.assertEq(
                apk, vm.parseJsonBytes(json, _at("aggregates", i, "publicKeyEip2537")), "aggregate key"
            );
            bytes memory sig = vm.parseJsonBytes(json, _at("aggregates", i, "signatureEip2537"));
            vm.assertTrue(BLS12381.verify(sig, apk, hm), "blst aggregate verifies");
        }
    }

    function test_proofsOfPossession_verify() public view {
        string memory json = vm.readFile(BLS_VECTORS);
        bytes memory popDst = vm.parseJsonBytes(json, ".popDst");
        vm.assertEq(popDst, BLSKeys.POP_DST, "PoP DST");
        for (uint256 i; i < 4; ++i) {
            uint256 keyIndex = vm.parseJsonUint(json, _at("pops", i, "key"));
            bytes memory pk = vm.parseJsonBytes(json, _at("keys", keyIndex, "publicKeyEip2537"));
            bytes32 message = keccak256(
                abi.encode(
                    keccak256("surety.pop.v1"),
                    vm.parseJsonAddress(json, _at("pops", i, "operator")),
                    vm.parseJsonUint(json, _at("pops", i, "chainId")),
                    vm.parseJsonAddress(json, _at("pops", i, "registry")),
                    keccak256(pk)
                )
            );
            vm.assertEq(message, vm.parseJsonBytes32(json, _at("pops", i, "message")), "PoP message");
            bytes memory hm = BLS12381.hashToG1(abi.encodePacked(message), popDst);
            vm.assertEq(hm, vm.parseJsonBytes(json, _at("pops", i, "messagePointEip2537")), "H_pop(message)");
            bytes memory pop = vm.parseJsonBytes(json, _at("pops", i, "popEip2537"));
            vm.assertTrue(BLS12381.verify(pop, pk, hm), "blst PoP verifies");
        }
    }
}
