// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS12381} from "../src/libraries/BLS12381.sol";
import {Checkpoints} from "../src/libraries/Checkpoints.sol";
import {KeyRegistry} from "../src/KeyRegistry.sol";
import {OperatorRegistry} from "../src/OperatorRegistry.sol";
import {CompensationPool} from "../src/CompensationPool.sol";
import {SuretyRegistrar} from "../src/SuretyRegistrar.sol";
import {Slasher} from "../src/Slasher.sol";
import {SuretyTestBase} from "./utils/SuretyTestBase.sol";
import {BLSKeys} from "./utils/BLSKeys.sol";
import {vm} from "./utils/Vm.sol";

/// @notice KeyRegistry (PoP, key checks, APK history), StakeRegistry (EigenLayer stake, checkpoints)
///         and the registrar callbacks, through the deployed OperatorRegistry.
contract OperatorRegistryTest is SuretyTestBase {
    address internal op = address(0xA11CE);
    uint256 internal sk = BLSKeys.secretKey(42);
    bytes internal pk;

    function setUp() public {
        _deploy();
        pk = BLSKeys.publicKey(sk);
    }

    function _pop(address who, bytes memory key, uint256 secret) internal view returns (bytes memory) {
        return BLSKeys.popFor(secret, registry.popMessage(who, keccak256(key)));
    }

    // ---------------------------------------------------------------- keys and proofs of possession

    function test_registerKey_bindsKeyToOperator() public {
        bytes memory pop = _pop(op, pk, sk);
        vm.prank(op);
        registry.registerKey(pk, pop);
        vm.assertEq(registry.keyHashOf(op), keccak256(pk), "keyHash");
        vm.assertEq(registry.operatorOf(keccak256(pk)), op, "operator");
        vm.assertEq(registry.publicKeyOf(op), pk, "key");
    }

    function test_popMessage_matchesProtocol() public view {
        bytes32 keyHash = keccak256(pk);
        vm.assertEq(
            registry.popMessage(op, keyHash),
            keccak256(abi.encode(keccak256("surety.pop.v1"), op, block.chainid, address(registry), keyHash)),
            "docs/protocol.md PoP message"
        );
    }

    function test_pop_boundToOperator() public {
        bytes memory pop = _pop(address(0xB0B), pk, sk);
        vm.prank(op);
        vm.expectRevert(KeyRegistry.InvalidProofOfPossession.selector);
        registry.registerKey(pk, pop);
    }

    function test_pop_boundToChain() public {
        bytes memory pop = _pop(op, pk, sk);
        vm.chainId(block.chainid + 1);
        vm.prank(op);
        vm.expectRevert(KeyRegistry.InvalidProofOfPossession.selector);
        registry.registerKey(pk, pop);
    }

    function test_pop_boundToRegistry() public {
        OperatorRegistry other = new OperatorRegistry(registry.allocationManager());
        bytes memory pop = BLSKeys.popFor(sk, other.popMessage(op, keccak256(pk)));
        vm.prank(op);
        vm.expectRevert(KeyRegistry.InvalidProofOfPossession.selector);
        registry.registerKey(pk, pop);
    }

    function test_pop_isNotAStatementSignature() public {
        // The same key signing the PoP message under the statement DST is not a PoP.
        bytes memory sig = BLSKeys.sign(sk, registry.popMessage(op, keccak256(pk)));
        vm.prank(op);
        vm.expectRevert(KeyRegistry.InvalidProofOfPossession.selector);
        registry.registerKey(pk, sig);
    }

    function test_registerKey_rejectsInfinityKey() public {
        bytes memory pop = _pop(op, pk, sk);
        vm.prank(op);
        vm.expectRevert(BLS12381.PointAtInfinity.selector);
        registry.registerKey(new bytes(256), pop);
    }

    function test_registerKey_rejectsInfinityPop() public {
        vm.prank(op);
        vm.expectRevert(BLS12381.PointAtInfinity.selector);
        registry.registerKey(pk, new bytes(128));
    }

    function test_registerKey_rejectsNonSubgroupKey() public {
        bytes memory key = BLSKeys.G2_NON_SUBGROUP;
        bytes memory pop = _pop(op, key, sk);
        vm.prank(op);
        vm.expectRevert(abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, address(0x0f)));
        registry.registerKey(key, pop);
    }

    function test_registerKey_rejectsOffCurveKey() public {
        bytes memory key = bytes.concat(pk);
        key[255] = key[255] ^ 0x01;
        bytes memory pop = _pop(op, key, sk);
        vm.prank(op);
        vm.expectRevert(abi.encodeWithSelector(BLS12381.PrecompileFailed.selector, address(0x0f)));
        registry.registerKey(key, pop);
    }

    function test_registerKey_rejectsNonCanonicalKey() public {
        bytes memory key = bytes.concat(pk);
        key[0] = 0x01; // padding of x.c0 must be zero
        bytes memory pop = _pop(op, pk, sk);
        vm.prank(op);
        vm.expectRevert(BLS12381.NotCanonical.selector);
        registry.registerKey(key, pop);
    }

    function test_registerKey_rejectsWrongLengths() public {
        bytes memory pop = _pop(op, pk, sk);
        vm.prank(op);
        vm.expectRevert(abi.encodeWithSelector(BLS12381.InvalidLength.selector, 96));
        registry.registerKey(new bytes(96), pop);
    }

    function test_oneKeyPerOperator_oneOperatorPerKey() public {
        bytes memory pop = _pop(op, pk, sk);
        vm.prank(op);
        registry.registerKey(pk, pop);
        uint256 sk2 = BLSKeys.secretKey(43);
        bytes memory pk2 = BLSKeys.publicKey(sk2);
        bytes memory pop2 = _pop(op, pk2, sk2);
        vm.prank(op);
        vm.expectRevert(abi.encodeWithSelector(KeyRegistry.KeyAlreadyRegistered.selector, op));
        registry.registerKey(pk2, pop2);
        // Someone who knows the same secret cannot claim the key for another address.
        address thief = address(0xBAD);
        bytes memory thiefPop = _pop(thief, pk, sk);
        vm.prank(thief);
        vm.expectRevert(abi.encodeWithSelector(KeyRegistry.KeyInUse.selector, keccak256(pk)));
        registry.registerKey(pk, thiefPop);
    }

    // ---------------------------------------------------------------- registration and APK history

    function test_apk_isSumOfActiveKeys_withHistory() public {
        _addOperator(1, 10 ether);
        _addOperator(2, 20 ether);
        uint32 both = uint32(block.number);
        vm.assertEq(registry.apk(), BLS12381.g2Add(publicKeys[0], publicKeys[1]), "apk = pk1 + pk2");
        vm.roll(block.number + 1);
        am.deregisterFromOperatorSets(operators[0], address(registrar));
        vm.assertEq(registry.apk(), publicKeys[1], "apk after leave");
        vm.roll(block.number + 1);
        // The APK at the earlier block is still provable; the current one too.
        uint256 idx = registry.apkIndexAt(both);
        vm.assertEq(
            uint256(registry.apkHashAt(both, idx)),
            uint256(uint192(uint256(keccak256(BLS12381.g2Add(publicKeys[0], publicKeys[1]))))),
            "past apk"
        );
        uint32 last = uint32(block.number - 1);
        vm.assertEq(
            uint256(registry.apkHashAt(last, registry.apkIndexAt(last))),
            uint256(uint192(uint256(keccak256(publicKeys[1])))),
            "current apk"
        );
        vm.expectRevert(abi.encodeWithSelector(Checkpoints.CheckpointMismatch.selector, last, idx));
        registry.apkHashAt(last, idx);
    }

    function test_stake_readFromAllocationManager_andCheckpointed() public {
        address a = _addOperator(1, 10 ether);
        address b = _addOperator(2, 30 ether);
        uint32 before = uint32(block.number);
        (bool active, uint256 stake) = registry.stakeOf(a);
        vm.assertTrue(active, "active");
        vm.assertEq(stake, 10 ether, "stake a");
        vm.assertEq(registry.totalStake(), 40 ether, "total");

        vm.roll(block.number + 1);
        am.setStake(a, STRATEGY_A, 50 ether);
        address[] memory ops = new address[](2);
        ops[0] = a;
        ops[1] = b;
        registry.update(ops);
        (, stake) = registry.stakeOf(a);
        vm.assertEq(stake, 55 ether, "updated stake a");
        vm.assertEq(registry.totalStake(), 85 ether, "updated total");
        vm.assertEq(registry.totalStakeAt(before, registry.totalStakeIndexAt(before)), 40 ether, "past total");
        bytes32 ka = registry.keyHashOf(a);
        (, uint256 past) = registry.stakeAt(ka, before, registry.stakeIndexAt(ka, before));
        vm.assertEq(past, 10 ether, "past stake a");
    }

    function test_update_skipsInactiveOperators() public {
        address a = _addOperator(1, 10 ether);
        am.deregisterFromOperatorSets(a, address(registrar));
        am.setStake(a, STRATEGY_A, 99 ether);
        address[] memory ops = new address[](1);
        ops[0] = a;
        registry.update(ops);
        (bool active, uint256 stake) = registry.stakeOf(a);
        vm.assertFalse(active, "inactive");
        vm.assertEq(stake, 0, "no stake");
        vm.assertEq(registry.totalStake(), 0, "total");
    }

    function test_registration_requiresKeyAndCollateral() public {
        address noKey = address(0x1234);
        vm.deal(noKey, 2 ether);
        vm.prank(noKey);
        pool.depositCollateral{value: 1 ether}();
        vm.expectRevert(abi.encodeWithSelector(KeyRegistry.NoKey.selector, noKey));
        am.registerForOperatorSets(noKey, address(registrar));

        bytes memory pop = _pop(op, pk, sk);
        vm.prank(op);
        registry.registerKey(pk, pop);
        vm.expectRevert(
            abi.encodeWithSelector(CompensationPool.InsufficientCollateral.selector, 0, MIN_COLLATERAL)
        );
        am.registerForOperatorSets(op, address(registrar));
    }

    function test_registrarCallbacks_onlyFromAllocationManager() public {
        uint32[] memory ids = new uint32[](1);
        vm.expectRevert(SuretyRegistrar.Unauthorized.selector);
        registrar.registerOperator(op, address(registrar), ids, "");
        vm.expectRevert(SuretyRegistrar.Unauthorized.selector);
        registrar.deregisterOperator(op, address(registrar), ids);
        vm.expectRevert(OperatorRegistry.Unauthorized.selector);
        registry.activate(op);
        vm.prank(address(am));
        vm.expectRevert(abi.encodeWithSelector(SuretyRegistrar.WrongAVS.selector, address(1)));
        registrar.registerOperator(op, address(1), ids, "");
        ids[0] = 1;
        vm.prank(address(am));
        vm.expectRevert(SuretyRegistrar.WrongOperatorSets.selector);
        registrar.registerOperator(op, address(registrar), ids, "");
    }

    function test_registrar_setupOnAllocationManager() public view {
        vm.assertTrue(registrar.supportsAVS(address(registrar)), "supports itself");
        vm.assertFalse(registrar.supportsAVS(address(1)), "not others");
        vm.assertEq(am.registrarOf(address(registrar)), address(registrar), "registrar installed");
        vm.assertEq(bytes(am.metadataURI(address(registrar))).length > 0, true, "metadata");
    }

    function test_initialize_onlyOnce() public {
        vm.expectRevert(OperatorRegistry.AlreadyInitialized.selector);
        registry.initialize(address(1));
        vm.prank(address(0xBEEF));
        vm.expectRevert(OperatorRegistry.Unauthorized.selector);
        registry.initialize(address(1));
    }

    function test_leaveAndRejoin() public {
        address a = _addOperator(1, 10 ether);
        _addOperator(2, 20 ether);
        vm.roll(block.number + 1);
        am.deregisterFromOperatorSets(a, address(registrar));
        (uint256 amount, bool locked,) = pool.collateralOf(a);
        vm.assertFalse(locked, "unlocked on leave");
        vm.roll(block.number + 1);
        am.registerForOperatorSets(a, address(registrar));
        (amount, locked,) = pool.collateralOf(a);
        vm.assertTrue(locked, "locked again");
        vm.assertEq(amount, MIN_COLLATERAL, "collateral");
        vm.assertEq(registry.apk(), BLS12381.g2Add(publicKeys[0], publicKeys[1]), "apk restored");
        vm.assertEq(registry.totalStake(), 30 ether, "total restored");
    }

    function test_slasher_rejectsInvalidSlashWad() public {
        vm.expectRevert(abi.encodeWithSelector(Slasher.InvalidSlashWad.selector, 0));
        new Slasher(verifier, registrar, pool, BOND, 0);
        vm.expectRevert(abi.encodeWithSelector(Slasher.InvalidSlashWad.selector, 1e18 + 1));
        new Slasher(verifier, registrar, pool, BOND, 1e18 + 1);
    }
}
