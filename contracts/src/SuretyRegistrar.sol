// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IAllocationManager} from "./interfaces/eigenlayer/IAllocationManager.sol";
import {IAVSRegistrar} from "./interfaces/eigenlayer/IAVSRegistrar.sol";
import {OperatorRegistry} from "./OperatorRegistry.sol";
import {CompensationPool} from "./CompensationPool.sol";

/// @title SuretyRegistrar
/// @notice The Surety AVS identity on EigenLayer and its operator-set registrar. Its address is the
///         `avs` of operator set 0; it receives the AllocationManager's registration callbacks and is
///         the only caller of `AllocationManager.slashOperator` (on the slasher's behalf), so no
///         PermissionController appointees are needed.
contract SuretyRegistrar is IAVSRegistrar {
    uint32 public constant OPERATOR_SET_ID = 0;

    IAllocationManager public immutable allocationManager;
    OperatorRegistry public immutable registry;
    CompensationPool public immutable pool;
    /// @notice Collateral (wei) an operator must hold in the pool to register.
    uint256 public immutable minCollateral;
    address public owner;
    /// @notice Proposed owner, who must accept (two-step transfer).
    address public pendingOwner;
    address public slasher;

    event OperatorRegistered(address indexed operator);
    event OperatorDeregistered(address indexed operator);
    event OperatorSlashed(address indexed operator, uint256 wad, string description);
    /// @notice EigenLayer refused the slash (e.g. the operator is no longer slashable); the
    ///         collateral is still forfeited by the slasher.
    event SlashFailed(address indexed operator, bytes reason);
    /// @notice A punished operator was removed from the operator set (key out of the APK).
    event OperatorEjected(address indexed operator);
    event EjectionFailed(address indexed operator, bytes reason);
    event OwnershipTransferStarted(address indexed pendingOwner);
    event OwnershipTransferred(address indexed owner);

    error ZeroAddress();
    error Unauthorized();
    error AlreadyInitialized();
    error WrongAVS(address avs);
    error WrongOperatorSets();

    constructor(
        IAllocationManager allocationManager_,
        OperatorRegistry registry_,
        CompensationPool pool_,
        uint256 minCollateral_,
        address owner_
    ) {
        if (
            address(allocationManager_) == address(0) || address(registry_) == address(0)
                || address(pool_) == address(0) || owner_ == address(0)
        ) revert ZeroAddress();
        allocationManager = allocationManager_;
        registry = registry_;
        pool = pool_;
        minCollateral = minCollateral_;
        owner = owner_;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert Unauthorized();
        _;
    }

    modifier onlyAllocationManager(address avs, uint32[] calldata operatorSetIds) {
        if (msg.sender != address(allocationManager)) revert Unauthorized();
        if (avs != address(this)) revert WrongAVS(avs);
        if (operatorSetIds.length != 1 || operatorSetIds[0] != OPERATOR_SET_ID) revert WrongOperatorSets();
        _;
    }

    /// @notice One-time setup by the owner: sets the slasher, publishes the AVS metadata, creates
    ///         operator set 0 over `strategies` (ascending addresses) and installs this registrar.
    function initialize(address slasher_, string calldata metadataURI, address[] calldata strategies)
        external
        onlyOwner
    {
        if (slasher != address(0)) revert AlreadyInitialized();
        if (slasher_ == address(0)) revert ZeroAddress();
        slasher = slasher_;
        allocationManager.updateAVSMetadataURI(address(this), metadataURI);
        IAllocationManager.CreateSetParams[] memory sets = new IAllocationManager.CreateSetParams[](1);
        sets[0] = IAllocationManager.CreateSetParams({operatorSetId: OPERATOR_SET_ID, strategies: strategies});
        allocationManager.createOperatorSets(address(this), sets);
        allocationManager.setAVSRegistrar(address(this), address(this));
    }

    function updateMetadataURI(string calldata metadataURI) external onlyOwner {
        allocationManager.updateAVSMetadataURI(address(this), metadataURI);
    }

    /// @notice Proposes `newOwner`; ownership moves only when it calls `acceptOwnership`, so a
    ///         mistyped address cannot take the AVS identity with it.
    function transferOwnership(address newOwner) external onlyOwner {
        pendingOwner = newOwner;
        emit OwnershipTransferStarted(newOwner);
    }

    function acceptOwnership() external {
        if (msg.sender != pendingOwner) revert Unauthorized();
        owner = msg.sender;
        pendingOwner = address(0);
        emit OwnershipTransferred(msg.sender);
    }

    function supportsAVS(address avs) external view returns (bool) {
        return avs == address(this);
    }

    /// @notice AllocationManager callback: requires a registered BLS key and `minCollateral` in the
    ///         pool, locks the collateral and adds the operator to the active set.
    function registerOperator(address operator, address avs, uint32[] calldata operatorSetIds, bytes calldata)
        external
        onlyAllocationManager(avs, operatorSetIds)
    {
        pool.lock(operator, minCollateral);
        registry.activate(operator);
        emit OperatorRegistered(operator);
    }

    /// @notice AllocationManager callback: removes the operator from the active set and starts its
    ///         collateral withdrawal delay.
    function deregisterOperator(address operator, address avs, uint32[] calldata operatorSetIds)
        external
        onlyAllocationManager(avs, operatorSetIds)
    {
        registry.deactivate(operator);
        pool.unlock(operator);
        emit OperatorDeregistered(operator);
    }

    /// @notice Slashes `wad` (1e18 = all) of the operator's allocation in every strategy of the set
    ///         and ejects the operator from the set (slasher only): a punished operator keeps no
    ///         seat, no key in the APK and no voting weight. Returns whether EigenLayer took the
    ///         stake; refusals are logged instead of reverting, so one unslashable operator cannot
    ///         shield the others in a batch.
    function slash(address operator, uint256 wad, string calldata description)
        external
        returns (bool slashed)
    {
        if (msg.sender != slasher) revert Unauthorized();
        slashed = _slash(operator, wad, description);
        _eject(operator);
    }

    function _slash(address operator, uint256 wad, string calldata description) private returns (bool) {
        address[] memory strategies = allocationManager.getStrategiesInOperatorSet(registry.operatorSet());
        _sortAscending(strategies);
        uint256[] memory wads = new uint256[](strategies.length);
        for (uint256 i; i < wads.length; ++i) {
            wads[i] = wad;
        }
        IAllocationManager.SlashingParams memory params = IAllocationManager.SlashingParams({
            operator: operator,
            operatorSetId: OPERATOR_SET_ID,
            strategies: strategies,
            wadsToSlash: wads,
            description: description
        });
        try allocationManager.slashOperator(address(this), params) {
            emit OperatorSlashed(operator, wad, description);
            return true;
        } catch (bytes memory reason) {
            emit SlashFailed(operator, reason);
            return false;
        }
    }

    /// @dev Deregisters the operator from the set; EigenLayer calls `deregisterOperator` back, which
    ///      takes its key out of the APK. It stays slashable for EigenLayer's deallocation delay.
    function _eject(address operator) private {
        if (!allocationManager.isMemberOfOperatorSet(operator, registry.operatorSet())) return;
        uint32[] memory ids = new uint32[](1);
        ids[0] = OPERATOR_SET_ID;
        try allocationManager.deregisterFromOperatorSets(
            IAllocationManager.DeregisterParams({operator: operator, avs: address(this), operatorSetIds: ids})
        ) {
            emit OperatorEjected(operator);
        } catch (bytes memory reason) {
            emit EjectionFailed(operator, reason);
        }
    }

    /// @dev The AllocationManager requires strategies in ascending order; sets are small.
    function _sortAscending(address[] memory a) private pure {
        for (uint256 i = 1; i < a.length; ++i) {
            address x = a[i];
            uint256 j = i;
            while (j > 0 && a[j - 1] > x) {
                a[j] = a[j - 1];
                --j;
            }
            a[j] = x;
        }
    }
}
