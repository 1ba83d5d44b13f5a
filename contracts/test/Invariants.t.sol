// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Statement} from "../src/libraries/StatementLib.sol";
import {CertificateVerifier, SignerProof} from "../src/CertificateVerifier.sol";
import {CompensationPool} from "../src/CompensationPool.sol";
import {MockAllocationManager} from "./mocks/MockAllocationManager.sol";
import {SuretyTestBase} from "./utils/SuretyTestBase.sol";
import {BLSKeys} from "./utils/BLSKeys.sol";
import {vm, bound} from "./utils/Vm.sol";

/// @dev Drives the whole deployment with random certificates (any signer subset), stake changes,
///      double-signing evidence, accusations, signer slashing and cover/claims, and keeps ghost
///      accounting for the invariants.
contract Handler is SuretyTestBase {
    uint256 internal constant N = 5;

    struct Cert {
        bytes32 id;
        Statement statement;
        uint256 nonSignerMask;
        uint256 total;
    }

    Cert[] internal certs;
    bytes32 internal headHash;
    uint64 internal head;

    uint256 public punishments;
    uint256 public belowThresholdAccepted;
    uint256 public nonSignerSlashed;
    uint256 public claimsPaidTwice;
    uint256 public paidOut;
    mapping(uint256 coverId => bool) internal paid;
    uint256[] internal coverIds;

    constructor(World memory world) {
        _adopt(world);
        for (uint256 i; i < N; ++i) {
            _addOperator(i + 1, (i + 1) * 10 ether);
        }
        headHash = GENESIS_HASH;
        vm.roll(block.number + 1);
        vm.deal(address(this), 1_000 ether);
    }

    function mockAllocationManager() external view returns (MockAllocationManager) {
        return am;
    }

    function compensationPool() external view returns (CompensationPool) {
        return pool;
    }

    function certificateVerifier() external view returns (CertificateVerifier) {
        return verifier;
    }

    function certCount() external view returns (uint256) {
        return certs.length;
    }

    function certAt(uint256 i) external view returns (bytes32 id, uint256 total, uint256 threshold) {
        return (certs[i].id, certs[i].total, verifier.getRollup(rollupId).thresholdBps);
    }

    // ---------------------------------------------------------------- actions

    function submit(uint256 mask) external {
        mask = bound(mask, 0, (1 << N) - 1);
        vm.roll(block.number + 1);
        Statement memory s = _statement(head + 1, headHash);
        SignerProof memory p = _proof(s, mask);
        uint256 total = registry.totalStakeAt(p.referenceBlock, p.totalStakeIndex);
        try verifier.submitCertificate(s, p) returns (bytes32 id) {
            uint256 signed = verifier.slashableStakeBehind(id);
            if (signed * 10_000 < total * verifier.getRollup(rollupId).thresholdBps) {
                ++belowThresholdAccepted;
            }
            certs.push(Cert(id, s, mask, total));
            head = s.blockNumber;
            headHash = s.blockHash;
        } catch {}
    }

    function changeStake(uint256 index, uint256 amount) external {
        index = bound(index, 0, N - 1);
        am.setStake(operators[index], STRATEGY_A, bound(amount, 0, 100 ether));
        address[] memory one = new address[](1);
        one[0] = operators[index];
        registry.update(one);
        vm.roll(block.number + 1);
    }

    function doubleSign(uint256 index, uint64 height) external {
        index = bound(index, 0, N - 1);
        height = uint64(bound(height, 1, 3));
        Statement memory a = _statement(height, bytes32(uint256(1)));
        Statement memory b = _statement(height, bytes32(uint256(1)));
        b.stateRoot = keccak256("conflict");
        bytes memory sigA = BLSKeys.sign(secretKeys[index], verifier.signingRoot(a));
        bytes memory sigB = BLSKeys.sign(secretKeys[index], verifier.signingRoot(b));
        try slasher.proveDoubleSigning(a, sigA, b, sigB, publicKeys[index]) {
            ++punishments;
        } catch {}
    }

    function accuse(uint256 certIndex, bool wrong) external {
        if (certs.length == 0) return;
        Cert storage c = certs[bound(certIndex, 0, certs.length - 1)];
        (bool settled,) = rootSource.canonicalStateRoot(c.statement.blockNumber);
        if (!settled) {
            rootSource.settle(c.statement.blockNumber, wrong ? keccak256("canonical") : c.statement.stateRoot);
        }
        try slasher.accuseInvalidRoot{value: BOND}(c.statement) {} catch {}
    }

    function slashSigners(uint256 certIndex, uint256 opMask) external {
        if (certs.length == 0) return;
        Cert storage c = certs[bound(certIndex, 0, certs.length - 1)];
        opMask = bound(opMask, 1, (1 << N) - 1);
        uint32 ref = verifier.getCertificate(c.id).referenceBlock;
        uint256 count;
        for (uint256 i; i < N; ++i) {
            if (opMask >> i & 1 == 1) ++count;
        }
        address[] memory ops = new address[](count);
        uint32[] memory idx = new uint32[](count);
        uint256 k;
        for (uint256 i; i < N; ++i) {
            if (opMask >> i & 1 == 0) continue;
            ops[k] = operators[i];
            idx[k] = uint32(registry.stakeIndexAt(keccak256(publicKeys[i]), ref));
            ++k;
        }
        try slasher.slashCertificateSigners(c.statement, _nonSignerHashes(c.nonSignerMask), ops, idx) {
            punishments += count;
            if (opMask & c.nonSignerMask != 0) ++nonSignerSlashed;
        } catch {}
    }

    function buyCover(uint256 certIndex, uint256 amount) external {
        if (certs.length == 0) return;
        Statement memory s = certs[bound(certIndex, 0, certs.length - 1)].statement;
        amount = bound(amount, 1, 20 ether);
        uint256 premium = pool.premiumFor(amount);
        try pool.buyCover{value: premium}(s, amount) returns (uint256 coverId) {
            coverIds.push(coverId);
        } catch {}
    }

    function fileClaim(uint256 i) external {
        if (coverIds.length == 0) return;
        try pool.fileClaim(coverIds[bound(i, 0, coverIds.length - 1)]) {} catch {}
    }

    function payClaim(uint256 i) external {
        if (coverIds.length == 0) return;
        uint256 coverId = coverIds[bound(i, 0, coverIds.length - 1)];
        try pool.payClaim(coverId) returns (uint256 payout) {
            if (paid[coverId]) ++claimsPaidTwice;
            paid[coverId] = true;
            paidOut += payout;
        } catch {}
    }

    function passTime(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 1, 3 days));
        vm.roll(block.number + 1);
    }

    receive() external payable {}
}

/// @notice System invariants under random operation sequences.
contract InvariantsTest is SuretyTestBase {
    Handler internal handler;

    function setUp() public {
        _deploy();
        handler = new Handler(_world());
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// The handler's paths are live (not vacuously reverting): certify, prove a fault, slash the
    /// signers, buy cover, claim and get paid, prove double signing.
    function test_handlerPathsSucceed() public {
        handler.submit(0);
        handler.submit(1);
        vm.assertEq(handler.certCount(), 2, "certified");
        handler.buyCover(1, 5 ether);
        handler.accuse(1, true);
        handler.slashSigners(1, 0x1e);
        vm.assertEq(handler.punishments(), 4, "four signers slashed");
        handler.fileClaim(0);
        handler.passTime(3 days);
        handler.passTime(3 days);
        handler.passTime(3 days);
        handler.payClaim(0);
        vm.assertGt(handler.paidOut(), 0, "claim paid");
        handler.doubleSign(0, 1);
        vm.assertEq(handler.punishments(), 5, "double signer slashed");
        handler.doubleSign(0, 1);
        vm.assertEq(handler.mockAllocationManager().slashCount(), 5, "evidence acts once");
    }

    /// Signed stake ≤ total stake, and no certificate below threshold is accepted.
    function invariant_certificatesMeetThreshold() public view {
        vm.assertEq(handler.belowThresholdAccepted(), 0, "below-threshold certificate accepted");
        for (uint256 i; i < handler.certCount(); ++i) {
            (bytes32 id, uint256 total, uint256 threshold) = handler.certAt(i);
            uint256 signed = handler.certificateVerifier().slashableStakeBehind(id);
            vm.assertLe(signed, total, "signed stake above total");
            vm.assertGe(signed * 10_000, total * threshold, "below threshold");
        }
    }

    /// Every EigenLayer slash comes from one accepted piece of evidence, each acting once.
    function invariant_evidenceSlashesOnce() public view {
        vm.assertEq(
            handler.mockAllocationManager().slashCount(),
            handler.punishments(),
            "slashes != accepted evidence"
        );
    }

    function invariant_nonSignersNeverSlashed() public view {
        vm.assertEq(handler.nonSignerSlashed(), 0, "non-signer slashed");
    }

    /// The pool never pays more than it holds: collateral and reserved budgets stay covered.
    function invariant_poolSolvent() public view {
        CompensationPool pool = handler.compensationPool();
        vm.assertGe(address(pool).balance, pool.totalCollateral() + pool.reserved(), "pool insolvent");
    }

    function invariant_noClaimPaidTwice() public view {
        vm.assertEq(handler.claimsPaidTwice(), 0, "claim paid twice");
    }
}
