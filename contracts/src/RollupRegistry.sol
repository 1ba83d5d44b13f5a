// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ICanonicalRootSource} from "./interfaces/ICanonicalRootSource.sol";

/// @notice What apps should do with a rollup's certificates. `Active`: certificates land and cover
///         is sold. `Paused`: its owner stopped new certificates (and cover); recorded ones stay valid.
///         `Halted`: a circuit-breaker alert stands (`CertificateVerifier.raiseAlert`): operators
///         holding the alert share of stake re-executed a block to another root than the rollup
///         claims; no certificate at or above that height lands and no cover is sold until it clears.
enum RollupStatus {
    Active,
    Paused,
    Halted
}

/// @title RollupRegistry
/// @notice Rollups that buy economic finality from Surety: chain id, genesis, quorum threshold,
///         canonical-root source and fee balance. Each rollup is administered by its own owner.
/// @dev The canonical-root source is fixed at registration: it decides which roots are faults, so
///      an owner able to swap it could slash honest signers and claim cover on its own rollup.
///      Operators must vet a rollup's source before signing for it; a rollup that needs a new
///      source registers again under its chain id (only its owner can), getting a new rollup id.
///         Deployed as part of `CertificateVerifier`, which reads a rollup's parameters from its
///         own storage on every certificate.
abstract contract RollupRegistry {
    /// @notice Lowest quorum threshold a rollup may choose: more than two thirds of the stake.
    uint16 public constant MIN_THRESHOLD_BPS = 6_667;
    uint16 public constant BPS = 10_000;

    /// @dev The first slot packs everything the verifier reads per certificate. `alertHeight` is
    ///      the height of the standing circuit-breaker alert (0: none; genesis is never alerted).
    struct Rollup {
        address owner;
        uint16 thresholdBps;
        bool paused;
        uint64 alertHeight;
        ICanonicalRootSource rootSource;
        uint64 chainId;
        bytes32 genesisBlockHash;
        bytes32 genesisStateRoot;
        uint256 feeBalance;
    }

    /// @notice Receives collected fees (the protocol treasury, which pays operators and aggregators).
    address public immutable treasury;
    uint64 public rollupCount;
    mapping(uint64 rollupId => Rollup) internal rollups;
    mapping(uint64 chainId => uint64 rollupId) public rollupIdOfChain;

    event RollupRegistered(
        uint64 indexed rollupId,
        uint64 indexed chainId,
        address owner,
        bytes32 genesisBlockHash,
        bytes32 genesisStateRoot,
        uint16 thresholdBps,
        address rootSource
    );
    event ThresholdUpdated(uint64 indexed rollupId, uint16 thresholdBps);
    event OwnerUpdated(uint64 indexed rollupId, address owner);
    event Paused(uint64 indexed rollupId, bool paused);
    event FeesFunded(uint64 indexed rollupId, address indexed from, uint256 amount);
    event FeesCollected(uint64 indexed rollupId, uint256 amount);

    error ChainAlreadyRegistered(uint64 chainId, uint64 rollupId);
    error InvalidThreshold(uint16 thresholdBps);
    error ZeroGenesis();
    error ZeroAddress();
    error UnknownRollup(uint64 rollupId);
    error NotRollupOwner(uint64 rollupId);
    error Unauthorized();
    error InsufficientFees(uint256 balance, uint256 amount);
    error TransferFailed();

    constructor(address treasury_) {
        if (treasury_ == address(0)) revert ZeroAddress();
        treasury = treasury_;
    }

    modifier onlyRollupOwner(uint64 rollupId) {
        if (rollups[rollupId].owner != msg.sender) revert NotRollupOwner(rollupId);
        _;
    }

    /// @notice Registers a rollup owned by the caller; `msg.value` funds its fee balance. A chain id
    ///         already registered can be registered again only by the owner of its current rollup
    ///         (e.g. to change the canonical-root source); `rollupIdOfChain` then names the new id,
    ///         and the old rollup keeps its certificates and their source.
    /// @return rollupId the id statements carry (sequential from 1)
    function register(
        uint64 chainId,
        bytes32 genesisBlockHash,
        bytes32 genesisStateRoot,
        uint16 thresholdBps,
        ICanonicalRootSource source
    ) external payable returns (uint64 rollupId) {
        uint64 current = rollupIdOfChain[chainId];
        if (current != 0 && rollups[current].owner != msg.sender) {
            revert ChainAlreadyRegistered(chainId, current);
        }
        if (genesisBlockHash == bytes32(0) || genesisStateRoot == bytes32(0)) revert ZeroGenesis();
        _checkThreshold(thresholdBps);
        if (address(source) == address(0)) revert ZeroAddress();
        rollupId = ++rollupCount;
        rollupIdOfChain[chainId] = rollupId;
        rollups[rollupId] = Rollup({
            owner: msg.sender,
            thresholdBps: thresholdBps,
            paused: false,
            alertHeight: 0,
            rootSource: source,
            chainId: chainId,
            genesisBlockHash: genesisBlockHash,
            genesisStateRoot: genesisStateRoot,
            feeBalance: msg.value
        });
        emit RollupRegistered(
            rollupId, chainId, msg.sender, genesisBlockHash, genesisStateRoot, thresholdBps, address(source)
        );
        if (msg.value != 0) emit FeesFunded(rollupId, msg.sender, msg.value);
    }

    function setThreshold(uint64 rollupId, uint16 thresholdBps) external onlyRollupOwner(rollupId) {
        _checkThreshold(thresholdBps);
        rollups[rollupId].thresholdBps = thresholdBps;
        emit ThresholdUpdated(rollupId, thresholdBps);
    }

    function transferRollupOwnership(uint64 rollupId, address newOwner) external onlyRollupOwner(rollupId) {
        if (newOwner == address(0)) revert ZeroAddress();
        rollups[rollupId].owner = newOwner;
        emit OwnerUpdated(rollupId, newOwner);
    }

    /// @notice A paused rollup accepts no new certificates; existing ones stay readable and slashable.
    function setPaused(uint64 rollupId, bool paused) external onlyRollupOwner(rollupId) {
        rollups[rollupId].paused = paused;
        emit Paused(rollupId, paused);
    }

    /// @notice Anyone may top up a rollup's fee balance.
    function fund(uint64 rollupId) external payable {
        if (rollups[rollupId].owner == address(0)) revert UnknownRollup(rollupId);
        rollups[rollupId].feeBalance += msg.value;
        emit FeesFunded(rollupId, msg.sender, msg.value);
    }

    /// @notice Moves `amount` of a rollup's fees to the treasury (treasury only).
    function collectFees(uint64 rollupId, uint256 amount) external {
        if (msg.sender != treasury) revert Unauthorized();
        uint256 balance = rollups[rollupId].feeBalance;
        if (amount > balance) revert InsufficientFees(balance, amount);
        rollups[rollupId].feeBalance = balance - amount;
        emit FeesCollected(rollupId, amount);
        (bool ok,) = treasury.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }

    function _checkThreshold(uint16 thresholdBps) private pure {
        if (thresholdBps < MIN_THRESHOLD_BPS || thresholdBps > BPS) revert InvalidThreshold(thresholdBps);
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    function getRollup(uint64 rollupId) external view returns (Rollup memory) {
        return rollups[rollupId];
    }

    function rootSource(uint64 rollupId) external view returns (ICanonicalRootSource) {
        return rollups[rollupId].rootSource;
    }

    /// @notice Whether a rollup is `Active`, `Paused` by its owner, or `Halted` by a standing alert
    ///         (which wins over a pause). Apps pause on `Halted` (see `examples/ExampleBridge.sol`).
    function rollupStatus(uint64 rollupId) external view returns (RollupStatus) {
        Rollup storage rollup = rollups[rollupId];
        if (rollup.owner == address(0)) revert UnknownRollup(rollupId);
        if (rollup.alertHeight != 0) return RollupStatus.Halted;
        return rollup.paused ? RollupStatus.Paused : RollupStatus.Active;
    }
}
