// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {ISuretyFinality} from "../interfaces/ISuretyFinality.sol";
import {RollupStatus} from "../RollupRegistry.sol";

/// @title ExampleBridge
/// @notice The integration pattern for apps, as a minimal ETH bridge for one rollup: it releases a
///         withdrawal only against a block Surety certified (`isFinal`), and it stops while
///         Surety's circuit breaker halts the rollup (`rollupStatus == Halted`), resuming by itself
///         when the alert clears.
/// @dev Not production code. The withdrawal proof is deliberately simple: the withdrawal must be a
///      leaf of a binary Merkle tree (leaf = keccak256(abi.encode(withdrawal)), nodes hash their two
///      children in ascending order) whose root is the certified block's state root. A real bridge
///      proves the L2 withdrawal contract's storage slot against the state root with a
///      Merkle-Patricia proof (`eth_getProof`); only that function changes, the finality and halt
///      checks stay as they are. Deposits are locked ETH that the rollup's relayer mints on L2.
contract ExampleBridge {
    /// @notice A withdrawal the rollup initiated; `nonce` makes each one unique.
    struct Withdrawal {
        uint256 nonce;
        address recipient;
        uint256 amount;
    }

    ISuretyFinality public immutable surety;
    uint64 public immutable rollupId;
    mapping(bytes32 withdrawalHash => bool) public released;

    event Deposited(address indexed from, address indexed l2Recipient, uint256 amount);
    event WithdrawalReleased(
        bytes32 indexed withdrawalHash, address indexed recipient, uint256 amount, uint64 provenAtBlock
    );

    error ZeroAddress();
    error ZeroAmount();
    error Halted(uint64 rollupId);
    error NotFinal(uint64 blockNumber, bytes32 blockHash, bytes32 stateRoot);
    error InvalidProof();
    error AlreadyReleased(bytes32 withdrawalHash);
    error TransferFailed();

    constructor(ISuretyFinality surety_, uint64 rollupId_) {
        if (address(surety_) == address(0)) revert ZeroAddress();
        surety = surety_;
        rollupId = rollupId_;
    }

    /// @notice Whether the bridge is stopped: a circuit-breaker alert stands on the rollup. An owner
    ///         pause (`Paused`) only stops new certificates; recorded ones stay good to withdraw on.
    function halted() public view returns (bool) {
        return surety.rollupStatus(rollupId) == RollupStatus.Halted;
    }

    /// @notice Locks `msg.value` for `l2Recipient` on the rollup. Refused while halted: the rollup
    ///         may be running a state Surety's operators dispute.
    function deposit(address l2Recipient) external payable {
        if (msg.value == 0) revert ZeroAmount();
        if (l2Recipient == address(0)) revert ZeroAddress();
        if (halted()) revert Halted(rollupId);
        emit Deposited(msg.sender, l2Recipient, msg.value);
    }

    /// @notice Pays `w.amount` to `w.recipient` once: `proof` shows `w` under `stateRoot`, and Surety
    ///         certified block (`blockNumber`, `blockHash`) with that root. Anyone may relay it.
    function withdraw(
        Withdrawal calldata w,
        uint64 blockNumber,
        bytes32 blockHash,
        bytes32 stateRoot,
        bytes32[] calldata proof
    ) external {
        if (halted()) revert Halted(rollupId);
        if (!surety.isFinal(rollupId, blockNumber, blockHash, stateRoot)) {
            revert NotFinal(blockNumber, blockHash, stateRoot);
        }
        _release(w, blockNumber, stateRoot, proof);
    }

    /// @notice `withdraw` against a block that a later certificate covers rather than one certified
    ///         itself: `headers` are the RLP headers from this block up to the certified one.
    function withdrawCovered(
        Withdrawal calldata w,
        uint64 blockNumber,
        bytes32 blockHash,
        bytes32 stateRoot,
        bytes[] calldata headers,
        bytes32[] calldata proof
    ) external {
        if (halted()) revert Halted(rollupId);
        if (!surety.isFinalAncestor(rollupId, blockNumber, blockHash, stateRoot, headers)) {
            revert NotFinal(blockNumber, blockHash, stateRoot);
        }
        _release(w, blockNumber, stateRoot, proof);
    }

    function _release(Withdrawal calldata w, uint64 blockNumber, bytes32 stateRoot, bytes32[] calldata proof)
        private
    {
        bytes32 hash = withdrawalHash(w);
        if (!verifyProof(hash, stateRoot, proof)) revert InvalidProof();
        if (released[hash]) revert AlreadyReleased(hash);
        released[hash] = true;
        emit WithdrawalReleased(hash, w.recipient, w.amount, blockNumber);
        (bool ok,) = w.recipient.call{value: w.amount}("");
        if (!ok) revert TransferFailed();
    }

    /// @notice The withdrawal's leaf in the rollup's withdrawal tree, and its replay key.
    function withdrawalHash(Withdrawal calldata w) public pure returns (bytes32) {
        return keccak256(abi.encode(w.nonce, w.recipient, w.amount));
    }

    /// @notice Whether `leaf` is in the sorted-pair keccak256 Merkle tree with root `root`. Leaves
    ///         hash 96 bytes and nodes 64, so a node can never pass as a withdrawal.
    function verifyProof(bytes32 leaf, bytes32 root, bytes32[] calldata proof) public pure returns (bool) {
        bytes32 node = leaf;
        for (uint256 i; i < proof.length; ++i) {
            bytes32 sibling = proof[i];
            node = node < sibling
                ? keccak256(abi.encodePacked(node, sibling))
                : keccak256(abi.encodePacked(sibling, node));
        }
        return node == root;
    }
}
