// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice One value of a history, valid for L1 blocks `fromBlock ≤ b < toBlock` (`toBlock == 0`:
///         still current). One storage slot.
struct Checkpoint {
    uint32 fromBlock;
    uint32 toBlock;
    uint192 value;
}

/// @notice A value's history by L1 block. Items live in a mapping (no array bounds check) so a
///         lookup with a caller-supplied index costs exactly one SLOAD.
struct History {
    uint256 length;
    mapping(uint256 index => Checkpoint) items;
}

/// @title Checkpoints
/// @notice Block-indexed histories read at a *past* block with an index hint: the reader proves
///         which checkpoint covers the block instead of searching for it on-chain. Writes in the
///         same block overwrite, so a past block's value never changes.
library Checkpoints {
    error CheckpointMismatch(uint32 blockNumber, uint256 index);
    error NoCheckpoint(uint32 blockNumber);

    function push(History storage h, uint192 value) internal {
        uint32 now_ = uint32(block.number);
        uint256 len = h.length;
        if (len != 0) {
            Checkpoint storage last = h.items[len - 1];
            if (last.fromBlock == now_) {
                last.value = value;
                return;
            }
            last.toBlock = now_;
        }
        h.items[len] = Checkpoint({fromBlock: now_, toBlock: 0, value: value});
        h.length = len + 1;
    }

    function latest(History storage h) internal view returns (uint192) {
        uint256 len = h.length;
        return len == 0 ? 0 : h.items[len - 1].value;
    }

    /// @notice The value at `blockNumber`, proven by the checkpoint at `index`.
    function at(History storage h, uint32 blockNumber, uint256 index) internal view returns (uint192) {
        Checkpoint memory c = h.items[index];
        // fromBlock == 0 is an empty slot: checkpoints are only ever written at block ≥ 1.
        if (c.fromBlock == 0 || c.fromBlock > blockNumber || (c.toBlock != 0 && c.toBlock <= blockNumber)) {
            revert CheckpointMismatch(blockNumber, index);
        }
        return c.value;
    }

    /// @notice The index of the checkpoint covering `blockNumber` (binary search; for off-chain
    ///         callers computing hints).
    function indexAt(History storage h, uint32 blockNumber) internal view returns (uint256) {
        uint256 lo = 0;
        uint256 hi = h.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (h.items[mid].fromBlock <= blockNumber) lo = mid + 1;
            else hi = mid;
        }
        if (lo == 0) revert NoCheckpoint(blockNumber);
        return lo - 1;
    }
}
