// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS12381} from "./libraries/BLS12381.sol";
import {Checkpoints, History} from "./libraries/Checkpoints.sol";

/// @title KeyRegistry
/// @notice BLS12-381 G2 public keys of Surety operators, bound to the operator by a proof of
///         possession, and the aggregate public key (APK) of the active set by L1 block. Deployed as
///         part of `OperatorRegistry`, so the verifier reads keys and stakes with one call.
/// @dev Per APK checkpoint only the low 192 bits of keccak256(APK) are stored (one slot, with the
///      block range); a certificate submitter passes the 256-byte APK in calldata and the verifier
///      checks its hash. Forging a different APK with the same 192-bit hash is a second preimage
///      (each APK an attacker could steer towards costs a key registration).
abstract contract KeyRegistry {
    using Checkpoints for History;

    bytes32 public constant POP_TAG = keccak256("surety.pop.v1");
    bytes public constant POP_DST = "BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";

    mapping(address operator => bytes publicKey) private keys;
    mapping(address operator => bytes32 keyHash) public keyHashOf;
    mapping(bytes32 keyHash => address operator) public operatorOf;
    mapping(address operator => bool) public isActive;

    /// @notice Current APK of the active set (EIP-2537 G2; all zeros while the set is empty).
    bytes public apk;
    History private apkHistory;

    event KeyRegistered(address indexed operator, bytes32 indexed keyHash, bytes publicKey);
    event OperatorActivated(address indexed operator, bytes32 indexed keyHash);
    event OperatorDeactivated(address indexed operator, bytes32 indexed keyHash);
    event ApkUpdated(uint32 indexed blockNumber, bytes apk);

    error KeyAlreadyRegistered(address operator);
    error KeyInUse(bytes32 keyHash);
    error InvalidProofOfPossession();
    error NoKey(address operator);
    error ActivationUnchanged(address operator);

    constructor() {
        apk = new bytes(BLS12381.G2_LENGTH);
        apkHistory.push(_truncatedHash(apk));
    }

    /// @notice The message the operator's key signs (with the PoP DST) to prove possession:
    ///         keccak256(abi.encode(POP_TAG, operator, chainId, keyRegistry, keyHash)).
    function popMessage(address operator, bytes32 keyHash) public view returns (bytes32) {
        return keccak256(abi.encode(POP_TAG, operator, block.chainid, address(this), keyHash));
    }

    /// @notice Binds `publicKey` (256-byte EIP-2537 G2) to the caller. One key per operator, one
    ///         operator per key. The PoP pairing also checks curve and subgroup membership of both
    ///         the key and the PoP.
    function registerKey(bytes calldata publicKey, bytes calldata pop) external {
        if (keyHashOf[msg.sender] != bytes32(0)) revert KeyAlreadyRegistered(msg.sender);
        BLS12381.checkG2(publicKey);
        BLS12381.checkG1(pop);
        bytes32 keyHash = keccak256(publicKey);
        if (operatorOf[keyHash] != address(0)) revert KeyInUse(keyHash);
        bytes memory hm = BLS12381.hashToG1(abi.encodePacked(popMessage(msg.sender, keyHash)), POP_DST);
        if (!BLS12381.pairing(BLS12381.pairingInput(pop, publicKey, hm))) revert InvalidProofOfPossession();

        keys[msg.sender] = publicKey;
        keyHashOf[msg.sender] = keyHash;
        operatorOf[keyHash] = msg.sender;
        emit KeyRegistered(msg.sender, keyHash, publicKey);
    }

    function publicKeyOf(address operator) external view returns (bytes memory) {
        return keys[operator];
    }

    /// @dev Adds the operator's key to the APK.
    function _activate(address operator) internal {
        bytes32 keyHash = keyHashOf[operator];
        if (keyHash == bytes32(0)) revert NoKey(operator);
        if (isActive[operator]) revert ActivationUnchanged(operator);
        isActive[operator] = true;
        _setApk(BLS12381.g2Add(apk, keys[operator]));
        emit OperatorActivated(operator, keyHash);
    }

    /// @dev Removes the operator's key from the APK.
    function _deactivate(address operator) internal {
        if (!isActive[operator]) revert ActivationUnchanged(operator);
        isActive[operator] = false;
        _setApk(BLS12381.g2Add(apk, BLS12381.g2Negate(keys[operator])));
        emit OperatorDeactivated(operator, keyHashOf[operator]);
    }

    function _setApk(bytes memory newApk) private {
        apk = newApk;
        apkHistory.push(_truncatedHash(newApk));
        emit ApkUpdated(uint32(block.number), newApk);
    }

    function _truncatedHash(bytes memory point) private pure returns (uint192) {
        return uint192(uint256(keccak256(point)));
    }

    /// @notice The truncated APK hash at `blockNumber`, proven by checkpoint `index`.
    function apkHashAt(uint32 blockNumber, uint256 index) public view returns (uint192) {
        return apkHistory.at(blockNumber, index);
    }

    /// @notice The APK checkpoint index covering `blockNumber` (hint for submitters).
    function apkIndexAt(uint32 blockNumber) public view returns (uint256) {
        return apkHistory.indexAt(blockNumber);
    }
}
