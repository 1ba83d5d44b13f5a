// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Statement} from "../src/libraries/StatementLib.sol";
import {CompensationPool} from "../src/CompensationPool.sol";
import {RollupRegistry} from "../src/RollupRegistry.sol";
import {ICanonicalRootSource} from "../src/interfaces/ICanonicalRootSource.sol";
import {PostedRootSource} from "../src/adapters/PostedRootSource.sol";
import {SuretyTestBase} from "./utils/SuretyTestBase.sol";
import {vm} from "./utils/Vm.sol";

/// @notice Cover, claims and collateral of the CompensationPool, and the rollup registry.
contract CompensationPoolTest is SuretyTestBase {
    uint256 internal constant STAKE = 32 ether;
    address internal alice = address(0xA1);
    address internal bob = address(0xB2);
    Statement internal s;
    bytes32 internal id;

    function setUp() public {
        _deploy();
        _addOperators(3, STAKE);
        vm.roll(block.number + 1);
        s = _statement(1, GENESIS_HASH);
        id = verifier.submitCertificate(s, _proof(s, 0));
        vm.deal(alice, 100 ether);
        vm.deal(bob, 100 ether);
        vm.deal(address(this), 100 ether);
    }

    function _buy(address who, uint256 amount) internal returns (uint256 coverId) {
        uint256 premium = pool.premiumFor(amount);
        vm.prank(who);
        coverId = pool.buyCover{value: premium}(s, amount);
    }

    function _proveFault() internal {
        rootSource.settle(1, keccak256("canonical"));
        slasher.accuseInvalidRoot{value: BOND}(s);
    }

    function test_buyCover_premiumAndCap() public {
        uint256 coverId = _buy(alice, 2 ether);
        vm.assertEq(pool.freeBalance(), pool.premiumFor(2 ether), "premium in the pool");
        vm.assertEq(pool.getCover(coverId).holder, alice, "holder");
        // Cap: the three signers' locked collateral, 3 ether (not their 96 ether of stake).
        vm.assertEq(pool.coverAvailable(id), 1 ether, "available");
        uint256 premium = pool.premiumFor(1.5 ether);
        vm.prank(bob);
        vm.expectRevert(
            abi.encodeWithSelector(CompensationPool.CoverCapExceeded.selector, 1.5 ether, 1 ether)
        );
        pool.buyCover{value: premium}(s, 1.5 ether);
        premium = pool.premiumFor(1 ether);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(CompensationPool.WrongPremium.selector, 0, premium));
        pool.buyCover(s, 1 ether);
        Statement memory unknown = _statement(2, s.blockHash);
        vm.expectRevert(
            abi.encodeWithSelector(
                CompensationPool.UnknownCertificate.selector, verifier.certificateId(unknown)
            )
        );
        pool.buyCover(unknown, 1 ether);
    }

    function test_claims_fullPayoutWhenFunded() public {
        uint256 coverId = _buy(alice, 2 ether);
        _proveFault();
        // Fund the pool as a slashing would (forfeit) or a redistribution transfer.
        (bool ok,) = address(pool).call{value: 10 ether}("");
        vm.assertTrue(ok, "fund");
        vm.expectRevert(
            abi.encodeWithSelector(
                CompensationPool.ClaimWindowOpen.selector, uint64(block.timestamp) + CLAIM_WINDOW
            )
        );
        pool.payClaim(coverId);
        vm.warp(block.timestamp + CLAIM_WINDOW + 1);
        uint256 before = alice.balance;
        pool.payClaim(coverId); // anyone may push the payout
        vm.assertEq(alice.balance - before, 2 ether, "paid in full");
        vm.expectRevert(abi.encodeWithSelector(CompensationPool.AlreadyPaid.selector, coverId));
        pool.payClaim(coverId);
    }

    function test_claims_paidInPurchaseOrderWhenShort() public {
        uint256 a = _buy(alice, 2 ether);
        uint256 b = _buy(bob, 1 ether);
        _proveFault();
        (bool ok,) = address(pool).call{value: 2.5 ether}("");
        vm.assertTrue(ok, "fund");
        vm.warp(block.timestamp + CLAIM_WINDOW + 1);
        uint256 free = pool.freeBalance(); // 2.5 ether + premiums
        uint256 aliceBefore = alice.balance;
        uint256 bobBefore = bob.balance;
        pool.payClaim(b);
        pool.payClaim(a);
        vm.assertEq(alice.balance - aliceBefore, 2 ether, "alice bought first: paid in full");
        vm.assertEq(bob.balance - bobBefore, free - 2 ether, "bob gets the rest");
        vm.assertEq(pool.reserved(), 0, "budget spent exactly");
        vm.assertEq(address(pool).balance, pool.totalCollateral(), "collateral untouched");
    }

    function test_claims_needAFault() public {
        uint256 coverId = _buy(alice, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(CompensationPool.NoFault.selector, id));
        pool.payClaim(coverId);
    }

    /// A holder that cannot receive ETH does not block the payout: it is kept for it.
    function test_claims_unreceivablePayoutIsOwed() public {
        vm.deal(address(this), 10 ether);
        uint256 premium = pool.premiumFor(1 ether);
        uint256 coverId = pool.buyCover{value: premium}(s, 1 ether);
        _proveFault();
        (bool ok,) = address(pool).call{value: 1 ether}("");
        vm.assertTrue(ok, "fund");
        vm.warp(block.timestamp + CLAIM_WINDOW + 1);
        refuse = true;
        pool.payClaim(coverId);
        vm.assertEq(pool.owed(address(this)), 1 ether, "owed");
        vm.assertEq(pool.totalOwed(), 1 ether, "total owed");
        refuse = false;
        uint256 before = address(this).balance;
        pool.withdrawOwed();
        vm.assertEq(address(this).balance - before, 1 ether, "withdrawn");
    }

    bool internal refuse;

    receive() external payable {
        require(!refuse, "no thanks");
    }

    function test_noCoverOnFaultyCertificate() public {
        _proveFault();
        uint256 premium = pool.premiumFor(1 ether);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(CompensationPool.CertificateFaulty.selector, id));
        pool.buyCover{value: premium}(s, 1 ether);
    }

    function test_noCoverOnceOutcomeKnown_orAfterWindow() public {
        vm.warp(block.timestamp + COVER_WINDOW + 1);
        uint256 premium0 = pool.premiumFor(1 ether);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(CompensationPool.CoverWindowClosed.selector, uint64(block.timestamp - 1))
        );
        pool.buyCover{value: premium0}(s, 1 ether);
        vm.warp(block.timestamp - COVER_WINDOW - 1);
        rootSource.settle(1, s.stateRoot);
        uint256 premium = pool.premiumFor(1 ether);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(CompensationPool.OutcomeKnown.selector, id));
        pool.buyCover{value: premium}(s, 1 ether);
    }

    function test_collateral_lockedWhileRegistered_thenDelayed() public {
        address op = operators[0];
        vm.prank(op);
        vm.expectRevert(CompensationPool.CollateralIsLocked.selector);
        pool.withdrawCollateral(1 ether);
        am.deregisterFromOperatorSets(op, address(registrar));
        uint64 unlockAt = uint64(block.timestamp) + WITHDRAWAL_DELAY;
        vm.prank(op);
        vm.expectRevert(abi.encodeWithSelector(CompensationPool.WithdrawalDelay.selector, unlockAt));
        pool.withdrawCollateral(1 ether);
        vm.warp(unlockAt);
        uint256 before = op.balance;
        vm.prank(op);
        pool.withdrawCollateral(1 ether);
        vm.assertEq(op.balance - before, 1 ether, "withdrawn");
        vm.assertEq(pool.totalCollateral(), 2 * MIN_COLLATERAL, "total collateral");
    }

    function test_poolRoles() public {
        vm.expectRevert(CompensationPool.Unauthorized.selector);
        pool.forfeit(operators[0], bytes32(0));
        vm.expectRevert(CompensationPool.Unauthorized.selector);
        pool.recordFault(id);
        vm.expectRevert(CompensationPool.Unauthorized.selector);
        pool.lock(operators[0], 0);
    }

    // ---------------------------------------------------------------- rollup registry

    function test_rollup_registrationRules() public {
        ICanonicalRootSource src = ICanonicalRootSource(address(rootSource));
        vm.expectRevert(abi.encodeWithSelector(RollupRegistry.InvalidThreshold.selector, 6_666));
        verifier.register(902, GENESIS_HASH, GENESIS_ROOT, 6_666, src);
        vm.expectRevert(abi.encodeWithSelector(RollupRegistry.InvalidThreshold.selector, 10_001));
        verifier.register(902, GENESIS_HASH, GENESIS_ROOT, 10_001, src);
        vm.expectRevert(RollupRegistry.ZeroGenesis.selector);
        verifier.register(902, bytes32(0), GENESIS_ROOT, 7_000, src);
        vm.expectRevert(RollupRegistry.ZeroGenesis.selector);
        verifier.register(902, GENESIS_HASH, bytes32(0), 7_000, src);
        // A taken chain id is the current owner's to register again (new source, new id), nobody else's.
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(RollupRegistry.ChainAlreadyRegistered.selector, L2_CHAIN_ID, rollupId)
        );
        verifier.register(L2_CHAIN_ID, GENESIS_HASH, GENESIS_ROOT, 7_000, src);
        uint64 again = verifier.register(L2_CHAIN_ID, GENESIS_HASH, GENESIS_ROOT, 7_000, src);
        vm.assertEq(
            uint256(verifier.rollupIdOfChain(L2_CHAIN_ID)), uint256(again), "chain id names the new rollup"
        );
        vm.prank(alice);
        uint64 second = verifier.register{value: 1 ether}(902, GENESIS_HASH, GENESIS_ROOT, 7_000, src);
        RollupRegistry.Rollup memory r = verifier.getRollup(second);
        vm.assertEq(r.owner, alice, "owner");
        vm.assertEq(r.feeBalance, 1 ether, "fees");
        vm.assertEq(uint256(r.thresholdBps), 7_000, "threshold");
    }

    function test_rollup_ownerUpdatesAndFees() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(RollupRegistry.NotRollupOwner.selector, rollupId));
        verifier.setThreshold(rollupId, 9_000);
        verifier.setThreshold(rollupId, 9_000);
        vm.assertEq(uint256(verifier.getRollup(rollupId).thresholdBps), 9_000, "threshold");
        verifier.transferRollupOwnership(rollupId, alice);
        vm.expectRevert(abi.encodeWithSelector(RollupRegistry.NotRollupOwner.selector, rollupId));
        verifier.setPaused(rollupId, true);

        vm.prank(bob);
        verifier.fund{value: 3 ether}(rollupId);
        vm.expectRevert(RollupRegistry.Unauthorized.selector);
        verifier.collectFees(rollupId, 1 ether);
        vm.prank(TREASURY);
        verifier.collectFees(rollupId, 2 ether);
        vm.assertEq(TREASURY.balance, 2 ether, "treasury paid");
        vm.assertEq(verifier.getRollup(rollupId).feeBalance, 1 ether, "remaining fees");
    }

    function test_postedRootSource_postOnceByPoster() public {
        PostedRootSource src = new PostedRootSource(alice);
        (bool settled,) = src.canonicalStateRoot(5);
        vm.assertFalse(settled, "unknown");
        vm.expectRevert(PostedRootSource.Unauthorized.selector);
        src.post(5, keccak256("r"));
        vm.prank(alice);
        src.post(5, keccak256("r"));
        bytes32 root;
        (settled, root) = src.canonicalStateRoot(5);
        vm.assertTrue(settled, "settled");
        vm.assertEq(root, keccak256("r"), "root");
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(PostedRootSource.AlreadyPosted.selector, 5));
        src.post(5, keccak256("other"));
        vm.prank(alice);
        vm.expectRevert(PostedRootSource.ZeroRoot.selector);
        src.post(6, bytes32(0));
    }
}
