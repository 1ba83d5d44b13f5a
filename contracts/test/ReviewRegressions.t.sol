// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Statement} from "../src/libraries/StatementLib.sol";
import {IAllocationManager} from "../src/interfaces/eigenlayer/IAllocationManager.sol";
import {CertificateVerifier, SignerProof} from "../src/CertificateVerifier.sol";
import {CompensationPool} from "../src/CompensationPool.sol";
import {SuretyRegistrar} from "../src/SuretyRegistrar.sol";
import {Slasher} from "../src/Slasher.sol";
import {SuretyTestBase} from "./utils/SuretyTestBase.sol";
import {BLSKeys} from "./utils/BLSKeys.sol";
import {vm} from "./utils/Vm.sol";

/// @notice The six attacks the security review proved against the contracts (issue 10), each run
///         as described and shown to fail now, plus the smaller findings fixed in code.
contract ReviewRegressionsTest is SuretyTestBase {
    uint256 internal constant STAKE = 32 ether;
    address internal honest = address(0xA1);
    address internal sybil = address(0xB2);
    address internal accuser = address(0xACC);

    function setUp() public {
        _deploy();
        _addOperators(3, STAKE);
        vm.roll(block.number + 1);
        vm.deal(honest, 100 ether);
        vm.deal(sybil, 100 ether);
        vm.deal(accuser, 100 ether);
    }

    function _certify(Statement memory s) internal returns (bytes32) {
        return verifier.submitCertificate(s, _proof(s, 0));
    }

    function _buy(address who, Statement memory s, uint256 amount) internal returns (uint256 coverId) {
        uint256 premium = pool.premiumFor(amount);
        vm.prank(who);
        coverId = pool.buyCover{value: premium}(s, amount);
    }

    function _slashAllSigners(Statement memory s) internal {
        uint32 ref = verifier.getCertificate(verifier.certificateId(s)).referenceBlock;
        uint32[] memory idx = new uint32[](operators.length);
        for (uint256 i; i < operators.length; ++i) {
            idx[i] = uint32(registry.stakeIndexAt(keccak256(publicKeys[i]), ref));
        }
        slasher.slashCertificateSigners(s, new bytes32[](0), operators, idx);
    }

    // ---------------------------------------------------------------- 1. late cover drains the pool

    /// The review's attack: a guilty signer buys cover up to the signed stake while the accusation
    /// is pending and takes his forfeited collateral back, leaving the honest holder 4%.
    function test_finding1_lateCoverCannotDrainThePool() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        bytes32 id = _certify(s);
        _buy(honest, s, 2 ether);
        vm.prank(accuser);
        slasher.accuseInvalidRoot{value: BOND}(s); // root not settled yet: pending

        // While accused: nobody buys.
        uint256 premium = pool.premiumFor(1 ether);
        vm.prank(sybil);
        vm.expectRevert(abi.encodeWithSelector(CompensationPool.CoverSuspended.selector, id));
        pool.buyCover{value: premium}(s, 1 ether);
        // A signer never buys, on any certificate.
        Statement memory s2 = _statement(2, s.blockHash);
        _certify(s2);
        vm.deal(operators[0], 10 ether);
        vm.prank(operators[0]);
        vm.expectRevert(
            abi.encodeWithSelector(CompensationPool.OperatorsCannotBuyCover.selector, operators[0])
        );
        pool.buyCover{value: premium}(s2, 1 ether);
        // Cover is bounded by the signers' collateral (3 ETH), not by their 96 ETH of stake.
        uint256 big = 10 ether;
        uint256 bigPremium = pool.premiumFor(big);
        vm.prank(sybil);
        vm.expectRevert(abi.encodeWithSelector(CompensationPool.CoverCapExceeded.selector, big, 3 ether));
        pool.buyCover{value: bigPremium}(s2, big);
        // And only within the cover window.
        uint64 closedAt = uint64(block.timestamp) + COVER_WINDOW;
        vm.warp(closedAt + 1);
        vm.prank(sybil);
        vm.expectRevert(abi.encodeWithSelector(CompensationPool.CoverWindowClosed.selector, closedAt));
        pool.buyCover{value: premium}(s2, 1 ether);
    }

    /// A sybil of the guilty signers buying the rest of the capacity later cannot dilute the honest
    /// early holder, who is paid in full from the signers' forfeited collateral.
    function test_finding1_laterBuyerCannotDiluteEarlierHolder() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        bytes32 id = _certify(s);
        uint256 early = _buy(honest, s, 2 ether);
        uint256 payoutBefore = pool.payoutOf(early);
        uint256 late = _buy(sybil, s, 1 ether);
        vm.assertGe(pool.payoutOf(early), payoutBefore, "later purchase lowered the payout");

        rootSource.settle(1, keccak256("canonical"));
        slasher.accuseInvalidRoot{value: BOND}(s);
        _slashAllSigners(s);
        vm.warp(block.timestamp + CLAIM_WINDOW + 1);
        uint256 before = honest.balance;
        pool.payClaim(early);
        vm.assertEq(honest.balance - before, 2 ether, "honest holder paid in full");
        before = sybil.balance;
        pool.payClaim(late);
        vm.assertEq(sybil.balance - before, 1 ether, "junior cover paid from what is left");
        vm.assertEq(pool.getFault(id).budget, 3 ether, "budget = cover, backed by the 3 forfeits");
    }

    // ---------------------------------------------------------------- 2. unreachable height

    /// The review's attack: a quorum certifies block 2^64−1 and every later certificate reverts.
    function test_finding2_unreachableHeightIsRefused() public {
        Statement memory s = _statement(type(uint64).max, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0);
        vm.expectRevert(
            abi.encodeWithSelector(CertificateVerifier.TooFarAboveHead.selector, type(uint64).max, 0)
        );
        verifier.submitCertificate(s, p);
    }

    /// Within the gap a height the rollup does not reach soon still blocks the head, until its root
    /// stays unsettled past the timeout: then anyone releases the head, it cannot be reinstated, and
    /// the canonical chain continues. Once the rollup reaches that height it is an invalid root.
    function test_finding2_farHeadIsReleasedAndBecomesAFault() public {
        uint64 far = verifier.MAX_HEIGHT_GAP();
        Statement memory bad = _statement(far, keccak256("unknown parent"));
        _certify(bad);
        Statement memory s1 = _statement(1, GENESIS_HASH);
        SignerProof memory p1 = _proof(s1, 0);
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.NotAboveHead.selector, 1, far));
        verifier.submitCertificate(s1, p1);

        vm.expectRevert(
            abi.encodeWithSelector(CertificateVerifier.HeadNotStale.selector, verifier.certificateId(bad))
        );
        verifier.releaseHead(bad);
        vm.warp(block.timestamp + verifier.HEAD_TIMEOUT());
        vm.roll(block.number + 1);
        verifier.releaseHead(bad);
        vm.assertEq(verifier.latestCertifiedBlock(rollupId), 0, "released to genesis");
        verifier.submitCertificate(bad, p1); // stale: resubmission does not reinstate it
        vm.assertEq(verifier.latestCertifiedBlock(rollupId), 0, "not reinstated");
        _certify(s1);
        vm.assertEq(verifier.latestCertifiedBlock(rollupId), 1, "canonical chain continues");

        // The rollup reaches the height: the certified root is wrong, and provably so.
        rootSource.settle(far, keccak256("canonical root"));
        slasher.accuseInvalidRoot{value: BOND}(bad);
        vm.assertTrue(verifier.getCertificate(verifier.certificateId(bad)).faulty, "fault");
    }

    // ---------------------------------------------------------------- 3. budget before slashing

    /// The review's attack: the first payClaim after the window fixes the budget before the fault's
    /// signers are slashed, and their collateral goes to the general balance. Now slashing credits
    /// the fault, before or after settlement.
    function test_finding3_signersCollateralReachesTheirFaultsHolders() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        bytes32 id = _certify(s);
        uint256 coverId = _buy(honest, s, 2 ether);
        rootSource.settle(1, keccak256("canonical"));
        slasher.accuseInvalidRoot{value: BOND}(s);
        vm.warp(block.timestamp + CLAIM_WINDOW + 1);
        uint256 before = honest.balance;
        pool.payClaim(coverId); // settles with premiums only
        uint256 first = honest.balance - before;
        vm.assertLt(first, 2 ether, "short before slashing");

        _slashAllSigners(s);
        vm.assertEq(pool.getFault(id).budget, 2 ether, "late forfeits raised the budget to the cover");
        pool.payClaim(coverId);
        vm.assertEq(honest.balance - before, 2 ether, "paid in full once the signers are slashed");
        vm.expectRevert(abi.encodeWithSelector(CompensationPool.AlreadyPaid.selector, coverId));
        pool.payClaim(coverId);
        vm.assertEq(pool.freeBalance(), 3 ether + pool.premiumFor(2 ether) - 2 ether, "the rest is free");
    }

    // ---------------------------------------------------------------- 4. faulty head steps back

    /// The review's attack: head 1, faulty certificate at 10; the head went to 9 (never certified)
    /// and blocks 2–9 could never be certified.
    function test_finding4_faultyHeadFallsBackToACertifiedBlock() public {
        Statement memory s1 = _statement(1, GENESIS_HASH);
        _certify(s1);
        Statement memory wrong = _statement(10, keccak256("block 9"));
        _certify(wrong);
        rootSource.settle(10, keccak256("canonical 10"));
        slasher.accuseInvalidRoot{value: BOND}(wrong);
        vm.assertEq(verifier.latestCertifiedBlock(rollupId), 0, "genesis, not the uncertified 9");

        _certify(s1); // reinstated
        vm.assertEq(verifier.latestCertifiedBlock(rollupId), 1, "last good certificate");
        Statement memory parent = s1;
        for (uint64 n = 2; n <= 9; ++n) {
            Statement memory next = _statement(n, parent.blockHash);
            _certify(next);
            parent = next;
        }
        vm.assertEq(verifier.latestCertifiedBlock(rollupId), 9, "blocks 2-9 certified");
        vm.assertTrue(verifier.isFinal(rollupId, 9, parent.blockHash, parent.stateRoot), "9 final");
    }

    // ---------------------------------------------------------------- 5. punished more than once

    /// The review's attack: one wrong signed root slashed through proveInvalidStatement, again
    /// through slashCertificateSigners and again through double signing.
    function test_finding5_oneWrongRootIsPunishedOnce() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        _certify(s);
        rootSource.settle(1, keccak256("canonical"));
        bytes memory sig = BLSKeys.sign(secretKeys[0], verifier.signingRoot(s));
        slasher.proveInvalidStatement(s, sig, publicKeys[0]);
        vm.assertEq(am.slashCount(), 1, "slashed once");

        slasher.accuseInvalidRoot{value: BOND}(s);
        _slashAllSigners(s);
        vm.assertEq(am.slashCount(), 3, "the two other signers only");

        Statement memory other = _statement(1, GENESIS_HASH);
        other.stateRoot = keccak256("other root");
        bytes memory sigOther = BLSKeys.sign(secretKeys[0], verifier.signingRoot(other));
        bytes32 key = slasher.faultKey(operators[0], rollupId, 1);
        vm.expectRevert(abi.encodeWithSelector(Slasher.EvidenceUsed.selector, key));
        slasher.proveDoubleSigning(s, sig, other, sigOther, publicKeys[0]);
        vm.assertEq(am.slashCount(), 3, "no third punishment");
    }

    // ---------------------------------------------------------------- 6. slashed operator keeps its seat

    /// The review's attack: after a partial slash the operator stays in the APK with voting weight.
    function test_finding6_punishedOperatorIsEjected() public {
        _redeployWithSlashWad(0.5e18);
        Statement memory a = _statement(5, keccak256("p"));
        Statement memory b = _statement(5, keccak256("p"));
        b.stateRoot = keccak256("conflict");
        slasher.proveDoubleSigning(
            a,
            BLSKeys.sign(secretKeys[0], verifier.signingRoot(a)),
            b,
            BLSKeys.sign(secretKeys[0], verifier.signingRoot(b)),
            publicKeys[0]
        );
        vm.assertFalse(registry.isActive(operators[0]), "out of the APK");
        (bool active, uint256 stake) = registry.stakeOf(operators[0]);
        vm.assertFalse(active, "inactive");
        vm.assertEq(stake, 0, "no voting weight");
        vm.assertFalse(am.member(operators[0]), "deregistered from the operator set");
        vm.assertEq(registry.totalStake(), 2 * STAKE, "the rest of the set");

        // Its key no longer counts: a certificate needs the remaining operators.
        vm.roll(block.number + 1);
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory withEjected = _proof(s, 0);
        _forget(0);
        SignerProof memory remaining = _proof(s, 0);
        vm.expectRevert(CertificateVerifier.InvalidSignature.selector);
        verifier.submitCertificate(s, withEjected);
        verifier.submitCertificate(s, remaining);
        vm.assertTrue(verifier.isFinal(rollupId, 1, s.blockHash, s.stateRoot), "the remaining two certify");
    }

    // ---------------------------------------------------------------- smaller findings

    function test_smaller_registrarOwnershipMovesInTwoSteps() public {
        registrar.transferOwnership(honest);
        vm.assertEq(registrar.owner(), address(this), "not before acceptance");
        vm.prank(sybil);
        vm.expectRevert(SuretyRegistrar.Unauthorized.selector);
        registrar.acceptOwnership();
        vm.prank(honest);
        registrar.acceptOwnership();
        vm.assertEq(registrar.owner(), honest, "accepted");
        vm.assertEq(registrar.pendingOwner(), address(0), "cleared");
    }

    function test_smaller_constructorsValidate() public {
        vm.expectRevert(CompensationPool.InvalidParameter.selector);
        new CompensationPool(verifier, 0, CLAIM_WINDOW, WITHDRAWAL_DELAY, COVER_WINDOW);
        vm.expectRevert(CompensationPool.InvalidParameter.selector);
        new CompensationPool(verifier, PREMIUM_BPS, CLAIM_WINDOW, CLAIM_WINDOW - 1, COVER_WINDOW);
        vm.expectRevert(CompensationPool.ZeroAddress.selector);
        new CompensationPool(
            CertificateVerifier(address(0)), PREMIUM_BPS, CLAIM_WINDOW, WITHDRAWAL_DELAY, COVER_WINDOW
        );
        uint256 tooBig = uint256(type(uint96).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(Slasher.InvalidBond.selector, tooBig));
        new Slasher(verifier, registrar, pool, tooBig, 1e18);
        vm.expectRevert(SuretyRegistrar.ZeroAddress.selector);
        new SuretyRegistrar(IAllocationManager(address(am)), registry, pool, MIN_COLLATERAL, address(0));
    }

    /// Fresh deployment with `wad` slashed per fault and three operators.
    function _redeployWithSlashWad(uint256 wad) internal {
        delete operators;
        delete secretKeys;
        delete publicKeys;
        slashWad = wad;
        _deploy();
        _addOperators(3, STAKE);
        vm.roll(block.number + 1);
    }

    /// Drops operator `i` from the test's signer list (it is no longer in the set).
    function _forget(uint256 i) internal {
        uint256 last = operators.length - 1;
        (operators[i], secretKeys[i], publicKeys[i]) = (operators[last], secretKeys[last], publicKeys[last]);
        operators.pop();
        secretKeys.pop();
        publicKeys.pop();
    }
}
