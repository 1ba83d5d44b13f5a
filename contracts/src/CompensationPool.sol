// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {CertificateVerifier} from "./CertificateVerifier.sol";
import {Statement} from "./libraries/StatementLib.sol";

/// @title CompensationPool
/// @notice Holds operator collateral, sells cover against certificates and pays claims once a
///         certificate is proven wrong.
/// @dev Money flow (ETH): premiums, forfeited collateral, failed accusers' bonds and any plain
///      transfer (e.g. a future EigenLayer redistribution recipient payout) become the free balance
///      that backs claims. Locked collateral is never available for claims until forfeited. For each
///      proven fault, cover holders file claims during the claim window; after it the fault's budget
///      is fixed once as min(total filed, free balance) and reserved, and every filed claim is paid
///      `amount × budget / filed` exactly once — pro rata when the pool is short.
///      Cover amounts are capped by the signers' slashable stake, measured in strategy shares
///      (1:1 with wei for ETH-denominated strategies).
contract CompensationPool {
    uint256 private constant BPS = 10_000;

    struct Collateral {
        uint128 amount;
        bool locked;
        uint64 unlockAt;
    }

    struct Cover {
        address holder;
        bool filed;
        bool paid;
        uint128 amount;
        bytes32 certificateId;
    }

    struct Fault {
        uint64 provenAt;
        bool settled;
        uint128 filed;
        uint128 budget;
    }

    CertificateVerifier public immutable verifier;
    uint16 public immutable premiumBps;
    uint64 public immutable claimWindow;
    uint64 public immutable collateralWithdrawalDelay;
    address private immutable deployer;
    address public registrar;
    address public slasher;

    mapping(address operator => Collateral) private collateral;
    /// @notice Sum of all operators' collateral (not available for claims).
    uint256 public totalCollateral;
    /// @notice Budgets of settled faults not yet paid out.
    uint256 public reserved;

    Cover[] private covers;
    mapping(bytes32 certificateId => uint256) public totalCover;
    mapping(bytes32 certificateId => Fault) private faults;

    event CollateralDeposited(address indexed operator, uint256 amount);
    event CollateralWithdrawn(address indexed operator, uint256 amount);
    event CollateralLocked(address indexed operator, uint256 amount);
    event CollateralUnlocked(address indexed operator, uint64 unlockAt);
    event CollateralForfeited(address indexed operator, uint256 amount);
    event CoverPurchased(
        uint256 indexed coverId, bytes32 indexed certificateId, address indexed holder, uint256 amount
    );
    event FaultRecorded(bytes32 indexed certificateId, uint64 provenAt);
    event ClaimFiled(uint256 indexed coverId, bytes32 indexed certificateId, uint256 amount);
    event FaultSettled(bytes32 indexed certificateId, uint256 filed, uint256 budget);
    event ClaimPaid(uint256 indexed coverId, address indexed holder, uint256 payout);
    event Received(address indexed from, uint256 amount);

    error AlreadyInitialized();
    error Unauthorized();
    error InsufficientCollateral(uint256 amount, uint256 required);
    error CollateralIsLocked();
    error WithdrawalDelay(uint64 unlockAt);
    error UnknownCertificate(bytes32 certificateId);
    error CertificateFaulty(bytes32 certificateId);
    error OutcomeKnown(bytes32 certificateId);
    error CoverCapExceeded(uint256 requested, uint256 available);
    error WrongPremium(uint256 paid, uint256 due);
    error ZeroAmount();
    error NoFault(bytes32 certificateId);
    error FaultAlreadyRecorded(bytes32 certificateId);
    error NotHolder(uint256 coverId);
    error ClaimWindowClosed(uint64 closesAt);
    error ClaimWindowOpen(uint64 closesAt);
    error AlreadyFiled(uint256 coverId);
    error NotFiled(uint256 coverId);
    error AlreadyPaid(uint256 coverId);
    error TransferFailed();

    constructor(
        CertificateVerifier verifier_,
        uint16 premiumBps_,
        uint64 claimWindow_,
        uint64 collateralWithdrawalDelay_
    ) {
        verifier = verifier_;
        premiumBps = premiumBps_;
        claimWindow = claimWindow_;
        collateralWithdrawalDelay = collateralWithdrawalDelay_;
        deployer = msg.sender;
    }

    /// @notice One-time wiring by the deployer.
    function initialize(address registrar_, address slasher_) external {
        if (msg.sender != deployer) revert Unauthorized();
        if (registrar != address(0)) revert AlreadyInitialized();
        registrar = registrar_;
        slasher = slasher_;
    }

    receive() external payable {
        emit Received(msg.sender, msg.value);
    }

    // ---------------------------------------------------------------------------------------------
    // Operator collateral
    // ---------------------------------------------------------------------------------------------

    function depositCollateral() external payable {
        if (msg.value == 0) revert ZeroAmount();
        collateral[msg.sender].amount += uint128(msg.value);
        totalCollateral += msg.value;
        emit CollateralDeposited(msg.sender, msg.value);
    }

    /// @notice Withdraws unlocked collateral, at least `collateralWithdrawalDelay` after
    ///         deregistration so evidence of past faults can still forfeit it.
    function withdrawCollateral(uint256 amount) external {
        Collateral storage c = collateral[msg.sender];
        if (c.locked) revert CollateralIsLocked();
        if (block.timestamp < c.unlockAt) revert WithdrawalDelay(c.unlockAt);
        if (amount == 0 || amount > c.amount) revert InsufficientCollateral(c.amount, amount);
        // forge-lint: disable-next-line(unsafe-typecast)
        c.amount -= uint128(amount); // amount ≤ c.amount
        totalCollateral -= amount;
        emit CollateralWithdrawn(msg.sender, amount);
        _send(msg.sender, amount);
    }

    /// @notice Locks an operator's collateral on registration (registrar only).
    function lock(address operator, uint256 minimum) external {
        if (msg.sender != registrar) revert Unauthorized();
        Collateral storage c = collateral[operator];
        if (c.amount < minimum) revert InsufficientCollateral(c.amount, minimum);
        c.locked = true;
        emit CollateralLocked(operator, c.amount);
    }

    /// @notice Starts the withdrawal delay on deregistration (registrar only).
    function unlock(address operator) external {
        if (msg.sender != registrar) revert Unauthorized();
        Collateral storage c = collateral[operator];
        c.locked = false;
        c.unlockAt = uint64(block.timestamp) + collateralWithdrawalDelay;
        emit CollateralUnlocked(operator, c.unlockAt);
    }

    /// @notice Moves a slashed operator's whole collateral into the free balance (slasher only).
    function forfeit(address operator) external returns (uint256 amount) {
        if (msg.sender != slasher) revert Unauthorized();
        amount = collateral[operator].amount;
        collateral[operator].amount = 0;
        totalCollateral -= amount;
        emit CollateralForfeited(operator, amount);
    }

    function collateralOf(address operator)
        external
        view
        returns (uint256 amount, bool locked, uint64 unlockAt)
    {
        Collateral memory c = collateral[operator];
        return (c.amount, c.locked, c.unlockAt);
    }

    // ---------------------------------------------------------------------------------------------
    // Cover and claims
    // ---------------------------------------------------------------------------------------------

    function premiumFor(uint256 amount) public view returns (uint256) {
        return (amount * premiumBps + BPS - 1) / BPS;
    }

    /// @notice Buys `amount` of cover against the certificate on `s` being wrong, before the
    ///         rollup's canonical root for that block is settled; `msg.value` must be exactly
    ///         `premiumFor(amount)`.
    function buyCover(Statement calldata s, uint256 amount) external payable returns (uint256 coverId) {
        if (amount == 0) revert ZeroAmount();
        bytes32 id = verifier.certificateId(s);
        CertificateVerifier.Certificate memory cert = verifier.getCertificate(id);
        if (cert.referenceBlock == 0) revert UnknownCertificate(id);
        if (cert.faulty || faults[id].provenAt != 0) revert CertificateFaulty(id);
        // Once the canonical root is known the outcome is too: no cover against a known result.
        (bool settled,) = verifier.rootSource(s.rollupId).canonicalStateRoot(s.blockNumber);
        if (settled) revert OutcomeKnown(id);
        uint256 available = cert.signedStake - totalCover[id];
        if (amount > available) revert CoverCapExceeded(amount, available);
        uint256 due = premiumFor(amount);
        if (msg.value != due) revert WrongPremium(msg.value, due);
        totalCover[id] += amount;
        coverId = covers.length;
        // forge-lint: disable-next-line(unsafe-typecast)
        uint128 amount128 = uint128(amount); // ≤ signed stake < 2^128
        covers.push(
            Cover({holder: msg.sender, filed: false, paid: false, amount: amount128, certificateId: id})
        );
        emit CoverPurchased(coverId, id, msg.sender, amount);
    }

    /// @notice Opens the claim window for a certificate proven wrong (slasher only).
    function recordFault(bytes32 id) external {
        if (msg.sender != slasher) revert Unauthorized();
        if (faults[id].provenAt != 0) revert FaultAlreadyRecorded(id);
        faults[id].provenAt = uint64(block.timestamp);
        emit FaultRecorded(id, uint64(block.timestamp));
    }

    /// @notice Files a claim on a cover whose certificate was proven wrong, within the claim window.
    function fileClaim(uint256 coverId) external {
        Cover storage c = covers[coverId];
        if (c.holder != msg.sender) revert NotHolder(coverId);
        if (c.filed) revert AlreadyFiled(coverId);
        Fault storage f = faults[c.certificateId];
        if (f.provenAt == 0) revert NoFault(c.certificateId);
        uint64 closesAt = f.provenAt + claimWindow;
        if (block.timestamp > closesAt) revert ClaimWindowClosed(closesAt);
        c.filed = true;
        f.filed += c.amount;
        emit ClaimFiled(coverId, c.certificateId, c.amount);
    }

    /// @notice Pays a filed claim after the window closed: `amount × budget / filed`, once.
    function payClaim(uint256 coverId) external returns (uint256 payout) {
        Cover storage c = covers[coverId];
        if (!c.filed) revert NotFiled(coverId);
        if (c.paid) revert AlreadyPaid(coverId);
        Fault storage f = faults[c.certificateId];
        uint64 closesAt = f.provenAt + claimWindow;
        if (block.timestamp <= closesAt) revert ClaimWindowOpen(closesAt);
        if (!f.settled) {
            uint256 free = freeBalance();
            uint256 budget = f.filed < free ? f.filed : free;
            f.settled = true;
            // forge-lint: disable-next-line(unsafe-typecast)
            f.budget = uint128(budget); // ≤ f.filed
            reserved += budget;
            emit FaultSettled(c.certificateId, f.filed, budget);
        }
        c.paid = true;
        payout = uint256(c.amount) * f.budget / f.filed;
        reserved -= payout;
        emit ClaimPaid(coverId, c.holder, payout);
        _send(c.holder, payout);
    }

    /// @notice Balance backing new claims: everything except collateral and reserved budgets.
    function freeBalance() public view returns (uint256) {
        return address(this).balance - totalCollateral - reserved;
    }

    function getCover(uint256 coverId) external view returns (Cover memory) {
        return covers[coverId];
    }

    function coverCount() external view returns (uint256) {
        return covers.length;
    }

    function getFault(bytes32 id) external view returns (Fault memory) {
        return faults[id];
    }

    function _send(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }
}
