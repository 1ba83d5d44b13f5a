// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Statement} from "../src/libraries/StatementLib.sol";
import {Mismatch} from "../src/libraries/MismatchLib.sol";
import {CertificateVerifier, SignerProof} from "../src/CertificateVerifier.sol";
import {RollupStatus} from "../src/RollupRegistry.sol";
import {ISuretyFinality} from "../src/interfaces/ISuretyFinality.sol";
import {ExampleBridge} from "../src/examples/ExampleBridge.sol";
import {SuretyTestBase} from "./utils/SuretyTestBase.sol";
import {WithdrawalTrees} from "./ExampleBridge.t.sol";
import {vm, bound} from "./utils/Vm.sol";

/// @dev Drives certificates, alerts (any signer subset, any height near the head), clears with
///      true and false alarms, governance dismissals, cover purchases and bridge withdrawals, and
///      counts every breach of the circuit breaker's promises as it happens.
contract BreakerHandler is SuretyTestBase, WithdrawalTrees {
    uint256 internal constant N = 4;
    /// @dev Withdrawals in each certified block's tree.
    uint256 internal constant LEAVES = 3;
    address internal constant BUYER = address(0xB0B);

    struct Cert {
        Statement statement;
        uint256 seed;
    }

    ExampleBridge public bridge;
    Cert[] internal certs;
    uint256 internal nextSeed = 1;

    uint256 public certifiedWhileHalted;
    uint256 public alertBelowShare;
    uint256 public coverWhileHalted;
    uint256 public releasedWhileHalted;
    uint256 public releasedTwice;
    uint256 public releasedUnproven;
    uint256 public paidOut;
    uint256 public alertsRaised;
    uint256 public alertsCleared;
    uint256 public withdrawals;
    mapping(bytes32 withdrawalHash => bool) internal paid;

    constructor(World memory world, ExampleBridge bridge_) {
        _adopt(world);
        bridge = bridge_;
        for (uint256 i; i < N; ++i) {
            _addOperator(i + 1, (i + 1) * 10 ether);
        }
        vm.roll(block.number + 1);
        vm.deal(BUYER, 1_000 ether);
    }

    function certCount() external view returns (uint256) {
        return certs.length;
    }

    function _head() internal view returns (uint64 number, bytes32 hash) {
        CertificateVerifier.Head memory h = verifier.headOf(rollupId);
        if (h.blockNumber == 0) return (0, GENESIS_HASH);
        for (uint256 i = certs.length; i > 0; --i) {
            Statement memory s = certs[i - 1].statement;
            if (s.blockNumber == h.blockNumber && uint192(uint256(s.blockHash) >> 64) == h.blockHashPrefix) {
                return (h.blockNumber, s.blockHash);
            }
        }
        revert("head not certified by the handler");
    }

    // ---------------------------------------------------------------- actions

    /// Certifies the next block (or one a little further) whose state root is a withdrawal tree.
    function certify(uint256 mask, uint256 gap) external {
        vm.roll(block.number + 1);
        (uint64 head, bytes32 headHash) = _head();
        Statement memory s = _statement(head + uint64(bound(gap, 1, 3)), headHash);
        uint256 seed = nextSeed++;
        (s.stateRoot,) = _tree(_withdrawals(seed, LEAVES), 0);
        SignerProof memory p = _proof(s, bound(mask, 0, (1 << N) - 1));
        uint64 alertHeight = verifier.getRollup(rollupId).alertHeight;
        try verifier.submitCertificate(s, p) {
            if (alertHeight != 0 && s.blockNumber >= alertHeight) ++certifiedWhileHalted;
            certs.push(Cert(s, seed));
        } catch {}
    }

    /// Reporters in `mask`'s complement alert on a height around the head.
    function raise(uint256 mask, uint256 offset) external {
        vm.roll(block.number + 1);
        (uint64 head, bytes32 headHash) = _head();
        uint64 height = uint64(bound(offset, 0, 3)) + head;
        if (height == 0) height = 1;
        Mismatch memory m = _mismatch(height, headHash);
        mask = bound(mask, 0, (1 << N) - 1);
        SignerProof memory p = _alertProof(m, mask);
        uint256 total = registry.totalStakeAt(p.referenceBlock, p.totalStakeIndex);
        try verifier.raiseAlert(m, p) {
            ++alertsRaised;
            uint256 signed = verifier.alertOf(rollupId).signedStake;
            if (signed * 10_000 < total * verifier.alertThresholdBps()) ++alertBelowShare;
        } catch {}
    }

    /// The source settles the alerted height, on the reporters' root or (a false alarm) on the
    /// claimed one, and anyone clears.
    function clear(bool falseAlarm) external {
        CertificateVerifier.Alert memory a = verifier.alertOf(rollupId);
        if (a.blockNumber == 0) return;
        (bool settled,) = rootSource.canonicalStateRoot(a.blockNumber);
        if (!settled) {
            rootSource.settle(a.blockNumber, falseAlarm ? a.claimedStateRoot : keccak256("canonical"));
        }
        try verifier.clearAlert(rollupId) {
            ++alertsCleared;
        } catch {}
    }

    function dismiss() external {
        try verifier.dismissAlert(rollupId) {
            ++alertsCleared;
        } catch {}
    }

    function buyCover(uint256 certIndex, uint256 amount) external {
        if (certs.length == 0) return;
        Statement memory s = certs[bound(certIndex, 0, certs.length - 1)].statement;
        amount = bound(amount, 1, 1 ether);
        bool active = verifier.rollupStatus(rollupId) == RollupStatus.Active;
        uint256 premium = pool.premiumFor(amount);
        vm.prank(BUYER);
        try pool.buyCover{value: premium}(s, amount) {
            if (!active) ++coverWhileHalted;
        } catch {}
    }

    function withdraw(uint256 certIndex, uint256 leaf) external {
        if (certs.length == 0) return;
        Cert storage c = certs[bound(certIndex, 0, certs.length - 1)];
        ExampleBridge.Withdrawal[] memory ws = _withdrawals(c.seed, LEAVES);
        uint256 index = bound(leaf, 0, LEAVES - 1);
        (, bytes32[] memory proof) = _tree(ws, index);
        bool halted = bridge.halted();
        Statement memory s = c.statement;
        bool certified = verifier.isFinal(rollupId, s.blockNumber, s.blockHash, s.stateRoot);
        bytes32 hash = _leaf(ws[index]);
        try bridge.withdraw(ws[index], s.blockNumber, s.blockHash, s.stateRoot, proof) {
            ++withdrawals;
            if (halted) ++releasedWhileHalted;
            if (!certified) ++releasedUnproven;
            if (paid[hash]) ++releasedTwice;
            paid[hash] = true;
            paidOut += ws[index].amount;
        } catch {}
    }

    function passTime(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 1, 1 days));
        vm.roll(block.number + 1);
    }
}

/// @notice The circuit breaker's promises under random sequences: while an alert stands no
///         certificate at or above its height lands, no cover is sold and the example bridge pays
///         nothing; an alert needs its share of the stake; the bridge pays each proven withdrawal
///         once.
contract BreakerInvariantsTest is SuretyTestBase {
    uint256 internal constant BRIDGE_FUNDS = 1_000 ether;

    BreakerHandler internal handler;
    ExampleBridge internal bridge;

    function setUp() public {
        _deploy();
        bridge = new ExampleBridge(ISuretyFinality(address(verifier)), rollupId);
        vm.deal(address(bridge), BRIDGE_FUNDS);
        handler = new BreakerHandler(_world(), bridge);
        verifier.transferGovernance(address(handler));
        vm.prank(address(handler));
        verifier.acceptGovernance();
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// The handler's paths are live: certify, halt, refuse, clear, withdraw, dismiss.
    function test_handlerPathsSucceed() public {
        handler.certify(0, 1);
        handler.certify(0, 1);
        vm.assertEq(handler.certCount(), 2, "certified");
        handler.raise(0x1, 1); // operators 2–4: 90%
        vm.assertEq(handler.alertsRaised(), 1, "raised");
        handler.certify(0, 1);
        vm.assertEq(handler.certCount(), 2, "refused while halted");
        handler.withdraw(0, 0);
        vm.assertEq(handler.withdrawals(), 0, "bridge halted");
        handler.clear(false);
        vm.assertEq(handler.alertsCleared(), 1, "cleared");
        handler.withdraw(0, 0);
        vm.assertEq(handler.withdrawals(), 1, "bridge resumed");
        handler.buyCover(1, 0.1 ether);
        handler.raise(0, 2); // height 3 settled: height 4
        handler.dismiss();
        vm.assertEq(handler.alertsCleared(), 2, "dismissed");
        handler.raise(0x7, 2); // operator 4 alone: 40%
        vm.assertEq(handler.alertsRaised(), 3, "a 40% alert");
        handler.raise(0xE, 0); // operator 1 alone: 10%
        vm.assertEq(handler.alertsRaised(), 3, "a 10% alert is refused");
    }

    /// forge-config: default.invariant.runs = 64
    /// forge-config: default.invariant.depth = 32
    function invariant_breaker() public view {
        vm.assertEq(handler.certifiedWhileHalted(), 0, "certificate at or above a standing alert");
        vm.assertEq(handler.alertBelowShare(), 0, "alert below its share of stake");
        vm.assertEq(handler.coverWhileHalted(), 0, "cover sold while halted");
        vm.assertEq(handler.releasedWhileHalted(), 0, "bridge paid while halted");
        vm.assertEq(handler.releasedUnproven(), 0, "bridge paid on an uncertified block");
        vm.assertEq(handler.releasedTwice(), 0, "bridge paid a withdrawal twice");
        vm.assertEq(
            address(bridge).balance, BRIDGE_FUNDS - handler.paidOut(), "bridge paid other than proven"
        );
        // The status and the alert record agree.
        bool halted = verifier.rollupStatus(rollupId) == RollupStatus.Halted;
        vm.assertEq(halted, verifier.alertOf(rollupId).blockNumber != 0, "status matches the alert");
        vm.assertEq(halted, bridge.halted(), "bridge follows the status");
    }
}
