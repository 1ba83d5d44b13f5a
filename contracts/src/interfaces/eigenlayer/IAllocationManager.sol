// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @dev EigenLayer core v1.x (pre-redistribution) `OperatorSet`, as shipped by
///      eigenlayer-contract-deployer 0.4.0.
struct OperatorSet {
    address avs;
    uint32 id;
}

/// @title IAllocationManager
/// @notice The subset of EigenLayer's AllocationManager (core v1.x, the bytecode shipped by
///         eigenlayer-contract-deployer 0.4.0) that Surety calls. Signatures match that ABI exactly;
///         in this version `slashOperator` returns nothing.
interface IAllocationManager {
    struct CreateSetParams {
        uint32 operatorSetId;
        address[] strategies;
    }

    struct SlashingParams {
        address operator;
        uint32 operatorSetId;
        address[] strategies;
        uint256[] wadsToSlash;
        string description;
    }

    struct DeregisterParams {
        address operator;
        address avs;
        uint32[] operatorSetIds;
    }

    function updateAVSMetadataURI(address avs, string calldata metadataURI) external;
    function createOperatorSets(address avs, CreateSetParams[] calldata params) external;
    function setAVSRegistrar(address avs, address registrar) external;
    function slashOperator(address avs, SlashingParams calldata params) external;
    /// @notice Callable by the operator or by the AVS (which ejects the operator).
    function deregisterFromOperatorSets(DeregisterParams calldata params) external;

    function isMemberOfOperatorSet(address operator, OperatorSet calldata operatorSet)
        external
        view
        returns (bool);
    function isOperatorSlashable(address operator, OperatorSet calldata operatorSet)
        external
        view
        returns (bool);
    function getStrategiesInOperatorSet(OperatorSet calldata operatorSet)
        external
        view
        returns (address[] memory strategies);
    /// @notice Per operator and strategy: delegated shares × allocated magnitude / max magnitude,
    ///         counting pending allocation changes that take effect by `futureBlock`.
    function getMinimumSlashableStake(
        OperatorSet calldata operatorSet,
        address[] calldata operators,
        address[] calldata strategies,
        uint32 futureBlock
    ) external view returns (uint256[][] memory slashableStake);
}
