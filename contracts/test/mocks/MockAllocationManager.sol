// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IAllocationManager, OperatorSet} from "../../src/interfaces/eigenlayer/IAllocationManager.sol";
import {IAVSRegistrar} from "../../src/interfaces/eigenlayer/IAVSRegistrar.sol";

/// @dev Stand-in for EigenLayer's AllocationManager (outside the unit under test): operator-set
///      membership, the registrar callbacks, settable slashable stake and a slash that scales it.
///      The real core is exercised by the Rust integration test.
contract MockAllocationManager is IAllocationManager {
    mapping(address avs => string) public metadataURI;
    mapping(address avs => address) public registrarOf;
    mapping(address avs => address[]) private strategies;
    mapping(address operator => mapping(address strategy => uint256)) public stake;
    mapping(address operator => bool) public member;
    bool public refuseSlashing;

    struct SlashCall {
        address operator;
        uint256 wad;
        uint256 strategyCount;
    }

    SlashCall[] public slashCalls;

    error InvalidAVSRegistrar();
    error NonexistentAVSMetadata();
    error Refused();
    error StrategiesMustBeInAscendingOrder();

    function updateAVSMetadataURI(address avs, string calldata uri) external {
        require(msg.sender == avs, "caller");
        metadataURI[avs] = uri;
    }

    function createOperatorSets(address avs, CreateSetParams[] calldata params) external {
        require(msg.sender == avs, "caller");
        if (bytes(metadataURI[avs]).length == 0) revert NonexistentAVSMetadata();
        strategies[avs] = params[0].strategies;
    }

    function setAVSRegistrar(address avs, address registrar) external {
        require(msg.sender == avs, "caller");
        if (!IAVSRegistrar(registrar).supportsAVS(avs)) revert InvalidAVSRegistrar();
        registrarOf[avs] = registrar;
    }

    function setStake(address operator, address strategy, uint256 amount) external {
        stake[operator][strategy] = amount;
    }

    function setRefuseSlashing(bool refuse) external {
        refuseSlashing = refuse;
    }

    function registerForOperatorSets(address operator, address avs) external {
        member[operator] = true;
        uint32[] memory ids = new uint32[](1);
        IAVSRegistrar(registrarOf[avs]).registerOperator(operator, avs, ids, "");
    }

    function deregisterFromOperatorSets(address operator, address avs) external {
        member[operator] = false;
        uint32[] memory ids = new uint32[](1);
        IAVSRegistrar(registrarOf[avs]).deregisterOperator(operator, avs, ids);
    }

    function deregisterFromOperatorSets(DeregisterParams calldata params) external {
        require(msg.sender == params.avs || msg.sender == params.operator, "caller");
        member[params.operator] = false;
        IAVSRegistrar(registrarOf[params.avs])
            .deregisterOperator(params.operator, params.avs, params.operatorSetIds);
    }

    function slashOperator(address avs, SlashingParams calldata params) external {
        require(msg.sender == avs, "caller");
        if (refuseSlashing) revert Refused();
        for (uint256 i = 1; i < params.strategies.length; ++i) {
            if (params.strategies[i - 1] >= params.strategies[i]) revert StrategiesMustBeInAscendingOrder();
        }
        for (uint256 i; i < params.strategies.length; ++i) {
            uint256 s = stake[params.operator][params.strategies[i]];
            stake[params.operator][params.strategies[i]] = s - s * params.wadsToSlash[i] / 1e18;
        }
        slashCalls.push(SlashCall(params.operator, params.wadsToSlash[0], params.strategies.length));
    }

    function slashCount() external view returns (uint256) {
        return slashCalls.length;
    }

    function isMemberOfOperatorSet(address operator, OperatorSet calldata) external view returns (bool) {
        return member[operator];
    }

    function isOperatorSlashable(address operator, OperatorSet calldata) external view returns (bool) {
        return member[operator];
    }

    function getStrategiesInOperatorSet(OperatorSet calldata set) external view returns (address[] memory) {
        return strategies[set.avs];
    }

    function getMinimumSlashableStake(
        OperatorSet calldata,
        address[] calldata operators,
        address[] calldata strats,
        uint32
    ) external view returns (uint256[][] memory out) {
        out = new uint256[][](operators.length);
        for (uint256 i; i < operators.length; ++i) {
            out[i] = new uint256[](strats.length);
            for (uint256 j; j < strats.length; ++j) {
                out[i][j] = stake[operators[i]][strats[j]];
            }
        }
    }
}
