// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Statement} from "../src/libraries/StatementLib.sol";
import {CertificateVerifier, SignerProof} from "../src/CertificateVerifier.sol";
import {CompensationPool} from "../src/CompensationPool.sol";
import {MockAllocationManager} from "./mocks/MockAllocationManager.sol";
import {SuretyTestBase} from "./utils/SuretyTestBase.sol";
import {BLSKeys} from "./utils/BLSKeys.sol";
import {vm, bound} from "./utils/Vm.sol";

/// @dev Drives the whole deployment with random certificates (any signer subset, gaps,
///      resubmissions), stake changes, double-signing evidence, accusations, head releases, signer
///      slashing and cover/claims, and keeps ghost accounting for the invariants.
contract Handler is SuretyTestBase {
    uint256 internal constant N = 5;
    uint256 internal constant BUYERS = 3;

    struct Cert {
        bytes32 id;
        Statement statement;
        uint256 nonSignerMask;
        uint256 total;
    }

    Cert[] internal certs;

    uint256 public belowThresholdAccepted;
    uint256 public nonSignerSlashed;
    uint256 public punishedTwice;
    uint256 public diluted;
    uint256 public operatorCovered;
    uint256 public paidOut;
    mapping(bytes32 faultKey => uint256) internal slashesPerFault;
    mapping(bytes32 certificateId => uint256[]) internal coversOf;
    uint256[] internal coverIds;

    constructor(World memory world) {
        _adopt(world);
        for (uint256 i; i < N; ++i) {
            _addOperator(i + 1, (i + 1) * 10 ether);
        }
        vm.roll(block.number + 1);
        vm.deal(address(this), 1_000 ether);
        for (uint256 i; i < BUYERS; ++i) {
            vm.deal(_buyer(i), 1_000 ether);
        }
    }

    function _buyer(uint256 i) internal pure returns (address) {
        return address(uint160(0xB0000 + i));
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

    function certAt(uint256 i) external view returns (bytes32 id, Statement memory s, uint256 total) {
        return (certs[i].id, certs[i].statement, certs[i].total);
    }

    function coversOn(bytes32 id) external view returns (uint256[] memory) {
        return coversOf[id];
    }

    /// @dev The head's block hash as the handler certified it (genesis at 0).
    function _headHash() internal view returns (uint64 number, bytes32 hash) {
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

    /// @dev Counts EigenLayer slashes since `before` against (operator, rollup, height).
    function _recordSlashes(uint256 before, uint64 height) internal {
        for (uint256 i = before; i < am.slashCount(); ++i) {
            (address op,,) = am.slashCalls(i);
            if (++slashesPerFault[slasher.faultKey(op, rollupId, height)] > 1) ++punishedTwice;
        }
    }

    // ---------------------------------------------------------------- actions

    function submit(uint256 mask, uint256 gap, bool wrongRoot) external {
        mask = bound(mask, 0, (1 << N) - 1);
        gap = bound(gap, 1, 3);
        vm.roll(block.number + 1);
        (uint64 head, bytes32 headHash) = _headHash();
        Statement memory s = _statement(head + uint64(gap), headHash);
        if (wrongRoot) s.stateRoot = keccak256(abi.encode("wrong", s.stateRoot));
        // A recorded statement takes the resubmission path (`resubmit`).
        if (verifier.getCertificate(verifier.certificateId(s)).referenceBlock != 0) return;
        SignerProof memory p = _proof(s, mask);
        uint256 total = registry.totalStakeAt(p.referenceBlock, p.totalStakeIndex);
        try verifier.submitCertificate(s, p) returns (bytes32 id) {
            uint256 signed = verifier.slashableStakeBehind(id);
            if (signed * 10_000 < total * verifier.getRollup(rollupId).thresholdBps) {
                ++belowThresholdAccepted;
            }
            certs.push(Cert(id, s, mask, total));
        } catch {}
    }

    /// Resubmits a recorded certificate: a no-op, or it becomes the head again after a rollback.
    function resubmit(uint256 certIndex) external {
        if (certs.length == 0) return;
        Cert storage c = certs[bound(certIndex, 0, certs.length - 1)];
        SignerProof memory none;
        try verifier.submitCertificate(c.statement, none) {} catch {}
    }

    function releaseHead() external {
        (uint64 head, bytes32 headHash) = _headHash();
        if (head == 0) return;
        for (uint256 i; i < certs.length; ++i) {
            if (certs[i].statement.blockHash == headHash) {
                try verifier.releaseHead(certs[i].statement) {} catch {}
                return;
            }
        }
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
        uint256 before = am.slashCount();
        try slasher.proveDoubleSigning(a, sigA, b, sigB, publicKeys[index]) {} catch {}
        _recordSlashes(before, height);
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
        uint256 before = am.slashCount();
        try slasher.slashCertificateSigners(c.statement, _nonSignerHashes(c.nonSignerMask), ops, idx) {
            if (opMask & c.nonSignerMask != 0) ++nonSignerSlashed;
        } catch {}
        _recordSlashes(before, c.statement.blockNumber);
    }

    /// Buys cover from a buyer (or, when `asOperator`, from an operator address, which must fail)
    /// and checks that no earlier holder's payout fell.
    function buyCover(uint256 certIndex, uint256 amount, uint256 buyer, bool asOperator) external {
        if (certs.length == 0) return;
        Cert storage c = certs[bound(certIndex, 0, certs.length - 1)];
        amount = bound(amount, 1, 3 ether);
        address who = asOperator ? operators[bound(buyer, 0, N - 1)] : _buyer(bound(buyer, 0, BUYERS - 1));
        uint256[] storage earlier = coversOf[c.id];
        uint256[] memory before = new uint256[](earlier.length);
        for (uint256 i; i < earlier.length; ++i) {
            before[i] = pool.payoutOf(earlier[i]);
        }
        uint256 premium = pool.premiumFor(amount);
        vm.deal(who, who.balance + premium);
        vm.prank(who);
        try pool.buyCover{value: premium}(c.statement, amount) returns (uint256 coverId) {
            if (asOperator) ++operatorCovered;
            for (uint256 i; i < earlier.length; ++i) {
                if (pool.payoutOf(earlier[i]) < before[i]) ++diluted;
            }
            earlier.push(coverId);
            coverIds.push(coverId);
        } catch {}
    }

    function payClaim(uint256 i) external {
        if (coverIds.length == 0) return;
        uint256 coverId = coverIds[bound(i, 0, coverIds.length - 1)];
        try pool.payClaim(coverId) returns (uint256 payout) {
            paidOut += payout;
        } catch {}
    }

    function passTime(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 1, 5 days));
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

    /// The handler's paths are live (not vacuously reverting): certify, buy cover, prove a fault,
    /// slash the signers, get paid, prove double signing, release a stale head.
    function test_handlerPathsSucceed() public {
        handler.submit(0, 1, false);
        handler.submit(1, 1, false);
        vm.assertEq(handler.certCount(), 2, "certified");
        handler.buyCover(1, 1 ether, 0, false);
        handler.buyCover(1, 1 ether, 0, true);
        vm.assertEq(handler.operatorCovered(), 0, "operators cannot buy");
        handler.accuse(1, true);
        handler.slashSigners(1, 0x1e);
        vm.assertEq(handler.mockAllocationManager().slashCount(), 4, "four signers slashed");
        handler.passTime(5 days);
        handler.passTime(5 days);
        handler.payClaim(0);
        vm.assertEq(handler.paidOut(), 1 ether, "claim paid from the forfeited collateral");
        handler.doubleSign(0, 1);
        vm.assertEq(handler.mockAllocationManager().slashCount(), 5, "double signer slashed");
        handler.doubleSign(0, 1);
        vm.assertEq(handler.mockAllocationManager().slashCount(), 5, "evidence acts once");
        handler.resubmit(0);
        vm.assertEq(handler.certificateVerifier().latestCertifiedBlock(rollupId), 1, "reinstated");
        handler.passTime(5 days);
        handler.passTime(5 days);
        handler.passTime(5 days);
        handler.releaseHead();
        vm.assertEq(handler.certificateVerifier().latestCertifiedBlock(rollupId), 0, "released");
    }

    /// One campaign checks every property after each call sequence (a campaign per property would
    /// replay the same expensive BLS-signing sequences seven times); the message names the property.
    function invariant_system() public view {
        _certificatesMeetThreshold();
        _eachFaultPunishedOnce();
        _nonSignersNeverSlashed();
        _poolSolvent();
        _coverWithinPayableBudget();
        _laterBuyersNeverDilute();
        _headIsCertifiedAndNotFaulty();
    }

    /// Signed stake ≤ total stake, and no certificate below threshold is accepted.
    function _certificatesMeetThreshold() internal view {
        vm.assertEq(handler.belowThresholdAccepted(), 0, "below-threshold certificate accepted");
        CertificateVerifier verifier_ = handler.certificateVerifier();
        uint256 threshold = verifier_.getRollup(rollupId).thresholdBps;
        for (uint256 i; i < handler.certCount(); ++i) {
            (bytes32 id,, uint256 total) = handler.certAt(i);
            uint256 signed = verifier_.slashableStakeBehind(id);
            vm.assertLe(signed, total, "signed stake above total");
            vm.assertGe(signed * 10_000, total * threshold, "below threshold");
        }
    }

    /// Each (operator, rollup, height) fault is slashed on EigenLayer at most once, whatever the
    /// evidence.
    function _eachFaultPunishedOnce() internal view {
        vm.assertEq(handler.punishedTwice(), 0, "a fault was punished twice");
    }

    function _nonSignersNeverSlashed() internal view {
        vm.assertEq(handler.nonSignerSlashed(), 0, "non-signer slashed");
    }

    /// The pool never pays more than it holds: collateral, reserved budgets, pending credits and
    /// owed payouts stay covered.
    function _poolSolvent() internal view {
        CompensationPool pool_ = handler.compensationPool();
        vm.assertGe(
            address(pool_).balance,
            pool_.totalCollateral() + pool_.reserved() + pool_.pendingCredits() + pool_.totalOwed(),
            "pool insolvent"
        );
    }

    /// Cover on a certificate never exceeds what its fault can forfeit (the signers' collateral),
    /// a settled budget never exceeds the cover, and no cover is paid beyond its entitlement.
    function _coverWithinPayableBudget() internal view {
        CompensationPool pool_ = handler.compensationPool();
        CertificateVerifier verifier_ = handler.certificateVerifier();
        uint256 unit = verifier_.registry().COLLATERAL_UNIT();
        for (uint256 i; i < handler.certCount(); ++i) {
            (bytes32 id,,) = handler.certAt(i);
            uint256 cover = pool_.totalCover(id);
            vm.assertLe(
                cover, uint256(verifier_.getCertificate(id).signedCollateral) * unit, "cover above collateral"
            );
            CompensationPool.Fault memory f = pool_.getFault(id);
            vm.assertLe(f.budget, cover, "budget above cover");
            uint256[] memory ids = handler.coversOn(id);
            uint256 paid;
            for (uint256 k; k < ids.length; ++k) {
                CompensationPool.Cover memory c = pool_.getCover(ids[k]);
                vm.assertLe(c.paid, pool_.payoutOf(ids[k]), "paid beyond entitlement");
                paid += c.paid;
            }
            vm.assertLe(paid, f.budget, "paid beyond budget");
        }
    }

    /// An honest holder's payout never falls when someone buys later, and operators never hold cover.
    function _laterBuyersNeverDilute() internal view {
        vm.assertEq(handler.diluted(), 0, "earlier holder diluted");
        vm.assertEq(handler.operatorCovered(), 0, "operator bought cover");
    }

    /// The head is genesis or a block with a recorded certificate not proven faulty.
    function _headIsCertifiedAndNotFaulty() internal view {
        CertificateVerifier verifier_ = handler.certificateVerifier();
        CertificateVerifier.Head memory h = verifier_.headOf(rollupId);
        if (h.blockNumber == 0) {
            vm.assertEq(uint256(h.blockHashPrefix), 0, "genesis head");
            return;
        }
        for (uint256 i; i < handler.certCount(); ++i) {
            (bytes32 id, Statement memory s,) = handler.certAt(i);
            if (
                s.blockNumber == h.blockNumber && uint192(uint256(s.blockHash) >> 64) == h.blockHashPrefix
                    && !verifier_.getCertificate(id).faulty
            ) return;
        }
        vm.assertTrue(false, "head is not a certified, non-faulty block");
    }
}
