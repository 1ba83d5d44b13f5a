// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Statement} from "../src/libraries/StatementLib.sol";
import {Mismatch} from "../src/libraries/MismatchLib.sol";
import {ISuretyFinality} from "../src/interfaces/ISuretyFinality.sol";
import {ExampleBridge} from "../src/examples/ExampleBridge.sol";
import {SuretyTestBase} from "./utils/SuretyTestBase.sol";
import {vm, bound} from "./utils/Vm.sol";

/// @dev Withdrawal trees as `ExampleBridge.verifyProof` reads them: sorted-pair keccak256 nodes, an
///      odd node out moves up a level unchanged.
abstract contract WithdrawalTrees {
    function _leaf(ExampleBridge.Withdrawal memory w) internal pure returns (bytes32) {
        return keccak256(abi.encode(w.nonce, w.recipient, w.amount));
    }

    function _hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encodePacked(a, b)) : keccak256(abi.encodePacked(b, a));
    }

    /// @dev The root of `ws` and the proof of `ws[index]`.
    function _tree(ExampleBridge.Withdrawal[] memory ws, uint256 index)
        internal
        pure
        returns (bytes32 root, bytes32[] memory proof)
    {
        bytes32[] memory level = new bytes32[](ws.length);
        for (uint256 i; i < ws.length; ++i) {
            level[i] = _leaf(ws[i]);
        }
        bytes32[] memory path = new bytes32[](32);
        uint256 depth;
        while (level.length > 1) {
            uint256 sibling = index ^ 1;
            if (sibling < level.length) path[depth++] = level[sibling];
            bytes32[] memory next = new bytes32[]((level.length + 1) / 2);
            for (uint256 i; i < next.length; ++i) {
                next[i] = 2 * i + 1 < level.length ? _hashPair(level[2 * i], level[2 * i + 1]) : level[2 * i];
            }
            level = next;
            index /= 2;
        }
        proof = new bytes32[](depth);
        for (uint256 i; i < depth; ++i) {
            proof[i] = path[i];
        }
        return (level[0], proof);
    }

    /// @dev `count` distinct withdrawals derived from `seed`, of 0.01–1 ether each.
    function _withdrawals(uint256 seed, uint256 count)
        internal
        pure
        returns (ExampleBridge.Withdrawal[] memory ws)
    {
        ws = new ExampleBridge.Withdrawal[](count);
        for (uint256 i; i < count; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            ws[i] = ExampleBridge.Withdrawal({
                nonce: seed * 1_000 + i,
                recipient: address(uint160(0x10000 + r % 1_000)),
                amount: 0.01 ether + r % 1 ether
            });
        }
    }
}

/// @notice The example bridge on a real verifier: it pays only on certified blocks, once per
///         withdrawal, stops while an alert halts the rollup and resumes when it clears.
contract ExampleBridgeTest is SuretyTestBase, WithdrawalTrees {
    ExampleBridge internal bridge;

    function setUp() public {
        _deploy();
        _addOperators(4, 32 ether);
        vm.roll(block.number + 1);
        bridge = new ExampleBridge(ISuretyFinality(address(verifier)), rollupId);
        vm.deal(address(bridge), 1_000 ether);
    }

    /// @dev Certifies block `height` on `parent` whose state root is `root`.
    function _certify(uint64 height, bytes32 parent, bytes32 root) internal returns (Statement memory s) {
        s = _statement(height, parent);
        s.stateRoot = root;
        verifier.submitCertificate(s, _proof(s, 0));
    }

    function _withdraw(ExampleBridge.Withdrawal memory w, Statement memory s, bytes32[] memory proof)
        internal
    {
        bridge.withdraw(w, s.blockNumber, s.blockHash, s.stateRoot, proof);
    }

    function _halt(uint64 height, bytes32 parent) internal returns (Mismatch memory m) {
        m = _mismatch(height, parent);
        verifier.raiseAlert(m, _alertProof(m, 0));
    }

    function test_withdraw_onACertifiedBlock_paysOnce() public {
        ExampleBridge.Withdrawal[] memory ws = _withdrawals(1, 5);
        (bytes32 root, bytes32[] memory proof) = _tree(ws, 3);
        Statement memory s = _certify(1, GENESIS_HASH, root);
        uint256 before = ws[3].recipient.balance;
        _withdraw(ws[3], s, proof);
        vm.assertEq(ws[3].recipient.balance, before + ws[3].amount, "paid");
        vm.assertTrue(bridge.released(_leaf(ws[3])), "released");
        vm.expectRevert(abi.encodeWithSelector(ExampleBridge.AlreadyReleased.selector, _leaf(ws[3])));
        _withdraw(ws[3], s, proof);
    }

    /// @dev A header with a header's first fields (and nothing after them): enough for
    ///      `isFinalAncestor`, which reads `parentHash` and `stateRoot` at fixed offsets.
    function _header(bytes32 parent, bytes32 root) internal pure returns (bytes memory) {
        return abi.encodePacked(hex"f878a0", parent, hex"a0", bytes32(0), hex"94", address(0), hex"a0", root);
    }

    function test_withdrawCovered_onABlockALaterCertificateCovers() public {
        ExampleBridge.Withdrawal[] memory ws = _withdrawals(7, 4);
        (bytes32 root, bytes32[] memory proof) = _tree(ws, 2);
        bytes[] memory headers = new bytes[](2);
        headers[0] = _header(GENESIS_HASH, root);
        headers[1] = _header(keccak256(headers[0]), keccak256("root 2"));
        Statement memory s = Statement({
            rollupId: rollupId,
            blockNumber: 2,
            blockHash: keccak256(headers[1]),
            parentHash: keccak256(headers[0]),
            stateRoot: keccak256("root 2")
        });
        verifier.submitCertificate(s, _proof(s, 0));

        // Block 1 is not certified itself, so `withdraw` refuses it; its headers prove it covered.
        bytes32 hash1 = keccak256(headers[0]);
        vm.expectRevert(abi.encodeWithSelector(ExampleBridge.NotFinal.selector, 1, hash1, root));
        bridge.withdraw(ws[2], 1, hash1, root, proof);
        uint256 before = ws[2].recipient.balance;
        bridge.withdrawCovered(ws[2], 1, hash1, root, headers, proof);
        vm.assertEq(ws[2].recipient.balance, before + ws[2].amount, "paid");
        vm.expectRevert(abi.encodeWithSelector(ExampleBridge.AlreadyReleased.selector, _leaf(ws[2])));
        bridge.withdrawCovered(ws[2], 1, hash1, root, headers, proof);

        // Headers that do not reach the certificate prove nothing.
        bytes[] memory short = new bytes[](1);
        short[0] = headers[0];
        (, bytes32[] memory otherProof) = _tree(ws, 1);
        vm.expectRevert(abi.encodeWithSelector(ExampleBridge.NotFinal.selector, 1, hash1, root));
        bridge.withdrawCovered(ws[1], 1, hash1, root, short, otherProof);
    }

    function test_withdraw_withoutACertificate_reverts() public {
        ExampleBridge.Withdrawal[] memory ws = _withdrawals(2, 2);
        (bytes32 root, bytes32[] memory proof) = _tree(ws, 0);
        Statement memory s = _statement(1, GENESIS_HASH);
        s.stateRoot = root;
        vm.expectRevert(abi.encodeWithSelector(ExampleBridge.NotFinal.selector, 1, s.blockHash, root));
        _withdraw(ws[0], s, proof);
        // Certified, but the withdrawal names another block hash.
        Statement memory certified = _certify(1, GENESIS_HASH, root);
        certified.blockHash = keccak256("another block");
        vm.expectRevert(abi.encodeWithSelector(ExampleBridge.NotFinal.selector, 1, certified.blockHash, root));
        _withdraw(ws[0], certified, proof);
    }

    function test_withdraw_onAFaultyCertificate_reverts() public {
        ExampleBridge.Withdrawal[] memory ws = _withdrawals(3, 2);
        (bytes32 root, bytes32[] memory proof) = _tree(ws, 1);
        Statement memory s = _certify(1, GENESIS_HASH, root);
        vm.prank(address(slasher));
        verifier.markFaulty(s);
        vm.expectRevert(abi.encodeWithSelector(ExampleBridge.NotFinal.selector, 1, s.blockHash, root));
        _withdraw(ws[1], s, proof);
    }

    function test_haltStopsTheBridge_clearResumesIt() public {
        ExampleBridge.Withdrawal[] memory ws = _withdrawals(4, 3);
        (bytes32 root, bytes32[] memory proof) = _tree(ws, 2);
        Statement memory s = _certify(1, GENESIS_HASH, root);
        // An alert above the withdrawal's block still stops everything: the rollup is in doubt.
        Mismatch memory m = _halt(2, s.blockHash);
        vm.assertTrue(bridge.halted(), "halted");
        vm.expectRevert(abi.encodeWithSelector(ExampleBridge.Halted.selector, rollupId));
        _withdraw(ws[2], s, proof);
        vm.expectRevert(abi.encodeWithSelector(ExampleBridge.Halted.selector, rollupId));
        bridge.deposit{value: 1 ether}(address(0xD));

        rootSource.settle(2, m.computedStateRoot);
        verifier.clearAlert(rollupId);
        vm.assertFalse(bridge.halted(), "resumed");
        _withdraw(ws[2], s, proof);
        vm.assertTrue(bridge.released(_leaf(ws[2])), "released after clear");
        bridge.deposit{value: 1 ether}(address(0xD));
    }

    function test_ownerPause_doesNotStopWithdrawals() public {
        ExampleBridge.Withdrawal[] memory ws = _withdrawals(5, 1);
        (bytes32 root, bytes32[] memory proof) = _tree(ws, 0);
        Statement memory s = _certify(1, GENESIS_HASH, root);
        verifier.setPaused(rollupId, true);
        vm.assertFalse(bridge.halted(), "a pause is not a halt");
        _withdraw(ws[0], s, proof);
        vm.assertTrue(bridge.released(_leaf(ws[0])), "released while paused");
    }

    function test_deposit_rejectsZero() public {
        vm.expectRevert(ExampleBridge.ZeroAmount.selector);
        bridge.deposit(address(0xD));
        vm.expectRevert(ExampleBridge.ZeroAddress.selector);
        bridge.deposit{value: 1}(address(0));
    }

    /// Any withdrawal of any tree pays exactly its amount to its recipient, once; any change to it
    /// or to its proof is refused.
    function testFuzz_withdraw_exactlyTheProvenWithdrawal(
        uint256 seed,
        uint256 count,
        uint256 index,
        uint8 tamper
    ) public {
        count = bound(count, 1, 16);
        index = bound(index, 0, count - 1);
        ExampleBridge.Withdrawal[] memory ws = _withdrawals(seed % 1e9, count);
        (bytes32 root, bytes32[] memory proof) = _tree(ws, index);
        Statement memory s = _certify(1, GENESIS_HASH, root);
        ExampleBridge.Withdrawal memory w = ws[index];
        ExampleBridge.Withdrawal memory forged =
            ExampleBridge.Withdrawal({nonce: w.nonce, recipient: w.recipient, amount: w.amount});
        uint256 which = tamper % 4;
        if (which == 0) forged.amount += 1 + tamper;
        else if (which == 1) forged.recipient = address(uint160(w.recipient) ^ (uint160(tamper) + 1));
        else if (which == 2) forged.nonce ^= uint256(tamper) + 1;
        else if (proof.length != 0) proof[tamper % proof.length] ^= bytes32(uint256(tamper) + 1);
        else forged.amount += 1;
        vm.expectRevert(ExampleBridge.InvalidProof.selector);
        _withdraw(forged, s, proof);

        (, proof) = _tree(ws, index);
        uint256 before = w.recipient.balance;
        uint256 held = address(bridge).balance;
        _withdraw(w, s, proof);
        vm.assertEq(w.recipient.balance, before + w.amount, "recipient paid");
        vm.assertEq(address(bridge).balance, held - w.amount, "bridge paid exactly");
        vm.expectRevert(abi.encodeWithSelector(ExampleBridge.AlreadyReleased.selector, _leaf(w)));
        _withdraw(w, s, proof);
    }

    /// Wherever the alert is, the bridge is stopped while it stands and open once it clears.
    function testFuzz_haltedWhateverTheAlertHeight(uint64 alertHeight, bool falseAlarm) public {
        alertHeight = uint64(bound(alertHeight, 1, 1_000));
        ExampleBridge.Withdrawal[] memory ws = _withdrawals(6, 2);
        (bytes32 root, bytes32[] memory proof) = _tree(ws, 0);
        Statement memory s = _certify(1, GENESIS_HASH, root);
        Mismatch memory m = _halt(alertHeight, keccak256("parent"));
        vm.expectRevert(abi.encodeWithSelector(ExampleBridge.Halted.selector, rollupId));
        _withdraw(ws[0], s, proof);
        rootSource.settle(alertHeight, falseAlarm ? m.claimedStateRoot : m.computedStateRoot);
        verifier.clearAlert(rollupId);
        _withdraw(ws[0], s, proof);
        vm.assertTrue(bridge.released(_leaf(ws[0])), "released");
    }
}
