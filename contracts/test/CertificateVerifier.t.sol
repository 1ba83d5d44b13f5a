// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS12381} from "../src/libraries/BLS12381.sol";
import {Checkpoints} from "../src/libraries/Checkpoints.sol";
import {Statement, StatementLib} from "../src/libraries/StatementLib.sol";
import {CertificateVerifier, SignerProof} from "../src/CertificateVerifier.sol";
import {StakeRegistry} from "../src/StakeRegistry.sol";
import {SuretyTestBase} from "./utils/SuretyTestBase.sol";
import {BLSKeys} from "./utils/BLSKeys.sol";
import {vm, bound} from "./utils/Vm.sol";

contract CertificateVerifierTest is SuretyTestBase {
    uint256 internal constant STAKE = 32 ether;

    function setUp() public {
        _deploy();
        _addOperators(4, STAKE);
        vm.roll(block.number + 1);
    }

    function test_submit_allSign_isFinal() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        bytes32 id = verifier.submitCertificate(s, _proof(s, 0));
        vm.assertTrue(verifier.isFinal(rollupId, 1, s.blockHash, s.stateRoot), "final");
        vm.assertFalse(verifier.isFinal(rollupId, 1, s.blockHash, keccak256("other")), "other root");
        vm.assertEq(verifier.latestCertifiedBlock(rollupId), 1, "head");
        vm.assertEq(verifier.slashableStakeBehind(id), 4 * STAKE, "signed stake");
        vm.assertEq(verifier.nonSignersHash(id), bytes32(0), "no non-signers");
    }

    function test_submit_oneNonSigner_chainsAndRecordsNonSigners() public {
        Statement memory s1 = _statement(1, GENESIS_HASH);
        verifier.submitCertificate(s1, _proof(s1, 0));
        Statement memory s2 = _statement(2, s1.blockHash);
        bytes32 id = verifier.submitCertificate(s2, _proof(s2, 1 << 2));
        vm.assertEq(verifier.slashableStakeBehind(id), 3 * STAKE, "signed stake");
        vm.assertEq(
            verifier.nonSignersHash(id), keccak256(abi.encodePacked(_nonSignerHashes(1 << 2))), "ns hash"
        );
        vm.assertEq(verifier.latestCertifiedBlock(rollupId), 2, "head");
    }

    function test_resubmission_isNoOp() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0);
        bytes32 id = verifier.submitCertificate(s, p);
        vm.roll(block.number + 5);
        // Even a stale or different proof for an already recorded certificate returns the same id.
        bytes32 again = verifier.submitCertificate(s, p);
        vm.assertEq(again, id, "same id");
        vm.assertEq(verifier.getCertificate(id).referenceBlock, p.referenceBlock, "record unchanged");
    }

    function test_belowThreshold_reverts() public {
        // 2 of 4 equal stakes = 50% < 66.67%.
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0x3);
        vm.expectRevert(
            abi.encodeWithSelector(CertificateVerifier.BelowThreshold.selector, 2 * STAKE, 4 * STAKE, 6_667)
        );
        verifier.submitCertificate(s, p);
    }

    function test_exactlyAtThreshold_stakeWeighted() public {
        // Stakes 10, 10, 10, 70 (+4×32 from setUp): one heavy operator decides alone when the others miss.
        _addOperator(100, 1000 ether);
        vm.roll(block.number + 1);
        Statement memory s = _statement(1, GENESIS_HASH);
        verifier.submitCertificate(s, _proof(s, 0xF));
        vm.assertTrue(verifier.isFinal(rollupId, 1, s.blockHash, s.stateRoot), "heavy signer");
    }

    function test_allNonSigners_revertsEmptySignerSet() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0xF);
        p.signature = BLSKeys.sign(1, verifier.signingRoot(s));
        vm.expectRevert(CertificateVerifier.EmptySignerSet.selector);
        verifier.submitCertificate(s, p);
    }

    function test_infinitySignature_reverts() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0);
        p.signature = new bytes(128);
        vm.expectRevert(BLS12381.PointAtInfinity.selector);
        verifier.submitCertificate(s, p);
    }

    function test_wrongSignature_reverts() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0);
        // Claims operator 0 signed, but the signature lacks its share.
        SignerProof memory missing = _proof(s, 1);
        p.signature = missing.signature;
        vm.expectRevert(CertificateVerifier.InvalidSignature.selector);
        verifier.submitCertificate(s, p);
    }

    function test_zeroRoots_revert() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0);
        s.stateRoot = bytes32(0);
        vm.expectRevert(CertificateVerifier.ZeroRoot.selector);
        verifier.submitCertificate(s, p);
        s = _statement(1, GENESIS_HASH);
        s.blockHash = bytes32(0);
        vm.expectRevert(CertificateVerifier.ZeroRoot.selector);
        verifier.submitCertificate(s, p);
    }

    function test_currentBlockReference_reverts() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0);
        p.referenceBlock = uint32(block.number);
        vm.expectRevert(
            abi.encodeWithSelector(CertificateVerifier.ReferenceBlockNotPast.selector, block.number)
        );
        verifier.submitCertificate(s, p);
    }

    function test_staleReference_reverts() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0);
        vm.roll(block.number + MAX_REFERENCE_AGE + 1);
        vm.expectRevert(
            abi.encodeWithSelector(CertificateVerifier.ReferenceBlockTooOld.selector, p.referenceBlock)
        );
        verifier.submitCertificate(s, p);
    }

    function test_wrongApk_reverts() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0);
        p.apk = publicKeys[0];
        vm.expectRevert(CertificateVerifier.ApkMismatch.selector);
        verifier.submitCertificate(s, p);
    }

    function test_wrongCheckpointHint_reverts() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0);
        p.apkIndex = 1;
        vm.expectRevert(abi.encodeWithSelector(Checkpoints.CheckpointMismatch.selector, p.referenceBlock, 1));
        verifier.submitCertificate(s, p);
    }

    function test_unsortedOrDuplicateNonSigners_revert() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 1);
        p.nonSignerKeys = bytes.concat(p.nonSignerKeys, p.nonSignerKeys);
        p.nonSignerStakeIndices = new uint32[](2);
        vm.expectRevert(CertificateVerifier.NonSignersNotSorted.selector);
        verifier.submitCertificate(s, p);
    }

    function test_unregisteredNonSigner_reverts() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0);
        p.nonSignerKeys = BLSKeys.publicKey(12345);
        p.nonSignerStakeIndices = new uint32[](1);
        vm.expectRevert(
            abi.encodeWithSelector(Checkpoints.CheckpointMismatch.selector, p.referenceBlock, uint256(0))
        );
        verifier.submitCertificate(s, p);
    }

    function test_deregisteredOperator_cannotBeNonSigner() public {
        address gone = operators[3];
        am.deregisterFromOperatorSets(gone, address(registrar));
        vm.roll(block.number + 1);
        Statement memory s = _statement(1, GENESIS_HASH);
        // Operators 0-2 sign; operator 3 is no longer in the APK, so naming it as non-signer fails.
        SignerProof memory p = _proof(s, 1 << 3);
        vm.expectRevert(abi.encodeWithSelector(StakeRegistry.NotActive.selector, keccak256(publicKeys[3])));
        verifier.submitCertificate(s, p);
    }

    function test_parentMismatch_andNotAboveHead() public {
        Statement memory s = _statement(1, keccak256("not genesis"));
        SignerProof memory p = _proof(s, 0);
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.ParentMismatch.selector, s.parentHash));
        verifier.submitCertificate(s, p);

        s = _statement(5, keccak256("gap"));
        verifier.submitCertificate(s, _proof(s, 0));
        Statement memory older = _statement(4, keccak256("x"));
        p = _proof(older, 0);
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.NotAboveHead.selector, 4, 5));
        verifier.submitCertificate(older, p);
    }

    function test_pausedRollup_reverts() public {
        verifier.setPaused(rollupId, true);
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0);
        vm.expectRevert(abi.encodeWithSelector(CertificateVerifier.RollupPaused.selector, rollupId));
        verifier.submitCertificate(s, p);
    }

    /// Signatures over the same fields bound to another chain, another verifier or another message
    /// type do not verify here.
    function test_replayAcrossChainContractAndMessageType_rejected() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        bytes32[3] memory foreign = [
            StatementLib.signingRoot(s, block.chainid + 1, address(verifier)),
            StatementLib.signingRoot(s, block.chainid, address(0xBEEF)),
            registry.popMessage(operators[0], keccak256(abi.encode(s)))
        ];
        for (uint256 i; i < 3; ++i) {
            SignerProof memory p = _proofFor(foreign[i], 0);
            vm.expectRevert(CertificateVerifier.InvalidSignature.selector);
            verifier.submitCertificate(s, p);
        }
    }

    function test_apkHistory_keyChangesDoNotAffectPastReference() public {
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0);
        // A new operator joins in the current block; the proof at the earlier reference still holds.
        _addOperator(50, STAKE);
        verifier.submitCertificate(s, p);
        vm.assertTrue(verifier.isFinal(rollupId, 1, s.blockHash, s.stateRoot), "final");
    }

    function testFuzz_nonSignerSubsets(uint256 mask, bytes32 parent) public {
        mask = bound(mask, 0, 15);
        vm.assume(parent != bytes32(0));
        Statement memory s = _statement(7, parent);
        SignerProof memory p = _proof(s, mask);
        uint256 nonSigners;
        for (uint256 i; i < 4; ++i) {
            nonSigners += mask >> i & 1;
        }
        uint256 signed = (4 - nonSigners) * STAKE;
        if (nonSigners == 4) {
            p.signature = BLSKeys.sign(1, verifier.signingRoot(s));
            vm.expectRevert(CertificateVerifier.EmptySignerSet.selector);
            verifier.submitCertificate(s, p);
        } else if (signed * 10_000 < 4 * STAKE * 6_667) {
            vm.expectRevert(
                abi.encodeWithSelector(CertificateVerifier.BelowThreshold.selector, signed, 4 * STAKE, 6_667)
            );
            verifier.submitCertificate(s, p);
        } else {
            bytes32 id = verifier.submitCertificate(s, p);
            vm.assertEq(verifier.slashableStakeBehind(id), signed, "signed stake");
        }
    }

    function testFuzz_malformedProofBytes_revert(uint256 cut, uint8 flip) public {
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0);
        cut = bound(cut, 0, 127);
        p.signature[cut] = bytes1(uint8(p.signature[cut]) ^ (flip | 1));
        vm.expectRevert();
        verifier.submitCertificate(s, p);
    }

    function testFuzz_wrongLengths_revertInvalidLength(uint256 apkLen, uint256 sigLen, uint256 keysLen)
        public
    {
        Statement memory s = _statement(1, GENESIS_HASH);
        SignerProof memory p = _proof(s, 0);
        apkLen = bound(apkLen, 0, 600);
        sigLen = bound(sigLen, 0, 300);
        keysLen = bound(keysLen, 1, 1000);
        if (apkLen != 256) {
            p.apk = new bytes(apkLen);
            vm.expectRevert(abi.encodeWithSelector(BLS12381.InvalidLength.selector, apkLen));
        } else if (sigLen != 128) {
            p.signature = new bytes(sigLen);
            vm.expectRevert(abi.encodeWithSelector(BLS12381.InvalidLength.selector, sigLen));
        } else if (keysLen % 256 != 0) {
            p.nonSignerKeys = new bytes(keysLen);
            vm.expectRevert(abi.encodeWithSelector(BLS12381.InvalidLength.selector, keysLen));
        } else {
            return;
        }
        verifier.submitCertificate(s, p);
    }
}
