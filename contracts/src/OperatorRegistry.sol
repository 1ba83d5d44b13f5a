// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IAllocationManager, OperatorSet} from "./interfaces/eigenlayer/IAllocationManager.sol";
import {StakeRegistry} from "./StakeRegistry.sol";

/// @dev What the registry reads from the registrar and the pool (their full types import this one).
interface IRegistrarPool {
    function pool() external view returns (ICollateral);
}

interface ICollateral {
    function collateralOf(address operator)
        external
        view
        returns (uint256 amount, bool locked, uint64 unlockAt);
}

/// @title OperatorRegistry
/// @notice The deployed key and stake registry of the Surety operator set (`KeyRegistry` +
///         `StakeRegistry`). One contract, so the certificate verifier reads the APK hash, the total
///         stake and every non-signer's stake in a single call.
contract OperatorRegistry is StakeRegistry {
    address private immutable deployer;
    /// @notice The Surety registrar, which is also the AVS address of the operator set.
    address public registrar;

    error AlreadyInitialized();
    error Unauthorized();

    constructor(IAllocationManager allocationManager_) StakeRegistry(allocationManager_) {
        deployer = msg.sender;
    }

    /// @notice One-time wiring by the deployer (the registrar is deployed after this contract).
    function initialize(address registrar_) external {
        if (msg.sender != deployer) revert Unauthorized();
        if (registrar != address(0)) revert AlreadyInitialized();
        registrar = registrar_;
    }

    modifier onlyRegistrar() {
        if (msg.sender != registrar) revert Unauthorized();
        _;
    }

    function operatorSet() public view override returns (OperatorSet memory) {
        return OperatorSet({avs: registrar, id: OPERATOR_SET_ID});
    }

    function _collateralOf(address operator) internal view override returns (uint256 amount) {
        (amount,,) = IRegistrarPool(registrar).pool().collateralOf(operator);
    }

    /// @notice Adds a newly registered operator's key to the APK and records its stake (registrar).
    function activate(address operator) external onlyRegistrar {
        _activate(operator);
        _registerStake(operator);
    }

    /// @notice Removes a deregistered operator's key from the APK, stake 0 (registrar).
    function deactivate(address operator) external onlyRegistrar {
        _deactivate(operator);
        _deregisterStake(operator);
    }

    /// @notice Everything the verifier needs about the set at a past block, proven by checkpoint
    ///         indices: the truncated APK hash, the total stake, the summed stake of `nonSigners`
    ///         (each must have been active, i.e. in the APK, at that block) and the signers' locked
    ///         collateral in `COLLATERAL_UNIT`s.
    function quorumAt(
        uint32 blockNumber,
        uint256 apkIndex,
        uint256 totalIndex,
        bytes32[] memory nonSigners,
        uint32[] calldata nonSignerIndices
    )
        external
        view
        returns (uint192 apkHash, uint256 total, uint256 nonSignerStake, uint256 signerCollateralUnits)
    {
        apkHash = apkHashAt(blockNumber, apkIndex);
        (total, nonSignerStake, signerCollateralUnits) =
            _signerStakes(blockNumber, totalIndex, nonSigners, nonSignerIndices);
    }

    /// @notice Checkpoint hints for a certificate at `blockNumber` with these non-signers (for
    ///         aggregators; binary searches, not for on-chain use).
    function quorumHints(uint32 blockNumber, bytes32[] calldata nonSigners)
        external
        view
        returns (uint32 apkIndex, uint32 totalIndex, uint32[] memory nonSignerIndices)
    {
        apkIndex = uint32(apkIndexAt(blockNumber));
        totalIndex = uint32(totalStakeIndexAt(blockNumber));
        nonSignerIndices = new uint32[](nonSigners.length);
        for (uint256 i; i < nonSigners.length; ++i) {
            nonSignerIndices[i] = uint32(stakeIndexAt(nonSigners[i], blockNumber));
        }
    }
}
