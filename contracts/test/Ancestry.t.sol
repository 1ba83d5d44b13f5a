// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {HeaderLib} from "../src/libraries/HeaderLib.sol";
import {Statement} from "../src/libraries/StatementLib.sol";
import {SuretyTestBase} from "./utils/SuretyTestBase.sol";
import {vm, bound} from "./utils/Vm.sol";

/// @dev Exposes the library to calldata-taking tests.
contract HeaderReader {
    function read(bytes calldata header) external pure returns (bool, bytes32, bytes32) {
        return HeaderLib.read(header);
    }
}

/// @notice A certificate covers its block's ancestors (`isFinalAncestor`), shown with real Prague
///         headers from Ethereum's own test fixtures (blocks 1–3 of one execution-spec-tests case,
///         provenance in the fixture).
contract AncestryTest is SuretyTestBase {
    event log_named_uint(string key, uint256 val);

    string internal constant CHAIN = "test/fixtures/header_chain.json";

    HeaderReader internal reader;
    bytes[] internal headers;
    bytes32[] internal hashes;
    bytes32[] internal roots;

    function setUp() public {
        _deploy();
        _addOperators(4, 32 ether);
        vm.roll(block.number + 1);
        reader = new HeaderReader();
        string memory json = vm.readFile(CHAIN);
        for (uint256 i = 0; i < 3; ++i) {
            string memory at = string.concat("[", vm.toString(i), "]");
            headers.push(vm.parseJsonBytes(json, string.concat(".headers", at)));
            hashes.push(vm.parseJsonBytes32(json, string.concat(".hashes", at)));
            roots.push(vm.parseJsonBytes32(json, string.concat(".stateRoots", at)));
        }
    }

    /// @dev Certifies fixture block `i + 1` (its real hash and root) above genesis.
    function _certifyFixture(uint256 i) internal returns (Statement memory s) {
        s = Statement({
            rollupId: rollupId,
            blockNumber: uint64(i + 1),
            blockHash: hashes[i],
            parentHash: GENESIS_HASH,
            stateRoot: roots[i]
        });
        verifier.submitCertificate(s, _proof(s, 0));
    }

    /// @dev Headers `from..=to` of the fixture chain.
    function _chain(uint256 from, uint256 to) internal view returns (bytes[] memory out) {
        out = new bytes[](to - from + 1);
        for (uint256 i = from; i <= to; ++i) {
            out[i - from] = headers[i];
        }
    }

    function test_read_realHeaders() public view {
        string memory json = vm.readFile(CHAIN);
        for (uint256 i = 0; i < 3; ++i) {
            (bool ok, bytes32 parent, bytes32 root) = reader.read(headers[i]);
            vm.assertTrue(ok, "shape");
            vm.assertEq(keccak256(headers[i]), hashes[i], "hash");
            vm.assertEq(
                parent,
                vm.parseJsonBytes32(json, string.concat(".parentHashes[", vm.toString(i), "]")),
                "parent"
            );
            vm.assertEq(root, roots[i], "state root");
        }
    }

    function test_certificateCoversEveryAncestor() public {
        _certifyFixture(2);
        for (uint256 i = 0; i < 3; ++i) {
            vm.assertTrue(
                verifier.isFinalAncestor(rollupId, uint64(i + 1), hashes[i], roots[i], _chain(i, 2)),
                string.concat("block ", vm.toString(i + 1))
            );
        }
        // Only block 3 itself is final without headers.
        vm.assertTrue(verifier.isFinal(rollupId, 3, hashes[2], roots[2]), "certified block");
        vm.assertFalse(verifier.isFinal(rollupId, 2, hashes[1], roots[1]), "ancestor by itself");
    }

    function test_wrongClaims_areNotFinal() public {
        _certifyFixture(2);
        bytes[] memory chain = _chain(0, 2);
        vm.assertFalse(verifier.isFinalAncestor(rollupId, 1, hashes[0], roots[1], chain), "other root");
        vm.assertFalse(verifier.isFinalAncestor(rollupId, 1, hashes[1], roots[0], chain), "other hash");
        vm.assertFalse(verifier.isFinalAncestor(rollupId, 2, hashes[0], roots[0], chain), "other height");
        vm.assertFalse(verifier.isFinalAncestor(rollupId + 1, 1, hashes[0], roots[0], chain), "other rollup");
        vm.assertFalse(
            verifier.isFinalAncestor(rollupId, 1, hashes[0], roots[0], new bytes[](0)), "no headers"
        );

        // A chain with a gap, out of order, or stopping short of the certified block proves nothing.
        bytes[] memory gap = new bytes[](2);
        (gap[0], gap[1]) = (headers[0], headers[2]);
        vm.assertFalse(verifier.isFinalAncestor(rollupId, 1, hashes[0], roots[0], gap), "gap");
        bytes[] memory swapped = _chain(0, 2);
        (swapped[1], swapped[2]) = (swapped[2], swapped[1]);
        vm.assertFalse(verifier.isFinalAncestor(rollupId, 1, hashes[0], roots[0], swapped), "order");
        vm.assertFalse(verifier.isFinalAncestor(rollupId, 1, hashes[0], roots[0], _chain(0, 1)), "short");
    }

    function test_faultyCertificate_coversNothing() public {
        Statement memory s = _certifyFixture(2);
        vm.assertTrue(verifier.isFinalAncestor(rollupId, 2, hashes[1], roots[1], _chain(1, 2)), "before");
        vm.prank(address(slasher));
        verifier.markFaulty(s);
        vm.assertFalse(verifier.isFinalAncestor(rollupId, 2, hashes[1], roots[1], _chain(1, 2)), "after");
    }

    /// @dev Any changed byte in any header breaks the proof; none makes the view revert.
    function testFuzz_tamperedHeader_isNotFinal(uint256 which, uint256 position, uint8 delta) public {
        _certifyFixture(2);
        bytes[] memory chain = _chain(0, 2);
        which = bound(which, 0, 2);
        position = bound(position, 0, chain[which].length - 1);
        delta = uint8(bound(delta, 1, 255));
        chain[which][position] = bytes1(uint8(chain[which][position]) ^ delta);
        vm.assertFalse(verifier.isFinalAncestor(rollupId, 1, hashes[0], roots[0], chain), "tampered");
    }

    /// @dev Arbitrary bytes never revert the reader, and never pass as a header of a certified chain.
    function testFuzz_arbitraryBytes(bytes calldata junk) public {
        _certifyFixture(0);
        reader.read(junk);
        bytes[] memory chain = new bytes[](1);
        chain[0] = junk;
        vm.assertFalse(verifier.isFinalAncestor(rollupId, 1, keccak256(junk), roots[0], chain), "junk");
    }

    function test_read_rejectsWrongShapes() public view {
        bytes memory header = headers[0];
        (bool ok,,) = reader.read(bytes.concat(header, hex"00"));
        vm.assertFalse(ok, "trailing byte");
        bytes memory short = new bytes(header.length - 1);
        for (uint256 i = 0; i < short.length; ++i) {
            short[i] = header[i];
        }
        (ok,,) = reader.read(short);
        vm.assertFalse(ok, "truncated");
        (ok,,) = reader.read(hex"c0");
        vm.assertFalse(ok, "empty list");
        (ok,,) = reader.read(hex"a0");
        vm.assertFalse(ok, "not a list");
    }

    /// @dev Gas of the view for 1, 2 and 3 headers (`forge test --match-test test_gas_isFinalAncestor -vv`),
    ///      as an app contract pays it, calldata copy included.
    function test_gas_isFinalAncestor() public {
        _certifyFixture(2);
        for (uint256 i = 3; i > 0; --i) {
            bytes[] memory chain = _chain(i - 1, 2);
            uint256 before = gasleft();
            bool final_ = verifier.isFinalAncestor(rollupId, uint64(i), hashes[i - 1], roots[i - 1], chain);
            uint256 used = before - gasleft();
            vm.assertTrue(final_, "final");
            emit log_named_uint(string.concat("isFinalAncestor, headers: ", vm.toString(chain.length)), used);
        }
    }
}
