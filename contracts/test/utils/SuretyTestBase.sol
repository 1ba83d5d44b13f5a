// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS12381} from "../../src/libraries/BLS12381.sol";
import {Statement} from "../../src/libraries/StatementLib.sol";
import {Mismatch} from "../../src/libraries/MismatchLib.sol";
import {IAllocationManager} from "../../src/interfaces/eigenlayer/IAllocationManager.sol";
import {ICanonicalRootSource} from "../../src/interfaces/ICanonicalRootSource.sol";
import {OperatorRegistry} from "../../src/OperatorRegistry.sol";
import {CertificateVerifier, SignerProof} from "../../src/CertificateVerifier.sol";
import {CompensationPool} from "../../src/CompensationPool.sol";
import {SuretyRegistrar} from "../../src/SuretyRegistrar.sol";
import {Slasher} from "../../src/Slasher.sol";
import {MockAllocationManager} from "../mocks/MockAllocationManager.sol";
import {MockRootSource} from "../mocks/MockRootSource.sol";
import {BLSKeys} from "./BLSKeys.sol";
import {vm} from "./Vm.sol";

/// @dev The whole Surety deployment on a fake AllocationManager, in the documented wiring order,
///      plus helpers that register operators with real BLS keys and build signed certificates.
abstract contract SuretyTestBase {
    address internal constant STRATEGY_A = address(0x5A);
    address internal constant STRATEGY_B = address(0x5B);
    address internal constant TREASURY = address(0x7EA);
    uint256 internal constant MIN_COLLATERAL = 1 ether;
    uint256 internal constant BOND = 0.1 ether;
    uint32 internal constant MAX_REFERENCE_AGE = 256;
    uint16 internal constant PREMIUM_BPS = 100;
    uint64 internal constant CLAIM_WINDOW = 7 days;
    uint64 internal constant WITHDRAWAL_DELAY = 14 days;
    uint64 internal constant COVER_WINDOW = 1 days;
    uint64 internal constant L2_CHAIN_ID = 901;
    bytes32 internal constant GENESIS_HASH = keccak256("genesis block");
    bytes32 internal constant GENESIS_ROOT = keccak256("genesis root");

    MockAllocationManager internal am;
    MockRootSource internal rootSource;
    OperatorRegistry internal registry;
    CertificateVerifier internal verifier;
    CompensationPool internal pool;
    SuretyRegistrar internal registrar;
    Slasher internal slasher;
    uint64 internal rollupId;
    /// @dev Share of the allocation each fault slashes in the next `_deploy`.
    uint256 internal slashWad = 1e18;

    /// @dev A deployment, to hand to helper contracts that must not embed every creation code.
    struct World {
        MockAllocationManager am;
        MockRootSource rootSource;
        OperatorRegistry registry;
        CertificateVerifier verifier;
        CompensationPool pool;
        SuretyRegistrar registrar;
        Slasher slasher;
        uint64 rollupId;
    }

    address[] internal operators;
    uint256[] internal secretKeys;
    bytes[] internal publicKeys;

    function _deploy() internal {
        vm.roll(100);
        vm.warp(1_000_000);
        am = new MockAllocationManager();
        registry = new OperatorRegistry(IAllocationManager(address(am)));
        verifier = new CertificateVerifier(registry, MAX_REFERENCE_AGE, TREASURY);
        pool = new CompensationPool(verifier, PREMIUM_BPS, CLAIM_WINDOW, WITHDRAWAL_DELAY, COVER_WINDOW);
        registrar = new SuretyRegistrar(
            IAllocationManager(address(am)), registry, pool, MIN_COLLATERAL, address(this)
        );
        slasher = new Slasher(verifier, registrar, pool, BOND, slashWad);
        registry.initialize(address(registrar));
        verifier.initialize(address(slasher));
        pool.initialize(address(registrar), address(slasher));
        address[] memory strategies = new address[](2);
        strategies[0] = STRATEGY_A;
        strategies[1] = STRATEGY_B;
        registrar.initialize(address(slasher), "https://surety.example/avs.json", strategies);
        rootSource = new MockRootSource();
        rollupId = verifier.register(
            L2_CHAIN_ID, GENESIS_HASH, GENESIS_ROOT, 6_667, ICanonicalRootSource(rootSource)
        );
    }

    function _world() internal view returns (World memory) {
        return World(am, rootSource, registry, verifier, pool, registrar, slasher, rollupId);
    }

    function _adopt(World memory w) internal {
        am = w.am;
        rootSource = w.rootSource;
        registry = w.registry;
        verifier = w.verifier;
        pool = w.pool;
        registrar = w.registrar;
        slasher = w.slasher;
        rollupId = w.rollupId;
    }

    function _operatorAddress(uint256 seed) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encode("surety operator", seed)))));
    }

    /// @dev Registers key, collateral and operator-set membership for a new operator.
    function _addOperator(uint256 seed, uint256 stake) internal returns (address op) {
        op = _operatorAddress(seed);
        uint256 sk = BLSKeys.secretKey(seed);
        bytes memory pk = BLSKeys.publicKey(sk);
        bytes memory pop = BLSKeys.popFor(sk, registry.popMessage(op, keccak256(pk)));
        vm.prank(op);
        registry.registerKey(pk, pop);
        vm.deal(op, 10 ether);
        vm.prank(op);
        pool.depositCollateral{value: MIN_COLLATERAL}();
        am.setStake(op, STRATEGY_A, stake / 2);
        am.setStake(op, STRATEGY_B, stake - stake / 2);
        am.registerForOperatorSets(op, address(registrar));
        operators.push(op);
        secretKeys.push(sk);
        publicKeys.push(pk);
    }

    function _addOperators(uint256 count, uint256 stakeEach) internal {
        for (uint256 i; i < count; ++i) {
            _addOperator(operators.length + 1, stakeEach);
        }
    }

    function _statement(uint64 blockNumber, bytes32 parentHash) internal view returns (Statement memory) {
        return Statement({
            rollupId: rollupId,
            blockNumber: blockNumber,
            blockHash: keccak256(abi.encode("block", blockNumber, parentHash)),
            parentHash: parentHash,
            stateRoot: keccak256(abi.encode("root", blockNumber, parentHash))
        });
    }

    /// @dev Honest reporters' mismatch on the block `_statement(blockNumber, parentHash)` names: the
    ///      rollup claims its root, re-execution gives another.
    function _mismatch(uint64 blockNumber, bytes32 parentHash) internal view returns (Mismatch memory) {
        Statement memory s = _statement(blockNumber, parentHash);
        return Mismatch({
            rollupId: s.rollupId,
            blockNumber: s.blockNumber,
            blockHash: s.blockHash,
            parentHash: s.parentHash,
            claimedStateRoot: s.stateRoot,
            computedStateRoot: keccak256(abi.encode("computed", s.stateRoot))
        });
    }

    /// @dev An alert proof: like `_proof`, over the mismatch report's signing root.
    function _alertProof(Mismatch memory m, uint256 nonSignerMask)
        internal
        view
        returns (SignerProof memory)
    {
        return _proofFor(verifier.mismatchRoot(m), nonSignerMask);
    }

    /// @dev A proof at reference block `block.number - 1` in which operator i signs iff bit i of
    ///      `nonSignerMask` is clear. The aggregate signature is (Σ signer sk)·H(m), equal to the sum
    ///      of the individual signatures.
    function _proof(Statement memory s, uint256 nonSignerMask) internal view returns (SignerProof memory p) {
        return _proofFor(verifier.signingRoot(s), nonSignerMask);
    }

    function _proofFor(bytes32 message, uint256 nonSignerMask) internal view returns (SignerProof memory p) {
        uint32 ref = uint32(block.number - 1);
        p.referenceBlock = ref;
        p.apk = registry.apk();

        uint256 n = operators.length;
        uint256 count;
        bytes32[] memory hashes = new bytes32[](n);
        uint256[] memory idx = new uint256[](n);
        uint256 skSum;
        for (uint256 i; i < n; ++i) {
            if (nonSignerMask >> i & 1 == 1) {
                hashes[count] = keccak256(publicKeys[i]);
                idx[count] = i;
                ++count;
            } else {
                skSum = addmod(skSum, secretKeys[i], BLSKeys.R);
            }
        }
        // Insertion sort by key hash (the verifier requires ascending order).
        for (uint256 i = 1; i < count; ++i) {
            (bytes32 h, uint256 k) = (hashes[i], idx[i]);
            uint256 j = i;
            while (j > 0 && hashes[j - 1] > h) {
                (hashes[j], idx[j]) = (hashes[j - 1], idx[j - 1]);
                --j;
            }
            (hashes[j], idx[j]) = (h, k);
        }
        bytes32[] memory sorted = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            sorted[i] = hashes[i];
            p.nonSignerKeys = bytes.concat(p.nonSignerKeys, publicKeys[idx[i]]);
        }
        (p.apkIndex, p.totalStakeIndex, p.nonSignerStakeIndices) = registry.quorumHints(ref, sorted);
        bytes memory hm = BLS12381.hashToG1(abi.encodePacked(message), BLSKeys.SIG_DST);
        p.signature = skSum == 0 ? new bytes(128) : BLSKeys.mul(hm, skSum);
    }

    /// @dev Non-signer key hashes of `mask`, ascending (as the slasher expects them).
    function _nonSignerHashes(uint256 mask) internal view returns (bytes32[] memory out) {
        uint256 count;
        for (uint256 i; i < operators.length; ++i) {
            if (mask >> i & 1 == 1) ++count;
        }
        out = new bytes32[](count);
        uint256 k;
        for (uint256 i; i < operators.length; ++i) {
            if (mask >> i & 1 == 1) out[k++] = keccak256(publicKeys[i]);
        }
        for (uint256 i = 1; i < count; ++i) {
            bytes32 h = out[i];
            uint256 j = i;
            while (j > 0 && out[j - 1] > h) {
                out[j] = out[j - 1];
                --j;
            }
            out[j] = h;
        }
    }
}
