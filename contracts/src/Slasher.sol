// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS12381} from "./libraries/BLS12381.sol";
import {Statement} from "./libraries/StatementLib.sol";
import {CertificateVerifier} from "./CertificateVerifier.sol";
import {OperatorRegistry} from "./OperatorRegistry.sol";
import {SuretyRegistrar} from "./SuretyRegistrar.sol";
import {CompensationPool} from "./CompensationPool.sol";

/// @title Slasher
/// @notice Decides Surety's two objective faults on-chain and slashes the guilty operators through
///         the registrar (EigenLayer `slashOperator`) and the compensation pool (collateral).
/// @dev Double signing (two valid signatures by one registered key on statements with the same
///      (rollupId, blockNumber) and a different blockHash or stateRoot) and a single signed statement
///      with a non-canonical root are self-proving. An invalid-root accusation against a certificate
///      costs a bond and is judged against the rollup's canonical root source once it has settled:
///      if the root differs, the certificate is faulty, the bond is returned and every signer
///      (active at the reference block and not a non-signer) can be slashed; if it matches, the bond
///      goes to the pool. Whatever the evidence, an operator is punished at most once per
///      (rollupId, blockNumber): one wrong signature at a height is one fault.
contract Slasher {
    CertificateVerifier public immutable verifier;
    OperatorRegistry public immutable registry;
    SuretyRegistrar public immutable registrar;
    CompensationPool public immutable pool;
    /// @notice Bond (wei) posted with an invalid-root accusation.
    uint256 public immutable accusationBond;
    /// @notice Fraction (1e18 = 100%) of each guilty operator's allocation slashed per fault.
    uint256 public immutable slashWad;

    /// @notice After this long without a settled canonical root, an accuser may take the bond back.
    uint64 public constant ACCUSATION_TIMEOUT = 14 days;

    struct Accusation {
        address accuser;
        uint96 bond;
        uint64 openedAt;
    }

    mapping(bytes32 certificateId => Accusation) public accusations;
    /// @notice Faults already punished: `faultKey(operator, rollupId, blockNumber)`.
    mapping(bytes32 evidenceId => bool) public used;
    /// @notice Bonds owed back to accusers whose refund transfer failed (pull payment).
    mapping(address accuser => uint256) public refunds;

    event DoubleSigningProven(address indexed operator, uint64 indexed rollupId, uint64 indexed blockNumber);
    event InvalidStatementProven(
        address indexed operator, uint64 indexed rollupId, uint64 indexed blockNumber, bytes32 canonicalRoot
    );
    event InvalidRootAccused(bytes32 indexed certificateId, address indexed accuser);
    event InvalidRootProven(bytes32 indexed certificateId, bytes32 canonicalRoot);
    event AccusationRejected(bytes32 indexed certificateId, address indexed accuser);
    event AccusationWithdrawn(bytes32 indexed certificateId, address indexed accuser);
    event SignerSlashed(bytes32 indexed certificateId, address indexed operator);
    event OperatorPunished(address indexed operator, bool slashed, uint256 collateralForfeited);

    error NotConflicting();
    error UnknownKey(bytes32 keyHash);
    error InvalidSignature();
    error EvidenceUsed(bytes32 evidenceId);
    error UnknownCertificate(bytes32 certificateId);
    error CertificateFaulty(bytes32 certificateId);
    error CertificateNotFaulty(bytes32 certificateId);
    error WrongBond(uint256 paid, uint256 due);
    error AccusationPending(bytes32 certificateId);
    error NoAccusation(bytes32 certificateId);
    error RootNotSettled(bytes32 certificateId);
    error CanonicalRootUnknown(uint64 rollupId, uint64 blockNumber);
    error RootIsCanonical();
    error NonSignersMismatch();
    error NotASigner(address operator);
    error LengthMismatch();
    error TransferFailed();
    error InvalidSlashWad(uint256 wad);
    error InvalidBond(uint256 bond);
    error ZeroAddress();

    constructor(
        CertificateVerifier verifier_,
        SuretyRegistrar registrar_,
        CompensationPool pool_,
        uint256 accusationBond_,
        uint256 slashWad_
    ) {
        if (
            address(verifier_) == address(0) || address(registrar_) == address(0)
                || address(pool_) == address(0)
        ) {
            revert ZeroAddress();
        }
        // Bonds are stored as uint96; a zero bond would make accusations free spam.
        if (accusationBond_ == 0 || accusationBond_ > type(uint96).max) revert InvalidBond(accusationBond_);
        verifier = verifier_;
        registry = verifier_.registry();
        registrar = registrar_;
        pool = pool_;
        accusationBond = accusationBond_;
        // EigenLayer rejects wadsToSlash outside (0, 1e18].
        if (slashWad_ == 0 || slashWad_ > 1e18) revert InvalidSlashWad(slashWad_);
        slashWad = slashWad_;
    }

    /// @notice Key under which an operator's fault at one rollup height is punished, whatever the
    ///         evidence (double signing, a signed wrong root, a faulty certificate).
    function faultKey(address operator, uint64 rollupId, uint64 blockNumber) public pure returns (bytes32) {
        return keccak256(abi.encode(operator, rollupId, blockNumber));
    }

    // ---------------------------------------------------------------------------------------------
    // Double signing
    // ---------------------------------------------------------------------------------------------

    /// @notice Slashes the owner of `publicKey` for signing two conflicting statements.
    function proveDoubleSigning(
        Statement calldata a,
        bytes calldata signatureA,
        Statement calldata b,
        bytes calldata signatureB,
        bytes calldata publicKey
    ) external {
        if (
            a.rollupId != b.rollupId || a.blockNumber != b.blockNumber
                || (a.blockHash == b.blockHash && a.stateRoot == b.stateRoot)
        ) revert NotConflicting();
        bytes32 keyHash = keccak256(publicKey);
        address operator = registry.operatorOf(keyHash);
        if (operator == address(0)) revert UnknownKey(keyHash);
        bytes32 evidenceId = faultKey(operator, a.rollupId, a.blockNumber);
        if (used[evidenceId]) revert EvidenceUsed(evidenceId);
        if (!_verify(a, signatureA, publicKey) || !_verify(b, signatureB, publicKey)) {
            revert InvalidSignature();
        }

        used[evidenceId] = true;
        emit DoubleSigningProven(operator, a.rollupId, a.blockNumber);
        _punish(evidenceId, operator, bytes32(0), "surety: double signing");
    }

    function _verify(Statement memory s, bytes memory signature, bytes memory publicKey)
        private
        view
        returns (bool)
    {
        bytes memory hm = BLS12381.hashToG1(abi.encodePacked(verifier.signingRoot(s)), verifier.SIG_DST());
        return BLS12381.verify(signature, publicKey, hm);
    }

    // ---------------------------------------------------------------------------------------------
    // Invalid root
    // ---------------------------------------------------------------------------------------------

    /// @notice Slashes the owner of `publicKey` for signing a statement whose state root differs
    ///         from the rollup's settled canonical root for that block. Self-proving (no bond): it
    ///         reverts unless the root is settled and different.
    function proveInvalidStatement(Statement calldata s, bytes calldata signature, bytes calldata publicKey)
        external
    {
        bytes32 keyHash = keccak256(publicKey);
        address operator = registry.operatorOf(keyHash);
        if (operator == address(0)) revert UnknownKey(keyHash);
        (bool settled, bytes32 root) = verifier.rootSource(s.rollupId).canonicalStateRoot(s.blockNumber);
        if (!settled) revert CanonicalRootUnknown(s.rollupId, s.blockNumber);
        if (root == s.stateRoot) revert RootIsCanonical();
        bytes32 evidenceId = faultKey(operator, s.rollupId, s.blockNumber);
        if (used[evidenceId]) revert EvidenceUsed(evidenceId);
        if (!_verify(s, signature, publicKey)) revert InvalidSignature();

        used[evidenceId] = true;
        emit InvalidStatementProven(operator, s.rollupId, s.blockNumber, root);
        _punish(evidenceId, operator, bytes32(0), "surety: invalid root");
    }

    /// @notice Accuses the certificate on `s` of certifying a non-canonical state root, posting
    ///         `accusationBond`. Judged at once if the canonical root is settled, else by
    ///         `resolveAccusation` later.
    function accuseInvalidRoot(Statement calldata s) external payable {
        bytes32 id = verifier.certificateId(s);
        CertificateVerifier.Certificate memory cert = verifier.getCertificate(id);
        if (cert.referenceBlock == 0) revert UnknownCertificate(id);
        if (cert.faulty) revert CertificateFaulty(id);
        if (accusations[id].accuser != address(0)) revert AccusationPending(id);
        if (msg.value != accusationBond) revert WrongBond(msg.value, accusationBond);
        // forge-lint: disable-next-line(unsafe-typecast)
        accusations[id] =
            Accusation({accuser: msg.sender, bond: uint96(msg.value), openedAt: uint64(block.timestamp)});
        emit InvalidRootAccused(id, msg.sender);
        _judge(s, id);
    }

    /// @notice Judges a pending accusation once the canonical root has settled.
    function resolveAccusation(Statement calldata s) external {
        bytes32 id = verifier.certificateId(s);
        if (accusations[id].accuser == address(0)) revert NoAccusation(id);
        if (!_judge(s, id)) revert RootNotSettled(id);
    }

    /// @notice Withdraws an accusation whose canonical root has not settled within
    ///         `ACCUSATION_TIMEOUT`, returning the bond (an undecidable accusation costs nothing).
    function withdrawAccusation(Statement calldata s) external {
        bytes32 id = verifier.certificateId(s);
        Accusation memory acc = accusations[id];
        if (acc.accuser != msg.sender) revert NoAccusation(id);
        if (_judge(s, id)) return;
        if (block.timestamp < acc.openedAt + ACCUSATION_TIMEOUT) revert AccusationPending(id);
        delete accusations[id];
        emit AccusationWithdrawn(id, msg.sender);
        _send(msg.sender, acc.bond);
    }

    function _judge(Statement calldata s, bytes32 id) private returns (bool judged) {
        (bool settled, bytes32 root) = verifier.rootSource(s.rollupId).canonicalStateRoot(s.blockNumber);
        if (!settled) return false;
        Accusation memory acc = accusations[id];
        delete accusations[id];
        if (root != s.stateRoot) {
            verifier.markFaulty(s);
            pool.recordFault(id);
            emit InvalidRootProven(id, root);
            // A reverting accuser must not block the fault from being recorded: credit instead.
            (bool ok,) = acc.accuser.call{value: acc.bond}("");
            if (!ok) refunds[acc.accuser] += acc.bond;
        } else {
            emit AccusationRejected(id, acc.accuser);
            _send(address(pool), acc.bond);
        }
        return true;
    }

    function withdrawRefund() external {
        uint256 amount = refunds[msg.sender];
        refunds[msg.sender] = 0;
        _send(msg.sender, amount);
    }

    /// @notice Slashes signers of a certificate proven faulty and credits their forfeited collateral
    ///         to the certificate's claimants. `nonSignerKeyHashes` must be the certificate's
    ///         non-signers (ascending, as recorded); each operator must have been active at the
    ///         reference block (proven by `stakeIndices`) and not be a non-signer. Operators already
    ///         punished for this height are skipped, so a front-runner cannot make the batch revert.
    function slashCertificateSigners(
        Statement calldata s,
        bytes32[] calldata nonSignerKeyHashes,
        address[] calldata operators,
        uint32[] calldata stakeIndices
    ) external {
        bytes32 id = verifier.certificateId(s);
        CertificateVerifier.Certificate memory cert = verifier.getCertificate(id);
        if (!cert.faulty) revert CertificateNotFaulty(id);
        bytes32 expected =
            nonSignerKeyHashes.length == 0 ? bytes32(0) : keccak256(abi.encodePacked(nonSignerKeyHashes));
        if (expected != verifier.nonSignersHash(id)) revert NonSignersMismatch();
        if (operators.length != stakeIndices.length) revert LengthMismatch();

        for (uint256 i; i < operators.length; ++i) {
            address operator = operators[i];
            _checkSigner(operator, nonSignerKeyHashes, cert.referenceBlock, stakeIndices[i]);
            bytes32 evidenceId = faultKey(operator, s.rollupId, s.blockNumber);
            if (used[evidenceId]) continue;
            used[evidenceId] = true;
            emit SignerSlashed(id, operator);
            _punish(evidenceId, operator, id, "surety: invalid root");
        }
    }

    /// @dev Reverts unless `operator` was active at `referenceBlock` and is not a non-signer.
    function _checkSigner(
        address operator,
        bytes32[] calldata nonSignerKeyHashes,
        uint32 referenceBlock,
        uint32 stakeIndex
    ) private view {
        bytes32 keyHash = registry.keyHashOf(operator);
        if (keyHash == bytes32(0) || _contains(nonSignerKeyHashes, keyHash)) revert NotASigner(operator);
        (bool active,) = registry.stakeAt(keyHash, referenceBlock, stakeIndex);
        if (!active) revert NotASigner(operator);
    }

    /// @dev Binary search in the ascending non-signer list.
    function _contains(bytes32[] calldata sorted, bytes32 x) private pure returns (bool) {
        uint256 lo = 0;
        uint256 hi = sorted.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (sorted[mid] == x) return true;
            if (sorted[mid] < x) lo = mid + 1;
            else hi = mid;
        }
        return false;
    }

    /// @dev Evidence stays spent only once EigenLayer took the stake: when it refuses (paused, or a
    ///      chain younger than its withdrawal delay), the collateral is still forfeited and the
    ///      same evidence can be brought again to slash the stake later. The registrar also ejects
    ///      the operator. Collateral forfeited for a faulty certificate is credited to its fault.
    function _punish(bytes32 evidenceId, address operator, bytes32 certificateId, string memory description)
        private
    {
        bool slashed = registrar.slash(operator, slashWad, description);
        if (!slashed) used[evidenceId] = false;
        uint256 forfeited = pool.forfeit(operator, certificateId);
        address[] memory one = new address[](1);
        one[0] = operator;
        registry.update(one);
        emit OperatorPunished(operator, slashed, forfeited);
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }
}
