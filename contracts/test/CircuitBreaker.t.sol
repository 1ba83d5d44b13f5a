// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Mismatch, MismatchLib} from "../src/libraries/MismatchLib.sol";
import {Statement} from "../src/libraries/StatementLib.sol";
import {CertificateVerifier, SignerProof} from "../src/CertificateVerifier.sol";
import {CompensationPool} from "../src/CompensationPool.sol";
import {RollupRegistry, RollupStatus} from "../src/RollupRegistry.sol";
import {SuretyTestBase} from "./utils/SuretyTestBase.sol";
import {vm, bound} from "./utils/Vm.sol";

/// @notice The circuit breaker: alerts from mismatch reports halt a rollup (no certificates at or
///         above the height, no cover) until the source settles the height or governance dismisses.
contract CircuitBreakerTest is SuretyTestBase {
    uint256 internal constant STAKE = 32 ether;
    address internal constant BUYER = address(0xB0B);

    event AlertRaised(
        uint64 indexed rollupId,
        uint64 indexed blockNumber,
        bytes32 blockHash,
        bytes32 claimedStateRoot,
        bytes32 computedStateRoot,
        uint32 referenceBlock,
        uint256 signedStake,
        uint256 totalStake
    );
    event AlertCleared(
        uint64 indexed rollupId, uint64 indexed blockNumber, bytes32 settledStateRoot, bool confirmed
    );
    event AlertDismissed(uint64 indexed rollupId, uint64 indexed blockNumber);

    function setUp() public {
        _deploy();
        _addOperators(4, STAKE);
        vm.roll(block.number + 1);
        vm.deal(BUYER, 100 ether);
    }

    /// @dev Certifies heights 1..n on the canonical chain; returns the last statement.
    function _certify(uint64 n) internal returns (Statement memory s) {
        bytes32 parent = GENESIS_HASH;
        for (uint64 h = 1; h <= n; ++h) {
            s = _statement(h, parent);
            verifier.submitCertificate(s, _proof(s, 0));
            parent = s.blockHash;
        }
    }

    /// @dev Raises an alert on `_mismatch(height, parent)` signed by all but `nonSignerMask`.
    function _raise(uint64 height, bytes32 parent, uint256 nonSignerMask)
        internal
        returns (Mismatch memory m)
    {
        m = _mismatch(height, parent);
        verifier.raiseAlert(m, _alertProof(m, nonSignerMask));
    }

    function test_mismatchTagIsKeccakOfItsName() public pure {
        vm.assertEq(MismatchLib.MISMATCH_TAG, keccak256("surety.mismatch.v1"), "MISMATCH_TAG");
    }

    function test_mismatchRoot_layout() public view {
        Mismatch memory m = _mismatch(3, GENESIS_HASH);
        vm.assertEq(
            verifier.mismatchRoot(m),
            keccak256(
                abi.encode(
                    keccak256("surety.mismatch.v1"),
                    block.chainid,
                    address(verifier),
                    m.rollupId,
                    m.blockNumber,
                    m.blockHash,
                    m.parentHash,
                    m.claimedStateRoot,
                    m.computedStateRoot
                )
            ),
            "report root"
        );
    }

    function test_raise_halfTheStake_haltsTheRollup() public {
        Statement memory s1 = _certify(1);
        vm.assertEq(uint256(verifier.rollupStatus(rollupId)), uint256(RollupStatus.Active), "active");
        Mismatch memory m = _mismatch(2, s1.blockHash);
        SignerProof memory p = _alertProof(m, 0x3); // operators 2 and 3: 50%
        vm.expectEmit();
        emit AlertRaised(
            rollupId,
            2,
            m.blockHash,
            m.claimedStateRoot,
            m.computedStateRoot,
            p.referenceBlock,
            2 * STAKE,
            4 * STAKE
        );
        verifier.raiseAlert(m, p);
        vm.assertEq(uint256(verifier.rollupStatus(rollupId)), uint256(RollupStatus.Halted), "halted");
        CertificateVerifier.Alert memory a = verifier.alertOf(rollupId);
        vm.assertEq(a.blockNumber, 2, "height");
        vm.assertEq(a.claimedStateRoot, m.claimedStateRoot, "claimed root");
        vm.assertEq(a.signedStake, 2 * STAKE, "stake");
        vm.assertEq(a.raisedAt, block.timestamp, "raised at");
        vm.assertEq(verifier.getRollup(rollupId).alertHeight, 2, "rollup slot");
    }

    function test_raise_belowTheAlertShare_reverts() public {
        Mismatch memory m = _mismatch(1, GENESIS_HASH);
        SignerProof memory p = _alertProof(m, 0x7); // one of four: 25% < 33.33%
        vm.expectRevert(
            abi.encodeWithSelector(CertificateVerifier.BelowAlertThreshold.selector, STAKE, 4 * STAKE, 3_333)
        );
        verifier.raiseAlert(m, p);
        vm.assertEq(uint256(verifier.rollupStatus(rollupId)), uint256(RollupStatus.Active), "active");
    }

    /// The share is of stake, not heads, and inclusive: 3,333 of 10,000 suffices at 3,333 bps.
    function test_raise_exactlyAtTheShare_stakeWeighted() public {
        _deploy();
        delete operators;
        delete secretKeys;
        delete publicKeys;
        _addOperator(1, 3_333 ether);
        _addOperator(2, 6_667 ether);
        vm.roll(block.number + 1);
        Mismatch memory m = _mismatch(1, GENESIS_HASH);
        SignerProof memory p = _alertProof(m, 0x2);
        verifier.setAlertThreshold(3_334);
        vm.expectRevert(
            abi.encodeWithSelector(
                CertificateVerifier.BelowAlertThreshold.selector, 3_333 ether, 10_000 ether, 3_334
            )
        );
        verifier.raiseAlert(m, p);
        verifier.setAlertThreshold(3_333);
        verifier.raiseAlert(m, p);
        vm.assertEq(uint256(verifier.rollupStatus(rollupId)), uint256(RollupStatus.Halted), "halted");
    }

    function test_certificatesAtOrAboveTheAlert_refused_belowAccepted() public {
        Statement memory s1 = _certify(1);
        Statement memory s2 = _statement(2, s1.blockHash);
        Statement memory s3 = _statement(3, s2.blockHash);
        _raise(3, s2.blockHash, 0x1);
        // Below the alert: still certifiable.
        verifier.submitCertificate(s2, _proof(s2, 0));
        vm.assertTrue(verifier.isFinal(rollupId, 2, s2.blockHash, s2.stateRoot), "below the alert");
        // At it and above it (across a gap too): refused before any signature is checked.
        SignerProof memory p3 = _proof(s3, 0);
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.RollupHalted.selector, rollupId, 3));
        verifier.submitCertificate(s3, p3);
        Statement memory s5 = _statement(5, keccak256("block 4"));
        SignerProof memory p5 = _proof(s5, 0);
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.RollupHalted.selector, rollupId, 3));
        verifier.submitCertificate(s5, p5);
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.RollupHalted.selector, rollupId, 3));
        verifier.checkPlacement(s3);
    }

    /// A recorded certificate at or above the alerted height is not reinstated as head while halted.
    function test_reinstatingAtTheAlert_refused() public {
        Statement memory s3 = _certify(3);
        Statement memory s2 = _statement(2, _certify1Hash());
        // A faulty head falls back to genesis.
        vm.prank(address(slasher));
        verifier.markFaulty(s3);
        _raise(2, s2.parentHash, 0);
        SignerProof memory none;
        verifier.submitCertificate(s2, none);
        vm.assertEq(verifier.latestCertifiedBlock(rollupId), 0, "not reinstated at the alert");
        verifier.submitCertificate(_statement(1, GENESIS_HASH), none);
        vm.assertEq(verifier.latestCertifiedBlock(rollupId), 1, "reinstated below it");
    }

    function _certify1Hash() internal view returns (bytes32) {
        return _statement(1, GENESIS_HASH).blockHash;
    }

    /// A statement signature never raises an alert, and a report signature never certifies, even
    /// when every field they share is equal.
    function test_domainSeparation_statementVsReport() public {
        Mismatch memory m = _mismatch(1, GENESIS_HASH);
        Statement memory claimed = Statement({
            rollupId: m.rollupId,
            blockNumber: m.blockNumber,
            blockHash: m.blockHash,
            parentHash: m.parentHash,
            stateRoot: m.claimedStateRoot
        });
        Statement memory computed = Statement({
            rollupId: m.rollupId,
            blockNumber: m.blockNumber,
            blockHash: m.blockHash,
            parentHash: m.parentHash,
            stateRoot: m.computedStateRoot
        });
        SignerProof memory statementProof = _proof(claimed, 0);
        vm.expectRevert(CertificateVerifier.InvalidSignature.selector);
        verifier.raiseAlert(m, statementProof);
        statementProof = _proof(computed, 0);
        vm.expectRevert(CertificateVerifier.InvalidSignature.selector);
        verifier.raiseAlert(m, statementProof);

        SignerProof memory reportProof = _alertProof(m, 0);
        vm.expectRevert(CertificateVerifier.InvalidSignature.selector);
        verifier.submitCertificate(computed, reportProof);
        vm.expectRevert(CertificateVerifier.InvalidSignature.selector);
        verifier.submitCertificate(claimed, reportProof);
        vm.assertTrue(verifier.mismatchRoot(m) != verifier.signingRoot(claimed), "roots differ");
    }

    function test_noCoverWhileHalted_soldAfterClear() public {
        Statement memory s1 = _certify(1);
        uint256 premium = pool.premiumFor(0.5 ether);
        Mismatch memory m = _raise(2, s1.blockHash, 0);
        // Also on certificates below the alert: the whole rollup is in doubt.
        vm.prank(BUYER);
        vm.expectRevert(
            abi.encodeWithSelector(CompensationPool.CoverSuspended.selector, verifier.certificateId(s1))
        );
        pool.buyCover{value: premium}(s1, 0.5 ether);
        rootSource.settle(2, m.computedStateRoot);
        verifier.clearAlert(rollupId);
        vm.prank(BUYER);
        pool.buyCover{value: premium}(s1, 0.5 ether);
        vm.assertEq(pool.totalCover(verifier.certificateId(s1)), 0.5 ether, "cover sold after clear");
    }

    function test_clear_whenSettledOnAnotherRoot_confirmsAndResumes() public {
        Statement memory s1 = _certify(1);
        Mismatch memory m = _raise(2, s1.blockHash, 0);
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.HeightNotSettled.selector, rollupId, 2));
        verifier.clearAlert(rollupId);
        rootSource.settle(2, m.computedStateRoot);
        vm.expectEmit();
        emit AlertCleared(rollupId, 2, m.computedStateRoot, true);
        vm.prank(address(0xA11CE)); // anyone
        verifier.clearAlert(rollupId);
        vm.assertEq(uint256(verifier.rollupStatus(rollupId)), uint256(RollupStatus.Active), "active");
        vm.assertEq(verifier.alertOf(rollupId).blockNumber, 0, "alert gone");
        // The canonical block at the height certifies again.
        Statement memory canonical = _statement(2, s1.blockHash);
        canonical.stateRoot = m.computedStateRoot;
        verifier.submitCertificate(canonical, _proof(canonical, 0));
        vm.assertEq(verifier.latestCertifiedBlock(rollupId), 2, "resumed");
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.NoAlert.selector, rollupId));
        verifier.clearAlert(rollupId);
    }

    function test_clear_whenSettledOnTheClaimedRoot_reportsAFalseAlarm() public {
        Mismatch memory m = _raise(1, GENESIS_HASH, 0);
        rootSource.settle(1, m.claimedStateRoot);
        vm.expectEmit();
        emit AlertCleared(rollupId, 1, m.claimedStateRoot, false);
        verifier.clearAlert(rollupId);
        vm.assertEq(uint256(verifier.rollupStatus(rollupId)), uint256(RollupStatus.Active), "active");
        // The settled height cannot be alerted again.
        SignerProof memory p = _alertProof(m, 0);
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.HeightSettled.selector, rollupId, 1));
        verifier.raiseAlert(m, p);
    }

    function test_governance_dismissesAlerts_othersCannot() public {
        _raise(1, GENESIS_HASH, 0);
        vm.prank(address(0xBAD));
        vm.expectRevert(RollupRegistry.Unauthorized.selector);
        verifier.dismissAlert(rollupId);
        verifier.transferGovernance(address(0x60B));
        vm.expectRevert(RollupRegistry.Unauthorized.selector);
        verifier.acceptGovernance();
        vm.prank(address(0x60B));
        verifier.acceptGovernance();
        vm.assertEq(verifier.governance(), address(0x60B), "moved");
        // Not the rollup's owner either: it could otherwise silence alerts on its own rollup.
        vm.assertEq(verifier.getRollup(rollupId).owner, address(this), "this test owns the rollup");
        vm.expectRevert(RollupRegistry.Unauthorized.selector);
        verifier.dismissAlert(rollupId);
        vm.expectEmit();
        emit AlertDismissed(rollupId, 1);
        vm.prank(address(0x60B));
        verifier.dismissAlert(rollupId);
        vm.assertEq(uint256(verifier.rollupStatus(rollupId)), uint256(RollupStatus.Active), "active");
        vm.prank(address(0x60B));
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.NoAlert.selector, rollupId));
        verifier.dismissAlert(rollupId);
    }

    function test_alertThreshold_boundsAndGovernanceOnly() public {
        vm.assertEq(verifier.alertThresholdBps(), 3_333, "default a third");
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.InvalidAlertThreshold.selector, 999));
        verifier.setAlertThreshold(999);
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.InvalidAlertThreshold.selector, 5_001));
        verifier.setAlertThreshold(5_001);
        verifier.setAlertThreshold(1_000);
        verifier.setAlertThreshold(5_000);
        vm.assertEq(verifier.alertThresholdBps(), 5_000, "set");
        vm.prank(address(0xBAD));
        vm.expectRevert(RollupRegistry.Unauthorized.selector);
        verifier.setAlertThreshold(2_000);
    }

    function test_lowerAlertReplaces_sameOrHigherRefused() public {
        Statement memory s1 = _certify(1);
        Statement memory s2 = _statement(2, s1.blockHash);
        Statement memory s3 = _statement(3, s2.blockHash);
        _raise(3, s2.blockHash, 0);
        Mismatch memory again = _mismatch(3, s2.blockHash);
        again.computedStateRoot = keccak256("another computed root");
        SignerProof memory p = _alertProof(again, 0);
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.AlertStanding.selector, rollupId, 3));
        verifier.raiseAlert(again, p);
        Mismatch memory higher = _mismatch(4, s3.blockHash);
        p = _alertProof(higher, 0);
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.AlertStanding.selector, rollupId, 3));
        verifier.raiseAlert(higher, p);
        Mismatch memory lower = _raise(2, s1.blockHash, 0);
        vm.assertEq(verifier.alertOf(rollupId).blockNumber, 2, "lowered");
        vm.assertEq(verifier.alertOf(rollupId).claimedStateRoot, lower.claimedStateRoot, "replaced");
        SignerProof memory p2 = _proof(s2, 0);
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.RollupHalted.selector, rollupId, 2));
        verifier.submitCertificate(s2, p2);
    }

    function test_raise_malformedReports_revert() public {
        Mismatch memory m = _mismatch(1, GENESIS_HASH);
        SignerProof memory p = _alertProof(m, 0);
        Mismatch memory bad = _mismatch(1, GENESIS_HASH);
        bad.computedStateRoot = m.claimedStateRoot;
        vm.expectRevert(CertificateVerifier.NoMismatch.selector);
        verifier.raiseAlert(bad, p);
        bad = _mismatch(1, GENESIS_HASH);
        bad.claimedStateRoot = bytes32(0);
        vm.expectRevert(CertificateVerifier.ZeroRoot.selector);
        verifier.raiseAlert(bad, p);
        bad = _mismatch(1, GENESIS_HASH);
        bad.blockNumber = 0;
        vm.expectRevert(CertificateVerifier.GenesisNotAlertable.selector);
        verifier.raiseAlert(bad, p);
        bad = _mismatch(1, GENESIS_HASH);
        bad.rollupId = 99;
        vm.expectRevert(abi.encodeWithSelector(RollupRegistry.UnknownRollup.selector, 99));
        verifier.raiseAlert(bad, p);
        // Signed over other fields than submitted.
        bad = _mismatch(1, GENESIS_HASH);
        bad.computedStateRoot = keccak256("what the signers did not compute");
        vm.expectRevert(CertificateVerifier.InvalidSignature.selector);
        verifier.raiseAlert(bad, p);
        // The reference-block window applies as for certificates.
        vm.roll(block.number + MAX_REFERENCE_AGE + 1);
        vm.expectRevert(
            abi.encodeWithSelector(CertificateVerifier.ReferenceBlockTooOld.selector, p.referenceBlock)
        );
        verifier.raiseAlert(m, p);
    }

    function test_status_pausedHaltedUnknown() public {
        verifier.setPaused(rollupId, true);
        vm.assertEq(uint256(verifier.rollupStatus(rollupId)), uint256(RollupStatus.Paused), "paused");
        // Reporters can halt a paused rollup, and the halt wins.
        _raise(1, GENESIS_HASH, 0);
        vm.assertEq(uint256(verifier.rollupStatus(rollupId)), uint256(RollupStatus.Halted), "halted");
        verifier.setPaused(rollupId, false);
        vm.assertEq(uint256(verifier.rollupStatus(rollupId)), uint256(RollupStatus.Halted), "still halted");
        vm.expectRevert(abi.encodeWithSelector(RollupRegistry.UnknownRollup.selector, 99));
        verifier.rollupStatus(99);
    }

    /// Certificates land below the alert and never at or above it, wherever the two are.
    function testFuzz_certificateAcceptedIffBelowTheAlert(uint64 alertHeight, uint64 certHeight) public {
        alertHeight = uint64(bound(alertHeight, 1, 20));
        certHeight = uint64(bound(certHeight, 1, 20));
        _raise(alertHeight, keccak256("some parent"), 0);
        Statement memory s = _statement(certHeight, certHeight == 1 ? GENESIS_HASH : keccak256("parent"));
        SignerProof memory p = _proof(s, 0);
        if (certHeight >= alertHeight) {
            vm.expectRevert(
                abi.encodeWithSelector(CertificateVerifier.RollupHalted.selector, rollupId, alertHeight)
            );
        }
        verifier.submitCertificate(s, p);
        vm.assertEq(
            verifier.isFinal(rollupId, certHeight, s.blockHash, s.stateRoot),
            certHeight < alertHeight,
            "final"
        );
    }

    /// An alert lands iff its signers hold the alert share of the stake.
    function testFuzz_alertNeedsTheShareOfStake(uint256 mask, uint16 share) public {
        _addOperator(10, 10 ether);
        _addOperator(11, 70 ether);
        vm.roll(block.number + 1);
        uint256 n = operators.length;
        mask = bound(mask, 0, (1 << n) - 2); // at least one signer
        share = uint16(bound(share, 1_000, 5_000));
        verifier.setAlertThreshold(share);
        uint256 total;
        uint256 signed;
        for (uint256 i; i < n; ++i) {
            (, uint256 stake) = registry.stakeOf(operators[i]);
            total += stake;
            if (mask >> i & 1 == 0) signed += stake;
        }
        Mismatch memory m = _mismatch(1, GENESIS_HASH);
        SignerProof memory p = _alertProof(m, mask);
        bool enough = signed * 10_000 >= total * share;
        if (!enough) {
            vm.expectRevert(
                abi.encodeWithSelector(CertificateVerifier.BelowAlertThreshold.selector, signed, total, share)
            );
        }
        verifier.raiseAlert(m, p);
        vm.assertEq(verifier.rollupStatus(rollupId) == RollupStatus.Halted, enough, "halted iff enough");
    }
}
