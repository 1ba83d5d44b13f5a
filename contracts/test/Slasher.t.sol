// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Statement} from "../src/libraries/StatementLib.sol";
import {RollupRegistry} from "../src/RollupRegistry.sol";
import {Slasher} from "../src/Slasher.sol";
import {SuretyTestBase} from "./utils/SuretyTestBase.sol";
import {BLSKeys} from "./utils/BLSKeys.sol";
import {vm} from "./utils/Vm.sol";

contract Slasher_Test is SuretyTestBase {
    uint256 internal constant STAKE = 32 ether;
    address internal accuser = address(0xACC);

    function setUp() public {
        _deploy();
        _addOperators(4, STAKE);
        vm.roll(block.number + 1);
        vm.deal(accuser, 10 ether);
    }

    function _stake(address operator) internal view returns (uint256 stake) {
        (, stake) = registry.stakeOf(operator);
    }

    // ---------------------------------------------------------------- double signing

    function test_doubleSigning_slashesOnce() public {
        Statement memory a = _statement(9, keccak256("p"));
        Statement memory b = _statement(a.blockNumber, a.parentHash);
        b.stateRoot = keccak256("another root");
        bytes memory sigA = BLSKeys.sign(secretKeys[1], verifier.signingRoot(a));
        bytes memory sigB = BLSKeys.sign(secretKeys[1], verifier.signingRoot(b));
        uint256 poolBefore = pool.freeBalance();

        slasher.proveDoubleSigning(a, sigA, b, sigB, publicKeys[1]);

        vm.assertEq(am.slashCount(), 1, "one slash");
        (address slashed, uint256 wad, uint256 strategies) = am.slashCalls(0);
        vm.assertEq(slashed, operators[1], "guilty operator");
        vm.assertEq(wad, 1e18, "wad");
        vm.assertEq(strategies, 2, "all strategies");
        vm.assertEq(_stake(operators[1]), 0, "stake refreshed after slash");
        vm.assertEq(pool.freeBalance() - poolBefore, MIN_COLLATERAL, "collateral forfeited to pool");
        (uint256 collateral,,) = pool.collateralOf(operators[1]);
        vm.assertEq(collateral, 0, "no collateral left");

        bytes32 evidenceId = slasher.faultKey(operators[1], a.rollupId, a.blockNumber);
        vm.expectRevert(abi.encodeWithSelector(Slasher.EvidenceUsed.selector, evidenceId));
        slasher.proveDoubleSigning(a, sigA, b, sigB, publicKeys[1]);
    }

    function test_doubleSigning_differentBlockHashCounts() public {
        Statement memory a = _statement(9, keccak256("p"));
        Statement memory b = _statement(a.blockNumber, a.parentHash);
        b.blockHash = keccak256("fork");
        slasher.proveDoubleSigning(
            a,
            BLSKeys.sign(secretKeys[0], verifier.signingRoot(a)),
            b,
            BLSKeys.sign(secretKeys[0], verifier.signingRoot(b)),
            publicKeys[0]
        );
        vm.assertEq(am.slashCount(), 1, "slashed");
    }

    function test_doubleSigning_rejectsNonConflicting() public {
        Statement memory a = _statement(9, keccak256("p"));
        Statement memory b = _statement(a.blockNumber, a.parentHash);
        b.parentHash = keccak256("other parent"); // same blockHash and stateRoot: not a fault
        bytes memory sigA = BLSKeys.sign(secretKeys[0], verifier.signingRoot(a));
        bytes memory sigB = BLSKeys.sign(secretKeys[0], verifier.signingRoot(b));
        vm.expectRevert(Slasher.NotConflicting.selector);
        slasher.proveDoubleSigning(a, sigA, b, sigB, publicKeys[0]);
        b = _statement(10, keccak256("p"));
        sigB = BLSKeys.sign(secretKeys[0], verifier.signingRoot(b));
        vm.expectRevert(Slasher.NotConflicting.selector);
        slasher.proveDoubleSigning(a, sigA, b, sigB, publicKeys[0]);
    }

    function test_doubleSigning_rejectsForgedOrForeignSignatures() public {
        Statement memory a = _statement(9, keccak256("p"));
        Statement memory b = _statement(a.blockNumber, a.parentHash);
        b.stateRoot = keccak256("x");
        bytes memory sigA = BLSKeys.sign(secretKeys[0], verifier.signingRoot(a));
        // b signed by someone else: the accused key did not sign both.
        bytes memory sigB = BLSKeys.sign(secretKeys[2], verifier.signingRoot(b));
        vm.expectRevert(Slasher.InvalidSignature.selector);
        slasher.proveDoubleSigning(a, sigA, b, sigB, publicKeys[0]);
        // Signed for another chain: not evidence here.
        vm.chainId(block.chainid + 7);
        sigB = BLSKeys.sign(secretKeys[0], verifier.signingRoot(b));
        vm.chainId(block.chainid - 7);
        vm.expectRevert(Slasher.InvalidSignature.selector);
        slasher.proveDoubleSigning(a, sigA, b, sigB, publicKeys[0]);
        vm.assertEq(am.slashCount(), 0, "nobody slashed");
    }

    function test_doubleSigning_unknownKey() public {
        bytes memory pk = BLSKeys.publicKey(777);
        Statement memory a = _statement(9, keccak256("p"));
        Statement memory b = _statement(a.blockNumber, a.parentHash);
        b.stateRoot = keccak256("x");
        bytes memory sigA = BLSKeys.sign(777, verifier.signingRoot(a));
        bytes memory sigB = BLSKeys.sign(777, verifier.signingRoot(b));
        vm.expectRevert(abi.encodeWithSelector(Slasher.UnknownKey.selector, keccak256(pk)));
        slasher.proveDoubleSigning(a, sigA, b, sigB, pk);
    }

    function test_slashRefusedByEigenLayer_forfeitsCollateralAndKeepsEvidence() public {
        am.setRefuseSlashing(true);
        Statement memory a = _statement(9, keccak256("p"));
        Statement memory b = _statement(a.blockNumber, a.parentHash);
        b.stateRoot = keccak256("x");
        bytes memory sigA = BLSKeys.sign(secretKeys[3], verifier.signingRoot(a));
        bytes memory sigB = BLSKeys.sign(secretKeys[3], verifier.signingRoot(b));
        slasher.proveDoubleSigning(a, sigA, b, sigB, publicKeys[3]);
        vm.assertEq(am.slashCount(), 0, "EigenLayer refused");
        (uint256 collateral,,) = pool.collateralOf(operators[3]);
        vm.assertEq(collateral, 0, "collateral forfeited anyway");
        bytes32 evidenceId = slasher.faultKey(operators[3], a.rollupId, a.blockNumber);
        vm.assertFalse(slasher.used(evidenceId), "evidence not spent");

        // Once EigenLayer accepts, the same evidence slashes the stake, and then it is spent.
        am.setRefuseSlashing(false);
        slasher.proveDoubleSigning(a, sigA, b, sigB, publicKeys[3]);
        vm.assertEq(am.slashCount(), 1, "slashed on the second try");
        vm.expectRevert(abi.encodeWithSelector(Slasher.EvidenceUsed.selector, evidenceId));
        slasher.proveDoubleSigning(a, sigA, b, sigB, publicKeys[3]);
    }

    // ---------------------------------------------------------------- invalid root

    function test_invalidStatement_slashesSigner() public {
        Statement memory s = _statement(4, keccak256("p"));
        bytes memory sig = BLSKeys.sign(secretKeys[0], verifier.signingRoot(s));
        vm.expectRevert(abi.encodeWithSelector(Slasher.CanonicalRootUnknown.selector, rollupId, 4));
        slasher.proveInvalidStatement(s, sig, publicKeys[0]);
        rootSource.settle(4, s.stateRoot);
        vm.expectRevert(Slasher.RootIsCanonical.selector);
        slasher.proveInvalidStatement(s, sig, publicKeys[0]);
        rootSource.settle(4, keccak256("canonical"));
        // A valid signature by another key does not incriminate operator 1.
        vm.expectRevert(Slasher.InvalidSignature.selector);
        slasher.proveInvalidStatement(s, sig, publicKeys[1]);
        slasher.proveInvalidStatement(s, sig, publicKeys[0]);
        vm.assertEq(am.slashCount(), 1, "slashed");
        (address slashed,,) = am.slashCalls(0);
        vm.assertEq(slashed, operators[0], "signer");
        bytes32 evidenceId = slasher.faultKey(operators[0], rollupId, 4);
        vm.expectRevert(abi.encodeWithSelector(Slasher.EvidenceUsed.selector, evidenceId));
        slasher.proveInvalidStatement(s, sig, publicKeys[0]);
    }

    /// Certifies block 1 with operator 2 not signing.
    function _certify() internal returns (Statement memory s, bytes32 id) {
        s = _statement(1, GENESIS_HASH);
        id = verifier.submitCertificate(s, _proof(s, 1 << 2));
    }

    function test_invalidRoot_provenSlashesSignersOnly() public {
        (Statement memory s, bytes32 id) = _certify();
        rootSource.settle(1, keccak256("canonical root"));
        uint256 balance = accuser.balance;
        vm.prank(accuser);
        slasher.accuseInvalidRoot{value: BOND}(s);
        vm.assertEq(accuser.balance, balance, "bond returned");
        vm.assertFalse(verifier.isFinal(rollupId, 1, s.blockHash, s.stateRoot), "no longer final");
        vm.assertEq(pool.getFault(id).provenAt, block.timestamp, "claim window opened");

        bytes32[] memory nonSigners = _nonSignerHashes(1 << 2);
        uint32 ref = verifier.getCertificate(id).referenceBlock;
        // The non-signer cannot be slashed.
        address[] memory ops = new address[](1);
        uint32[] memory idx = new uint32[](1);
        ops[0] = operators[2];
        idx[0] = uint32(registry.stakeIndexAt(keccak256(publicKeys[2]), ref));
        vm.expectRevert(abi.encodeWithSelector(Slasher.NotASigner.selector, operators[2]));
        slasher.slashCertificateSigners(s, nonSigners, ops, idx);
        // Nor can the non-signer list be doctored to hide a signer.
        vm.expectRevert(Slasher.NonSignersMismatch.selector);
        slasher.slashCertificateSigners(s, _nonSignerHashes(1 << 1 | 1 << 2), ops, idx);

        ops = new address[](3);
        idx = new uint32[](3);
        uint256 k;
        for (uint256 i; i < 4; ++i) {
            if (i == 2) continue;
            ops[k] = operators[i];
            idx[k] = uint32(registry.stakeIndexAt(keccak256(publicKeys[i]), ref));
            ++k;
        }
        slasher.slashCertificateSigners(s, nonSigners, ops, idx);
        vm.assertEq(am.slashCount(), 3, "three signers slashed");
        vm.assertEq(_stake(operators[2]), STAKE, "non-signer untouched");
        vm.assertEq(pool.getFault(id).credited, 3 * MIN_COLLATERAL, "three collaterals credited to the fault");
        vm.assertEq(pool.pendingCredits(), 3 * MIN_COLLATERAL, "held for its claimants");

        // Already punished signers are skipped: the batch does not revert and slashes nobody again.
        slasher.slashCertificateSigners(s, nonSigners, ops, idx);
        vm.assertEq(am.slashCount(), 3, "no second slash");
    }

    function test_invalidRoot_failedAccusationCostsBond() public {
        (Statement memory s,) = _certify();
        rootSource.settle(1, s.stateRoot);
        vm.prank(accuser);
        slasher.accuseInvalidRoot{value: BOND}(s);
        vm.assertEq(address(pool).balance - pool.totalCollateral(), BOND, "bond in the pool");
        vm.assertTrue(verifier.isFinal(rollupId, 1, s.blockHash, s.stateRoot), "still final");
        vm.expectRevert(
            abi.encodeWithSelector(Slasher.CertificateNotFaulty.selector, verifier.certificateId(s))
        );
        slasher.slashCertificateSigners(s, _nonSignerHashes(1 << 2), new address[](0), new uint32[](0));
    }

    function test_invalidRoot_pendingUntilSettled() public {
        (Statement memory s, bytes32 id) = _certify();
        vm.prank(accuser);
        slasher.accuseInvalidRoot{value: BOND}(s);
        vm.expectRevert(abi.encodeWithSelector(Slasher.AccusationPending.selector, id));
        slasher.accuseInvalidRoot{value: BOND}(s);
        vm.expectRevert(abi.encodeWithSelector(Slasher.RootNotSettled.selector, id));
        slasher.resolveAccusation(s);
        rootSource.settle(1, keccak256("canonical"));
        slasher.resolveAccusation(s);
        vm.assertTrue(verifier.getCertificate(id).faulty, "faulty");
        vm.expectRevert(abi.encodeWithSelector(Slasher.NoAccusation.selector, id));
        slasher.resolveAccusation(s);
    }

    function test_invalidRoot_withdrawAfterTimeoutOnly() public {
        (Statement memory s, bytes32 id) = _certify();
        vm.prank(accuser);
        slasher.accuseInvalidRoot{value: BOND}(s);
        vm.expectRevert(abi.encodeWithSelector(Slasher.NoAccusation.selector, id));
        slasher.withdrawAccusation(s);
        vm.prank(accuser);
        vm.expectRevert(abi.encodeWithSelector(Slasher.AccusationPending.selector, id));
        slasher.withdrawAccusation(s);
        vm.warp(block.timestamp + slasher.ACCUSATION_TIMEOUT());
        uint256 before = accuser.balance;
        vm.prank(accuser);
        slasher.withdrawAccusation(s);
        vm.assertEq(accuser.balance - before, BOND, "bond back");
        vm.assertTrue(verifier.isFinal(rollupId, 1, s.blockHash, s.stateRoot), "still final");
    }

    function test_invalidRoot_withdrawJudgesWhenSettled() public {
        (Statement memory s, bytes32 id) = _certify();
        vm.prank(accuser);
        slasher.accuseInvalidRoot{value: BOND}(s);
        rootSource.settle(1, s.stateRoot);
        uint256 before = accuser.balance;
        vm.prank(accuser);
        slasher.withdrawAccusation(s); // settled meanwhile: judged, and the accusation was wrong
        vm.assertEq(accuser.balance, before, "bond lost");
        (address stillOpen,,) = slasher.accusations(id);
        vm.assertEq(stillOpen, address(0), "closed");
    }

    function test_invalidRoot_requiresBondAndCertificate() public {
        (Statement memory s,) = _certify();
        vm.prank(accuser);
        vm.expectRevert(abi.encodeWithSelector(Slasher.WrongBond.selector, 1, BOND));
        slasher.accuseInvalidRoot{value: 1}(s);
        Statement memory unknown = _statement(2, s.blockHash);
        vm.prank(accuser);
        vm.expectRevert(
            abi.encodeWithSelector(Slasher.UnknownCertificate.selector, verifier.certificateId(unknown))
        );
        slasher.accuseInvalidRoot{value: BOND}(unknown);
    }

    function test_markFaulty_onlySlasher() public {
        (Statement memory s,) = _certify();
        vm.expectRevert(RollupRegistry.Unauthorized.selector);
        verifier.markFaulty(s);
    }

    /// A proven-wrong head does not block the canonical chain: the head falls back, the last good
    /// certificate is reinstated, and the canonical block at that height (and its successors) can
    /// be certified.
    function test_faultyHead_rollsBackSoCanonicalChainContinues() public {
        Statement memory s1 = _statement(1, GENESIS_HASH);
        verifier.submitCertificate(s1, _proof(s1, 0));
        vm.roll(block.number + 1);
        Statement memory wrong = _statement(2, s1.blockHash);
        wrong.stateRoot = keccak256("wrong root");
        verifier.submitCertificate(wrong, _proof(wrong, 0));
        Statement memory canonical = _statement(2, s1.blockHash);
        rootSource.settle(2, canonical.stateRoot);
        vm.prank(accuser);
        slasher.accuseInvalidRoot{value: BOND}(wrong);
        vm.assertEq(verifier.latestCertifiedBlock(rollupId), 0, "head fell back to genesis");
        // Resubmitting the good certificate below reinstates it without a new quorum.
        verifier.submitCertificate(s1, _proof(s1, 0));
        vm.assertEq(verifier.latestCertifiedBlock(rollupId), 1, "good head reinstated");

        vm.roll(block.number + 1);
        verifier.submitCertificate(canonical, _proof(canonical, 0));
        Statement memory s3 = _statement(3, canonical.blockHash);
        verifier.submitCertificate(s3, _proof(s3, 0));
        vm.assertTrue(verifier.isFinal(rollupId, 2, canonical.blockHash, canonical.stateRoot), "canonical 2");
        vm.assertFalse(verifier.isFinal(rollupId, 2, wrong.blockHash, wrong.stateRoot), "wrong 2");
        vm.assertEq(verifier.latestCertifiedBlock(rollupId), 3, "head");
    }
}
