// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IAVSRegistrar
/// @notice The callback EigenLayer's AllocationManager (core v1.x) makes into an AVS's registrar.
///         `setAVSRegistrar` requires `supportsAVS(avs)` to return true.
interface IAVSRegistrar {
    function registerOperator(
        address operator,
        address avs,
        uint32[] calldata operatorSetIds,
        bytes calldata data
    ) external;
    function deregisterOperator(address operator, address avs, uint32[] calldata operatorSetIds) external;
    function supportsAVS(address avs) external view returns (bool);
}
