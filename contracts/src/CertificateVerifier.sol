// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {BLS12381} from "./libraries/BLS12381.sol";
import {HeaderLib} from "./libraries/HeaderLib.sol";
import {Mismatch, MismatchLib} from "./libraries/MismatchLib.sol";
import {Statement, StatementLib} from "./libraries/StatementLib.sol";
import {OperatorRegistry} from "./OperatorRegistry.sol";
import {RollupRegistry} from "./RollupRegistry.sol";

/// @notice What a submitter proves about who signed, at a strictly past L1 `referenceBlock`.
/// @dev `apk` is APK(referenceBlock), checked against the KeyRegistry's stored hash;
///      `nonSignerKeys` concatenates the 256-byte G2 keys of the active operators that did not sign,
///      in strictly ascending order of keccak256(key); the three index fields are checkpoint hints
///      (see OperatorRegistry.apkIndexAt / totalStakeIndexAt / stakeIndexAt).
struct SignerProof {
    uint32 referenceBlock;
    uint32 apkIndex;
    uint32 totalStakeIndex;
    bytes apk;
    bytes nonSignerKeys;
    uint32[] nonSignerStakeIndices;
    bytes signature;
}

/// @title CertificateVerifier
/// @notice Verifies quorum certificates on rollup statements and records them. A certificate on
///         block N of a rollup says operators holding at least the rollup's threshold of slashable
///         stake at the reference block re-executed the chain up to N and got `stateRoot`.
/// @dev Cost grows with non-signers, not signers: APK(ref) − Σ non-signer keys, one pairing.
///      Certificates of a rollup only move its head forward, by at most `MAX_HEIGHT_GAP`; a
///      certificate on head + 1 must name the head as parent. Across a gap the link is vouched for by
///      the signers, who re-executed every block in between (and are slashable if that chain is not
///      canonical). The head is always genesis or a recorded certificate not proven faulty: a faulty
///      head, or one whose root stays unsettled past `HEAD_TIMEOUT`, falls back to genesis, and
///      resubmitting a recorded good certificate above the head reinstalls it.
///      Circuit breaker: operators holding `alertThresholdBps` of the stake can halt a rollup with
///      one aggregate signature over a mismatch report (`raiseAlert`), verified by the same code as
///      certificates; the alert clears when the rollup's source settles the alerted height
///      (`clearAlert`, anyone) or when governance dismisses it (`dismissAlert`).
contract CertificateVerifier is RollupRegistry {
    bytes public constant SIG_DST = "BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";

    /// @dev One slot per certificate. `signedCollateral` is the signers' locked collateral at the
    ///      reference block in `registry.COLLATERAL_UNIT()`s (saturating): what a fault forfeits.
    struct Certificate {
        uint32 referenceBlock;
        uint40 certifiedAt;
        uint128 signedStake;
        bool faulty;
        uint48 signedCollateral;
    }

    /// @notice How far above the head a certificate may go: every certifiable height is one a live
    ///         rollup reaches soon, so a wrong certificate there becomes a provable invalid root.
    uint64 public constant MAX_HEIGHT_GAP = 1 << 16;
    /// @notice After this long with its canonical root unsettled, the head can be released to
    ///         genesis (`releaseHead`): e.g. a certificate on a height the rollup never reached.
    uint64 public constant HEAD_TIMEOUT = 14 days;
    /// @notice Share of the total stake an alert needs unless governance changed it: a third, so
    ///         the stake a quorum at the lowest threshold leaves out can still halt a rollup.
    uint16 public constant DEFAULT_ALERT_THRESHOLD_BPS = 3_333;
    /// @notice Governance keeps the alert share within these bounds: below, a small minority could
    ///         halt any rollup; above a majority, an alert would need the stake that certifies.
    uint16 public constant MIN_ALERT_THRESHOLD_BPS = 1_000;
    uint16 public constant MAX_ALERT_THRESHOLD_BPS = 5_000;

    /// @dev Latest certified height and the first 192 bits of its block hash, in one slot.
    struct Head {
        uint64 blockNumber;
        uint192 blockHashPrefix;
    }

    OperatorRegistry public immutable registry;
    /// @notice How many L1 blocks old a reference block may be.
    uint32 public immutable maxReferenceAge;
    address private immutable deployer;
    address public slasher;
    /// @notice Share of the total stake (bps) whose mismatch reports halt a rollup.
    uint16 public alertThresholdBps;
    /// @notice Sets the alert share and dismisses alerts; the deployer at first, then moved in two
    ///         steps (`transferGovernance`, `acceptGovernance`).
    address public governance;
    address public pendingGovernance;

    mapping(bytes32 certificateId => Certificate) private certificates;
    /// @notice keccak256 of the packed non-signer key hashes; zero (not stored) when all signed.
    mapping(bytes32 certificateId => bytes32) public nonSignersHash;
    mapping(uint64 rollupId => Head) private heads;

    /// @dev A rollup's standing alert. Its height is also the rollup's `alertHeight`, in the slot
    ///      certificates read anyway; the rest only serves `clearAlert` and views.
    struct Alert {
        uint64 blockNumber;
        uint40 raisedAt;
        uint128 signedStake;
        bytes32 claimedStateRoot;
    }

    mapping(uint64 rollupId => Alert) private alerts;

    event CertificateSubmitted(
        uint64 indexed rollupId,
        uint64 indexed blockNumber,
        bytes32 indexed certificateId,
        bytes32 blockHash,
        bytes32 stateRoot,
        uint32 referenceBlock,
        uint256 signedStake,
        uint256 totalStake
    );
    event CertificateFaulty(bytes32 indexed certificateId);
    event HeadReset(uint64 indexed rollupId, uint64 blockNumber);
    event AlertRaised(
        uint64 indexed rollupId,
        uint64 indexed blockNumber,
        bytes32 blockHash,
        bytes32 claimedStateRoot,
        bytes32 computedStateRoot,
        uint32 referenceBlock,
        uint256 signedStake,
        uint256 totalStake
    );
    /// @notice The source settled the alerted height at `settledStateRoot`; `confirmed` says whether
    ///         that differs from the root the rollup claimed (the reporters were right).
    event AlertCleared(
        uint64 indexed rollupId, uint64 indexed blockNumber, bytes32 settledStateRoot, bool confirmed
    );
    event AlertDismissed(uint64 indexed rollupId, uint64 indexed blockNumber);
    event AlertThresholdUpdated(uint16 alertThresholdBps);
    event GovernanceTransferStarted(address indexed pendingGovernance);
    event GovernanceTransferred(address indexed governance);

    error AlreadyInitialized();
    error ZeroRoot();
    error RollupPaused(uint64 rollupId);
    error NotAboveHead(uint64 blockNumber, uint64 head);
    error ParentMismatch(bytes32 parentHash);
    error ReferenceBlockNotPast(uint32 referenceBlock);
    error ReferenceBlockTooOld(uint32 referenceBlock);
    error ApkMismatch();
    error NonSignersNotSorted();
    error EmptySignerSet();
    error InvalidSignature();
    error BelowThreshold(uint256 signedStake, uint256 totalStake, uint16 thresholdBps);
    error UnknownCertificate(bytes32 certificateId);
    error StakeOverflow(uint256 totalStake);
    error TooFarAboveHead(uint64 blockNumber, uint64 head);
    error NotHead(bytes32 certificateId);
    error HeadNotStale(bytes32 certificateId);
    error RollupHalted(uint64 rollupId, uint64 alertHeight);
    error NoMismatch();
    error GenesisNotAlertable();
    error AlertStanding(uint64 rollupId, uint64 alertHeight);
    error HeightSettled(uint64 rollupId, uint64 blockNumber);
    error HeightNotSettled(uint64 rollupId, uint64 blockNumber);
    error NoAlert(uint64 rollupId);
    error BelowAlertThreshold(uint256 signedStake, uint256 totalStake, uint16 alertThresholdBps);
    error InvalidAlertThreshold(uint16 alertThresholdBps);

    constructor(OperatorRegistry registry_, uint32 maxReferenceAge_, address treasury_)
        RollupRegistry(treasury_)
    {
        if (address(registry_) == address(0)) revert ZeroAddress();
        if (maxReferenceAge_ == 0) revert ReferenceBlockTooOld(0);
        registry = registry_;
        maxReferenceAge = maxReferenceAge_;
        deployer = msg.sender;
        governance = msg.sender;
        alertThresholdBps = DEFAULT_ALERT_THRESHOLD_BPS;
    }

    /// @notice One-time wiring by the deployer: the slasher may mark certificates faulty.
    function initialize(address slasher_) external {
        if (msg.sender != deployer) revert Unauthorized();
        if (slasher != address(0)) revert AlreadyInitialized();
        if (slasher_ == address(0)) revert ZeroAddress();
        slasher = slasher_;
    }

    /// @notice Key of a certificate: the certified (rollup, height, block hash, state root).
    function certificateId(Statement memory s) public pure returns (bytes32) {
        return keccak256(abi.encode(s.rollupId, s.blockNumber, s.blockHash, s.stateRoot));
    }

    /// @notice The 32-byte message operators sign for `s` on this deployment.
    function signingRoot(Statement memory s) public view returns (bytes32) {
        return StatementLib.signingRoot(s, block.chainid, address(this));
    }

    /// @notice The 32-byte message operators sign for a mismatch report `m` on this deployment.
    function mismatchRoot(Mismatch memory m) public view returns (bytes32) {
        return MismatchLib.signingRoot(m, block.chainid, address(this));
    }

    /// @notice Verifies and records a certificate. Submitting an already recorded certificate
    ///         returns its id without checks, so racing aggregators do not fail; if it is above the
    ///         head, not faulty and not stale, it becomes the head again (after a rollback).
    function submitCertificate(Statement calldata statement, SignerProof calldata proof)
        external
        returns (bytes32 id)
    {
        Statement memory s = statement;
        if (s.blockHash == bytes32(0) || s.stateRoot == bytes32(0) || s.parentHash == bytes32(0)) {
            revert ZeroRoot();
        }
        id = certificateId(s);
        if (certificates[id].referenceBlock != 0) {
            _reinstate(s, id);
            return id;
        }

        uint16 thresholdBps = _checkPlacement(s, true);
        (uint256 signedStake, uint256 totalStake, bytes32 nsHash, uint256 collateral) =
            _checkSignatures(signingRoot(s), proof);
        if (signedStake * BPS < totalStake * thresholdBps) {
            revert BelowThreshold(signedStake, totalStake, thresholdBps);
        }

        certificates[id] = Certificate({
            referenceBlock: proof.referenceBlock,
            certifiedAt: uint40(block.timestamp),
            // forge-lint: disable-next-line(unsafe-typecast)
            signedStake: uint128(signedStake), // ≤ total, checked below 2^128 in _checkSignatures
            faulty: false,
            // forge-lint: disable-next-line(unsafe-typecast)
            signedCollateral: collateral > type(uint48).max ? type(uint48).max : uint48(collateral)
        });
        if (nsHash != bytes32(0)) nonSignersHash[id] = nsHash;
        heads[s.rollupId] = Head({blockNumber: s.blockNumber, blockHashPrefix: _prefix(s.blockHash)});
        emit CertificateSubmitted(
            s.rollupId,
            s.blockNumber,
            id,
            s.blockHash,
            s.stateRoot,
            proof.referenceBlock,
            signedStake,
            totalStake
        );
    }

    /// @dev The rollup accepts certificates and `s` extends its head (naming it as parent when
    ///      adjacent; within `MAX_HEIGHT_GAP` when `bounded`). Returns the rollup's threshold.
    function _checkPlacement(Statement memory s, bool bounded) private view returns (uint16) {
        Rollup storage rollup = rollups[s.rollupId];
        (address owner, uint16 thresholdBps, bool paused, uint64 alertHeight) =
            (rollup.owner, rollup.thresholdBps, rollup.paused, rollup.alertHeight);
        if (owner == address(0)) revert UnknownRollup(s.rollupId);
        if (paused) revert RollupPaused(s.rollupId);
        if (alertHeight != 0 && s.blockNumber >= alertHeight) revert RollupHalted(s.rollupId, alertHeight);
        Head memory head = heads[s.rollupId];
        if (s.blockNumber <= head.blockNumber) revert NotAboveHead(s.blockNumber, head.blockNumber);
        if (bounded && s.blockNumber - head.blockNumber > MAX_HEIGHT_GAP) {
            revert TooFarAboveHead(s.blockNumber, head.blockNumber);
        }
        if (s.blockNumber == head.blockNumber + 1) {
            // Prefix 0 is the genesis head (also after a rollback).
            uint192 parent =
                head.blockHashPrefix == 0 ? _prefix(rollup.genesisBlockHash) : head.blockHashPrefix;
            if (_prefix(s.parentHash) != parent) revert ParentMismatch(s.parentHash);
        }
        return thresholdBps;
    }

    /// @dev Makes a recorded certificate the head again if it is above the head, placed validly,
    ///      not faulty and not stale; otherwise does nothing (resubmission stays idempotent). The
    ///      height bound does not apply: the certificate met it when recorded.
    function _reinstate(Statement memory s, bytes32 id) private {
        Certificate memory c = certificates[id];
        if (c.faulty || s.blockNumber <= heads[s.rollupId].blockNumber || _stale(s, c)) return;
        try this.checkPlacement(s) {
            heads[s.rollupId] = Head({blockNumber: s.blockNumber, blockHashPrefix: _prefix(s.blockHash)});
            emit HeadReset(s.rollupId, s.blockNumber);
        } catch {}
    }

    /// @notice Reverts unless a certificate on `s` could become the head now (paused, unknown
    ///         rollup, halted at or below its height, not above the head, parent mismatch),
    ///         ignoring the height bound.
    function checkPlacement(Statement memory s) external view {
        _checkPlacement(s, false);
    }

    /// @dev Whether a certificate's root is still unsettled `HEAD_TIMEOUT` after certification.
    function _stale(Statement memory s, Certificate memory c) private view returns (bool) {
        if (block.timestamp < uint256(c.certifiedAt) + HEAD_TIMEOUT) return false;
        (bool settled,) = rollups[s.rollupId].rootSource.canonicalStateRoot(s.blockNumber);
        return !settled;
    }

    /// @notice Releases a rollup's head to genesis when its certificate's canonical root has not
    ///         settled within `HEAD_TIMEOUT` (say, a quorum certified a height the rollup never
    ///         reaches). Permissionless: the head only orders new certificates, each of which still
    ///         needs a quorum, and recorded certificates stay as they are.
    function releaseHead(Statement calldata head) external {
        bytes32 id = certificateId(head);
        Head memory h = heads[head.rollupId];
        if (
            h.blockNumber == 0 || h.blockNumber != head.blockNumber
                || h.blockHashPrefix != _prefix(head.blockHash)
        ) {
            revert NotHead(id);
        }
        if (!_stale(head, certificates[id])) revert HeadNotStale(id);
        delete heads[head.rollupId];
        emit HeadReset(head.rollupId, 0);
    }

    /// @notice Checks an aggregate signature over `message` against the active set at the proof's
    ///         reference block minus its non-signers.
    /// @return signedStake stake of the signers at the reference block
    /// @return totalStake stake of the whole active set at the reference block
    /// @return nsHash keccak256 of the packed non-signer key hashes (zero if none)
    function checkSignatures(bytes32 message, SignerProof calldata proof)
        external
        view
        returns (uint256 signedStake, uint256 totalStake, bytes32 nsHash)
    {
        (signedStake, totalStake, nsHash,) = _checkSignatures(message, proof);
    }

    /// @dev Builds the pairing input `σ ‖ −g2 ‖ H(m) ‖ (APK − Σ non-signers)` in one buffer. Also
    ///      returns the signers' collateral units.
    function _checkSignatures(bytes32 message, SignerProof calldata proof)
        private
        view
        returns (uint256 signedStake, uint256 totalStake, bytes32 nsHash, uint256 collateral)
    {
        uint32 ref = proof.referenceBlock;
        if (ref >= block.number) revert ReferenceBlockNotPast(ref);
        if (block.number - ref > maxReferenceAge) revert ReferenceBlockTooOld(ref);
        (bytes memory input, uint256 ptr, uint192 apkHash) = _pairingBuffer(proof);

        bytes32[] memory keyHashes = _subtractNonSigners(ptr + 0x200, proof.nonSignerKeys);
        (signedStake, totalStake, collateral) = _stakes(proof, keyHashes, apkHash);
        if (signedStake == 0 || BLS12381.isInfinityG2At(ptr + 0x200)) revert EmptySignerSet();

        bytes memory hm = BLS12381.hashToG1(abi.encodePacked(message), SIG_DST);
        assembly ("memory-safe") {
            mcopy(add(ptr, 0x180), add(hm, 0x20), 0x80)
        }
        if (!BLS12381.pairing(input)) revert InvalidSignature();
        if (keyHashes.length != 0) nsHash = keccak256(abi.encodePacked(keyHashes));
    }

    /// @dev Signed and total stake at the reference block, after checking the claimed APK against
    ///      the stored hash.
    function _stakes(SignerProof calldata proof, bytes32[] memory keyHashes, uint192 apkHash)
        private
        view
        returns (uint256 signedStake, uint256 totalStake, uint256 collateral)
    {
        (uint192 storedApkHash, uint256 total, uint256 nonSignerStake, uint256 units) = registry.quorumAt(
            proof.referenceBlock,
            proof.apkIndex,
            proof.totalStakeIndex,
            keyHashes,
            proof.nonSignerStakeIndices
        );
        if (apkHash != storedApkHash) revert ApkMismatch();
        if (total > type(uint128).max) revert StakeOverflow(total);
        return (total - nonSignerStake, total, units);
    }

    /// @dev The 768-byte pairing buffer with σ (encoding checked), −g2 and the claimed APK(ref) in
    ///      place and H(m) left to fill; `ptr` is its data pointer, `apkHash` the APK's truncated hash.
    function _pairingBuffer(SignerProof calldata proof)
        private
        pure
        returns (bytes memory input, uint256 ptr, uint192 apkHash)
    {
        bytes calldata apk = proof.apk;
        bytes calldata signature = proof.signature;
        if (apk.length != BLS12381.G2_LENGTH) revert BLS12381.InvalidLength(apk.length);
        if (signature.length != BLS12381.G1_LENGTH) revert BLS12381.InvalidLength(signature.length);
        input = new bytes(768);
        assembly ("memory-safe") {
            ptr := add(input, 0x20)
            calldatacopy(ptr, signature.offset, 0x80)
            calldatacopy(add(ptr, 0x200), apk.offset, 0x100)
            apkHash := shr(64, shl(64, keccak256(add(ptr, 0x200), 0x100)))
        }
        BLS12381.checkPointAt(ptr, 2);
        BLS12381.writeNegG2GeneratorAt(ptr + 0x80);
    }

    /// @dev Replaces the APK at memory `apkPtr` by APK − Σ keys and returns the keys' hashes
    ///      (strictly ascending, hence distinct). The keys need no encoding checks here: each hash
    ///      must be a key active at the reference block, and active keys passed every check at
    ///      registration.
    function _subtractNonSigners(uint256 apkPtr, bytes calldata keys)
        private
        view
        returns (bytes32[] memory keyHashes)
    {
        if (keys.length % BLS12381.G2_LENGTH != 0) revert BLS12381.InvalidLength(keys.length);
        uint256 count = keys.length / BLS12381.G2_LENGTH;
        keyHashes = new bytes32[](count);
        if (count == 0) return keyHashes;
        // buffer = sum ‖ key; G2ADD writes the new sum over the first half. The 1,200 gas forwarded
        // to each G2ADD is BLS12381.G2ADD_GAS (inline assembly cannot name library constants).
        bytes memory buffer = new bytes(512);
        uint256 buf;
        bool ok = true;
        bytes32 prev;
        assembly ("memory-safe") {
            buf := add(buffer, 0x20)
        }
        for (uint256 i; i < count; ++i) {
            bytes32 keyHash;
            assembly ("memory-safe") {
                let key := add(buf, 0x100)
                calldatacopy(key, add(keys.offset, shl(8, i)), 0x100)
                keyHash := keccak256(key, 0x100)
                ok := and(ok, staticcall(1200, 0x0d, buf, 0x200, buf, 0x100))
            }
            if (keyHash <= prev) revert NonSignersNotSorted();
            keyHashes[i] = keyHash;
            prev = keyHash;
        }
        // apk ‖ −sum → apk − sum.
        BLS12381.negateG2At(buf);
        assembly ("memory-safe") {
            mcopy(add(buf, 0x100), buf, 0x100)
            mcopy(buf, apkPtr, 0x100)
            ok := and(ok, staticcall(1200, 0x0d, buf, 0x200, apkPtr, 0x100))
        }
        if (!ok) revert BLS12381.PrecompileFailed(BLS12381.G2ADD);
    }

    /// @notice Called by the slasher once an invalid-root accusation against the certificate on `s`
    ///         is proven. If that certificate is the rollup's head, the head falls back to genesis,
    ///         the only ancestor known on-chain to be good; resubmitting the newest good certificate
    ///         below it (a no-op verification) reinstalls that as head, and the canonical blocks
    ///         above can be certified from there.
    function markFaulty(Statement calldata s) external returns (bytes32 id) {
        if (msg.sender != slasher) revert Unauthorized();
        id = certificateId(s);
        if (certificates[id].referenceBlock == 0) revert UnknownCertificate(id);
        certificates[id].faulty = true;
        Head memory head = heads[s.rollupId];
        if (head.blockNumber == s.blockNumber && head.blockHashPrefix == _prefix(s.blockHash)) {
            delete heads[s.rollupId];
            emit HeadReset(s.rollupId, 0);
        }
        emit CertificateFaulty(id);
    }

    // ---------------------------------------------------------------------------------------------
    // Circuit breaker
    // ---------------------------------------------------------------------------------------------

    /// @notice Halts rollup `m.rollupId` from height `m.blockNumber` on: `proof` must carry an
    ///         aggregate signature over `mismatchRoot(m)` by operators holding at least
    ///         `alertThresholdBps` of the total stake at its reference block, checked exactly like a
    ///         certificate's. While the alert stands, `rollupStatus` is `Halted`, certificates at or
    ///         above the height are refused and no cover is sold. An alert at a lower height
    ///         replaces a standing one; one at the same or a higher height is refused.
    function raiseAlert(Mismatch calldata m, SignerProof calldata proof) external {
        if (
            m.blockHash == bytes32(0) || m.parentHash == bytes32(0) || m.claimedStateRoot == bytes32(0)
                || m.computedStateRoot == bytes32(0)
        ) revert ZeroRoot();
        if (m.claimedStateRoot == m.computedStateRoot) revert NoMismatch();
        if (m.blockNumber == 0) revert GenesisNotAlertable();
        Rollup storage rollup = rollups[m.rollupId];
        if (rollup.owner == address(0)) revert UnknownRollup(m.rollupId);
        uint64 standing = rollup.alertHeight;
        if (standing != 0 && m.blockNumber >= standing) revert AlertStanding(m.rollupId, standing);
        // A settled height needs no alarm: its certificates are judged against the source already.
        (bool settled,) = rollup.rootSource.canonicalStateRoot(m.blockNumber);
        if (settled) revert HeightSettled(m.rollupId, m.blockNumber);

        (uint256 signedStake, uint256 totalStake,,) = _checkSignatures(mismatchRoot(m), proof);
        uint16 share = alertThresholdBps;
        if (signedStake * BPS < totalStake * share) {
            revert BelowAlertThreshold(signedStake, totalStake, share);
        }

        rollup.alertHeight = m.blockNumber;
        alerts[m.rollupId] = Alert({
            blockNumber: m.blockNumber,
            raisedAt: uint40(block.timestamp),
            // forge-lint: disable-next-line(unsafe-typecast)
            signedStake: uint128(signedStake), // ≤ total, checked below 2^128 in _checkSignatures
            claimedStateRoot: m.claimedStateRoot
        });
        emit AlertRaised(
            m.rollupId,
            m.blockNumber,
            m.blockHash,
            m.claimedStateRoot,
            m.computedStateRoot,
            proof.referenceBlock,
            signedStake,
            totalStake
        );
    }

    /// @notice Lifts a rollup's alert once its canonical-root source settled the alerted height;
    ///         anyone may call it. The rollup is `Active` (or `Paused`) again either way. If the
    ///         settled root is the claimed one the alert was false (`confirmed == false`); nobody is
    ///         slashed for it (see docs/contracts.md). If it differs, any certificate recorded on the
    ///         claimed root is provably wrong and accusations against it succeed.
    function clearAlert(uint64 rollupId) external {
        Rollup storage rollup = rollups[rollupId];
        uint64 height = rollup.alertHeight;
        if (height == 0) revert NoAlert(rollupId);
        (bool settled, bytes32 root) = rollup.rootSource.canonicalStateRoot(height);
        if (!settled) revert HeightNotSettled(rollupId, height);
        bool confirmed = root != alerts[rollupId].claimedStateRoot;
        _lift(rollup, rollupId);
        emit AlertCleared(rollupId, height, root, confirmed);
    }

    /// @notice Governance lifts a standing alert without waiting for the source (a source that will
    ///         never settle the height, or a false alarm on a rollup whose roots settle in days).
    ///         Reporters with enough stake can raise it again with a fresh proof.
    function dismissAlert(uint64 rollupId) external {
        if (msg.sender != governance) revert Unauthorized();
        Rollup storage rollup = rollups[rollupId];
        uint64 height = rollup.alertHeight;
        if (height == 0) revert NoAlert(rollupId);
        _lift(rollup, rollupId);
        emit AlertDismissed(rollupId, height);
    }

    function _lift(Rollup storage rollup, uint64 rollupId) private {
        rollup.alertHeight = 0;
        delete alerts[rollupId];
    }

    /// @notice Sets the share of the total stake an alert needs, within
    ///         [`MIN_ALERT_THRESHOLD_BPS`, `MAX_ALERT_THRESHOLD_BPS`] (governance only).
    function setAlertThreshold(uint16 bps) external {
        if (msg.sender != governance) revert Unauthorized();
        if (bps < MIN_ALERT_THRESHOLD_BPS || bps > MAX_ALERT_THRESHOLD_BPS) {
            revert InvalidAlertThreshold(bps);
        }
        alertThresholdBps = bps;
        emit AlertThresholdUpdated(bps);
    }

    /// @notice Proposes `next` as governance; it takes over only by calling `acceptGovernance`, so a
    ///         mistyped address cannot lock governance out.
    function transferGovernance(address next) external {
        if (msg.sender != governance) revert Unauthorized();
        pendingGovernance = next;
        emit GovernanceTransferStarted(next);
    }

    function acceptGovernance() external {
        if (msg.sender != pendingGovernance) revert Unauthorized();
        governance = msg.sender;
        pendingGovernance = address(0);
        emit GovernanceTransferred(msg.sender);
    }

    function _prefix(bytes32 h) private pure returns (uint192) {
        return uint192(uint256(h) >> 64);
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    /// @notice Whether a certificate for exactly this block and root is recorded and not proven wrong.
    function isFinal(uint64 rollupId, uint64 blockNumber, bytes32 blockHash, bytes32 stateRoot)
        external
        view
        returns (bool)
    {
        Certificate memory c =
            certificates[keccak256(abi.encode(rollupId, blockNumber, blockHash, stateRoot))];
        return c.referenceBlock != 0 && !c.faulty;
    }

    /// @notice Whether a block is final because a recorded certificate, not proven wrong, covers it:
    ///         a certificate on block N covers N and its ancestors, since its signers re-executed
    ///         each of them. `headers` are the RLP-encoded headers of this block and of each of its
    ///         descendants up to a certified block, in order (just its own header if it is certified
    ///         itself); `eth_getBlockByNumber` gives the fields.
    function isFinalAncestor(
        uint64 rollupId,
        uint64 blockNumber,
        bytes32 blockHash,
        bytes32 stateRoot,
        bytes[] calldata headers
    ) external view returns (bool) {
        if (headers.length == 0 || keccak256(headers[0]) != blockHash) return false;
        (bool ok,, bytes32 root) = HeaderLib.read(headers[0]);
        if (!ok || root != stateRoot) return false;
        (bool linked, bytes32 tipHash, bytes32 tipRoot) = HeaderLib.tip(headers);
        uint256 tipNumber = uint256(blockNumber) + headers.length - 1;
        if (!linked || tipNumber > type(uint64).max) return false;
        Certificate memory c =
            certificates[keccak256(abi.encode(rollupId, uint64(tipNumber), tipHash, tipRoot))];
        return c.referenceBlock != 0 && !c.faulty;
    }

    /// @notice Highest certified block of a rollup (0 before its first certificate).
    function latestCertifiedBlock(uint64 rollupId) external view returns (uint64) {
        return heads[rollupId].blockNumber;
    }

    /// @notice The rollup's head: height and the first 192 bits of its block hash (0, 0: genesis).
    function headOf(uint64 rollupId) external view returns (Head memory) {
        return heads[rollupId];
    }

    /// @notice A rollup's standing alert (all zero when none).
    function alertOf(uint64 rollupId) external view returns (Alert memory) {
        return alerts[rollupId];
    }

    function getCertificate(bytes32 id) external view returns (Certificate memory) {
        return certificates[id];
    }

    /// @notice Slashable stake of the signers behind a certificate (0 if unknown).
    function slashableStakeBehind(bytes32 id) external view returns (uint256) {
        return certificates[id].signedStake;
    }
}
