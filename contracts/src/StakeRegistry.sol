// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IAllocationManager, OperatorSet} from "./interfaces/eigenlayer/IAllocationManager.sol";
import {KeyRegistry} from "./KeyRegistry.sol";
import {Checkpoints, History} from "./libraries/Checkpoints.sol";

/// @title StakeRegistry
/// @notice Slashable stake of each Surety operator and of the whole set, read from EigenLayer's
///         AllocationManager and checkpointed by L1 block. Deployed as part of `OperatorRegistry`.
/// @dev An operator's stake is the sum over the operator set's strategies of
///      `getMinimumSlashableStake` (delegated shares × allocated magnitude / max magnitude), i.e.
///      strategy shares weighted 1:1. Histories are keyed by BLS key hash, so the verifier goes from a
///      non-signer's key to its stake with one SLOAD; each checkpoint also records whether the key was
///      in the active set (and therefore in the APK) at that block, and the operator's locked
///      collateral in the pool (in `COLLATERAL_UNIT`s, rounded down): the ETH a fault of its
///      signers forfeits, which bounds the cover sold on a certificate. Both ride in the same slot,
///      so the verifier learns the signers' collateral without another SLOAD.
abstract contract StakeRegistry is KeyRegistry {
    using Checkpoints for History;

    uint32 public constant OPERATOR_SET_ID = 0;
    /// @notice Collateral is checkpointed in units of 10^12 wei (a micro-ether), rounded down.
    uint256 public constant COLLATERAL_UNIT = 1e12;
    /// @dev Bit of a stake checkpoint value marking the key as active; bits 128–190 hold collateral
    ///      units, the low 128 bits stake. Total checkpoints hold Σ collateral units in bits 128–191.
    uint192 private constant ACTIVE = uint192(1) << 191;
    uint256 private constant STAKE_MASK = type(uint128).max;
    uint256 private constant MAX_OPERATOR_COLLATERAL = (1 << 63) - 1;

    IAllocationManager public immutable allocationManager;

    mapping(bytes32 keyHash => History) private stakeHistory;
    History private totalHistory;

    event StakeUpdated(address indexed operator, bytes32 indexed keyHash, bool active, uint256 stake);

    error NotActive(bytes32 keyHash);
    error StakeOverflow(uint256 stake);
    error LengthMismatch();

    constructor(IAllocationManager allocationManager_) {
        allocationManager = allocationManager_;
        totalHistory.push(0);
    }

    /// @notice The Surety operator set (its `avs` is the registrar).
    function operatorSet() public view virtual returns (OperatorSet memory);

    /// @dev The operator's locked collateral in the compensation pool (wei).
    function _collateralOf(address operator) internal view virtual returns (uint256);

    /// @dev Marks a newly registered operator active with its current stake and collateral.
    function _registerStake(address operator) internal {
        address[] memory one = new address[](1);
        one[0] = operator;
        _write(operator, true, _readStakes(one)[0], _collateralOf(operator));
    }

    /// @dev Marks a deregistered operator inactive (stake and collateral 0).
    function _deregisterStake(address operator) internal {
        _write(operator, false, 0, 0);
    }

    /// @notice Refreshes the stake and collateral of active operators. Permissionless: keepers call
    ///         it after allocations, delegations, slashings or collateral top-ups. Inactive operators
    ///         are skipped.
    function update(address[] memory operators) public {
        uint256[] memory stakes = _readStakes(operators);
        for (uint256 i; i < operators.length; ++i) {
            bytes32 keyHash = keyHashOf[operators[i]];
            if (keyHash != bytes32(0) && stakeHistory[keyHash].latest() & ACTIVE != 0) {
                _write(operators[i], true, stakes[i], _collateralOf(operators[i]));
            }
        }
    }

    function _readStakes(address[] memory operators) private view returns (uint256[] memory stakes) {
        stakes = new uint256[](operators.length);
        OperatorSet memory set = operatorSet();
        address[] memory strategies = allocationManager.getStrategiesInOperatorSet(set);
        if (strategies.length == 0 || operators.length == 0) return stakes;
        uint256[][] memory perStrategy =
            allocationManager.getMinimumSlashableStake(set, operators, strategies, uint32(block.number));
        for (uint256 i; i < operators.length; ++i) {
            for (uint256 j; j < strategies.length; ++j) {
                stakes[i] += perStrategy[i][j];
            }
        }
    }

    function _write(address operator, bool active, uint256 stake, uint256 collateral) private {
        if (stake > STAKE_MASK) revert StakeOverflow(stake);
        uint256 units = collateral / COLLATERAL_UNIT;
        if (units > MAX_OPERATOR_COLLATERAL) units = MAX_OPERATOR_COLLATERAL; // only ever a lower bound
        bytes32 keyHash = keyHashOf[operator];
        if (keyHash == bytes32(0)) revert NoKey(operator);
        History storage h = stakeHistory[keyHash];
        uint256 old = uint256(h.latest()) & ~uint256(ACTIVE);
        // forge-lint: disable-next-line(unsafe-typecast)
        h.push((active ? ACTIVE : 0) | uint192(units << 128 | stake)); // < 2^191, bounded above
        // Stake and collateral sums cannot carry into each other: each is a sum of values below
        // 2^128 and 2^63, and there are far fewer than 2^64 operators.
        // forge-lint: disable-next-line(unsafe-typecast)
        totalHistory.push(uint192(uint256(totalHistory.latest()) - old + (units << 128 | stake)));
        emit StakeUpdated(operator, keyHash, active, stake);
    }

    /// @dev Splits a stake checkpoint value into the active bit and the stake (low 128 bits).
    function _unpack(uint192 v) private pure returns (bool active, uint256 stake) {
        return (v & ACTIVE != 0, uint256(v) & STAKE_MASK);
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    function stakeOf(address operator) external view returns (bool active, uint256 stake) {
        uint192 v = stakeHistory[keyHashOf[operator]].latest();
        return _unpack(v);
    }

    function totalStake() external view returns (uint256) {
        return uint256(totalHistory.latest()) & STAKE_MASK;
    }

    /// @notice Locked collateral (wei, rounded down to `COLLATERAL_UNIT`) of the active set.
    function totalCollateral() external view returns (uint256) {
        return (uint256(totalHistory.latest()) >> 128) * COLLATERAL_UNIT;
    }

    /// @notice Whether key `keyHash` was active at `blockNumber` and its stake then, proven by
    ///         checkpoint `index`.
    function stakeAt(bytes32 keyHash, uint32 blockNumber, uint256 index)
        external
        view
        returns (bool active, uint256 stake)
    {
        uint192 v = stakeHistory[keyHash].at(blockNumber, index);
        return _unpack(v);
    }

    function totalStakeAt(uint32 blockNumber, uint256 index) external view returns (uint256) {
        return uint256(totalHistory.at(blockNumber, index)) & STAKE_MASK;
    }

    /// @notice Total stake at `blockNumber` and the summed stake of `keyHashes`, each of which must
    ///         have been active then.
    function signerStakes(
        uint32 blockNumber,
        uint256 totalIndex,
        bytes32[] memory keyHashes,
        uint32[] calldata indices
    ) public view returns (uint256 total, uint256 nonSignerStake) {
        (total, nonSignerStake,) = _signerStakes(blockNumber, totalIndex, keyHashes, indices);
    }

    /// @dev As `signerStakes`, plus the signers' collateral in units (total minus non-signers').
    function _signerStakes(
        uint32 blockNumber,
        uint256 totalIndex,
        bytes32[] memory keyHashes,
        uint32[] calldata indices
    ) internal view returns (uint256 total, uint256 nonSignerStake, uint256 signerCollateralUnits) {
        if (indices.length != keyHashes.length) revert LengthMismatch();
        uint256 t = totalHistory.at(blockNumber, totalIndex);
        uint256 nonSigners;
        for (uint256 i; i < keyHashes.length; ++i) {
            uint192 v = stakeHistory[keyHashes[i]].at(blockNumber, indices[i]);
            if (v & ACTIVE == 0) revert NotActive(keyHashes[i]);
            nonSigners += uint256(v) & ~uint256(ACTIVE);
        }
        // Packed sums subtract field-wise without borrowing: the non-signers are part of the set
        // whose stake and collateral the total sums.
        return (t & STAKE_MASK, nonSigners & STAKE_MASK, (t - nonSigners) >> 128);
    }

    function stakeIndexAt(bytes32 keyHash, uint32 blockNumber) public view returns (uint256) {
        return stakeHistory[keyHash].indexAt(blockNumber);
    }

    function totalStakeIndexAt(uint32 blockNumber) public view returns (uint256) {
        return totalHistory.indexAt(blockNumber);
    }
}
