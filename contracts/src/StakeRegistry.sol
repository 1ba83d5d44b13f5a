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
///      in the active set (and therefore in the APK) at that block.
abstract contract StakeRegistry is KeyRegistry {
    using Checkpoints for History;

    uint32 public constant OPERATOR_SET_ID = 0;
    /// @dev Bit of a stake checkpoint value marking the key as active; the low 128 bits hold stake.
    uint192 private constant ACTIVE = uint192(1) << 191;

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

    /// @dev Marks a newly registered operator active with its current stake.
    function _registerStake(address operator) internal {
        address[] memory one = new address[](1);
        one[0] = operator;
        _write(operator, true, _readStakes(one)[0]);
    }

    /// @dev Marks a deregistered operator inactive (stake 0).
    function _deregisterStake(address operator) internal {
        _write(operator, false, 0);
    }

    /// @notice Refreshes the stake of active operators from EigenLayer. Permissionless: keepers call
    ///         it after allocations, delegations or slashings change. Inactive operators are skipped.
    function update(address[] memory operators) public {
        uint256[] memory stakes = _readStakes(operators);
        for (uint256 i; i < operators.length; ++i) {
            bytes32 keyHash = keyHashOf[operators[i]];
            if (keyHash != bytes32(0) && stakeHistory[keyHash].latest() & ACTIVE != 0) {
                _write(operators[i], true, stakes[i]);
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

    function _write(address operator, bool active, uint256 stake) private {
        if (stake > type(uint128).max) revert StakeOverflow(stake);
        bytes32 keyHash = keyHashOf[operator];
        if (keyHash == bytes32(0)) revert NoKey(operator);
        History storage h = stakeHistory[keyHash];
        (, uint256 old) = _unpack(h.latest());
        // forge-lint: disable-next-line(unsafe-typecast)
        h.push((active ? ACTIVE : 0) | uint192(stake)); // stake < 2^128, checked above
        // forge-lint: disable-next-line(unsafe-typecast)
        totalHistory.push(uint192(totalHistory.latest() - old + stake)); // Σ of values < 2^128 each
        emit StakeUpdated(operator, keyHash, active, stake);
    }

    /// @dev Splits a stake checkpoint value into the active bit and the stake (low 128 bits).
    function _unpack(uint192 v) private pure returns (bool active, uint256 stake) {
        return (v & ACTIVE != 0, uint256(v) & type(uint128).max);
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    function stakeOf(address operator) external view returns (bool active, uint256 stake) {
        uint192 v = stakeHistory[keyHashOf[operator]].latest();
        return _unpack(v);
    }

    function totalStake() external view returns (uint256) {
        return totalHistory.latest();
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
        return totalHistory.at(blockNumber, index);
    }

    /// @notice Total stake at `blockNumber` and the summed stake of `keyHashes`, each of which must
    ///         have been active then.
    function signerStakes(
        uint32 blockNumber,
        uint256 totalIndex,
        bytes32[] memory keyHashes,
        uint32[] calldata indices
    ) public view returns (uint256 total, uint256 nonSignerStake) {
        if (indices.length != keyHashes.length) revert LengthMismatch();
        total = totalHistory.at(blockNumber, totalIndex);
        for (uint256 i; i < keyHashes.length; ++i) {
            uint192 v = stakeHistory[keyHashes[i]].at(blockNumber, indices[i]);
            if (v & ACTIVE == 0) revert NotActive(keyHashes[i]);
            (, uint256 stake) = _unpack(v);
            nonSignerStake += stake;
        }
    }

    function stakeIndexAt(bytes32 keyHash, uint32 blockNumber) public view returns (uint256) {
        return stakeHistory[keyHash].indexAt(blockNumber);
    }

    function totalStakeIndexAt(uint32 blockNumber) public view returns (uint256) {
        return totalHistory.indexAt(blockNumber);
    }
}
