// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {CertificateVerifier} from "./CertificateVerifier.sol";
import {RollupStatus} from "./RollupRegistry.sol";
import {Statement} from "./libraries/StatementLib.sol";
import {Slasher} from "./Slasher.sol";

/// @title CompensationPool
/// @notice Holds operator collateral, sells cover against certificates and pays claims once a
///         certificate is proven wrong.
/// @dev Money flow (ETH): premiums, forfeited collateral, failed accusers' bonds and any plain
///      transfer (e.g. a future EigenLayer redistribution payout) become the free balance. Locked
///      collateral never backs claims until forfeited; collateral forfeited by the signers of a
///      faulty certificate is credited to that certificate's fault, other forfeits go to the free
///      balance.
///      Cover rules: bought by non-operators only, within `coverWindow` of certification, while the
///      certificate is neither accused, faulty, its rollup paused or halted by an alert, nor its root
///      settled; total cover
///      on a certificate ≤ the signers' locked collateral at its reference block (the ETH its fault
///      forfeits; EigenLayer v1 slashing burns stake and pays the pool nothing).
///      Claims: every cover on a faulty certificate is a claim. `claimWindow` after the fault (time to
///      slash the signers) the fault settles once: budget = min(total cover, credited + free
///      balance). Covers are paid in purchase order: a cover starting at `start` (the cover sold on
///      the certificate before it) gets min(amount, budget − start), so later buyers never dilute
///      earlier ones and payouts sum to the budget exactly (no rounding). Collateral credited after
///      settlement raises the budget (up to the total cover) and the covers' dues.
contract CompensationPool {
    uint256 private constant BPS = 10_000;

    struct Collateral {
        uint128 amount;
        bool locked;
        uint64 unlockAt;
    }

    /// @dev `start`: cover sold on the certificate before this one (its seniority); `paid`: paid so far.
    struct Cover {
        address holder;
        uint128 amount;
        uint128 start;
        uint128 paid;
        bytes32 certificateId;
    }

    /// @dev `credited`: forfeited collateral of the fault's signers awaiting settlement.
    struct Fault {
        uint64 provenAt;
        bool settled;
        uint128 budget;
        uint128 credited;
    }

    CertificateVerifier public immutable verifier;
    uint16 public immutable premiumBps;
    /// @notice Delay between a proven fault and its settlement, for slashing its signers.
    uint64 public immutable claimWindow;
    uint64 public immutable collateralWithdrawalDelay;
    /// @notice How long after certification cover can be bought on a certificate.
    uint64 public immutable coverWindow;
    address private immutable deployer;
    address public registrar;
    address public slasher;

    mapping(address operator => Collateral) private collateral;
    /// @notice Sum of all operators' collateral (not available for claims).
    uint256 public totalCollateral;
    /// @notice Budgets of settled faults not yet paid out.
    uint256 public reserved;
    /// @notice Collateral credited to faults that have not settled yet.
    uint256 public pendingCredits;
    /// @notice Payouts whose transfer failed, withdrawable by their holders.
    uint256 public totalOwed;
    mapping(address holder => uint256) public owed;

    Cover[] private covers;
    mapping(bytes32 certificateId => uint256) public totalCover;
    mapping(bytes32 certificateId => Fault) private faults;

    event CollateralDeposited(address indexed operator, uint256 amount);
    event CollateralWithdrawn(address indexed operator, uint256 amount);
    event CollateralLocked(address indexed operator, uint256 amount);
    event CollateralUnlocked(address indexed operator, uint64 unlockAt);
    event CollateralForfeited(address indexed operator, uint256 amount, bytes32 indexed creditedTo);
    event CoverPurchased(
        uint256 indexed coverId, bytes32 indexed certificateId, address indexed holder, uint256 amount
    );
    event FaultRecorded(bytes32 indexed certificateId, uint64 provenAt);
    event FaultSettled(bytes32 indexed certificateId, uint256 cover, uint256 budget);
    event BudgetRaised(bytes32 indexed certificateId, uint256 budget);
    event ClaimPaid(uint256 indexed coverId, address indexed holder, uint256 payout);
    event PayoutOwed(address indexed holder, uint256 amount);
    event Received(address indexed from, uint256 amount);

    error AlreadyInitialized();
    error Unauthorized();
    error ZeroAddress();
    error InvalidParameter();
    error InsufficientCollateral(uint256 amount, uint256 required);
    error CollateralIsLocked();
    error WithdrawalDelay(uint64 unlockAt);
    error UnknownCertificate(bytes32 certificateId);
    error CertificateFaulty(bytes32 certificateId);
    error OutcomeKnown(bytes32 certificateId);
    error CoverSuspended(bytes32 certificateId);
    error CoverWindowClosed(uint64 closedAt);
    error OperatorsCannotBuyCover(address operator);
    error CoverCapExceeded(uint256 requested, uint256 available);
    error WrongPremium(uint256 paid, uint256 due);
    error ZeroAmount();
    error NoFault(bytes32 certificateId);
    error FaultAlreadyRecorded(bytes32 certificateId);
    error ClaimWindowOpen(uint64 closesAt);
    error AlreadyPaid(uint256 coverId);
    error TransferFailed();

    constructor(
        CertificateVerifier verifier_,
        uint16 premiumBps_,
        uint64 claimWindow_,
        uint64 collateralWithdrawalDelay_,
        uint64 coverWindow_
    ) {
        if (address(verifier_) == address(0)) revert ZeroAddress();
        // A zero premium makes cover free to hoard; a zero claim window settles before anyone is
        // slashed; collateral must stay forfeitable at least until the faults it backs settle.
        if (
            premiumBps_ == 0 || premiumBps_ > BPS || claimWindow_ == 0 || coverWindow_ == 0
                || collateralWithdrawalDelay_ < claimWindow_
        ) revert InvalidParameter();
        verifier = verifier_;
        premiumBps = premiumBps_;
        claimWindow = claimWindow_;
        collateralWithdrawalDelay = collateralWithdrawalDelay_;
        coverWindow = coverWindow_;
        deployer = msg.sender;
    }

    /// @notice One-time wiring by the deployer.
    function initialize(address registrar_, address slasher_) external {
        if (msg.sender != deployer) revert Unauthorized();
        if (registrar != address(0)) revert AlreadyInitialized();
        if (registrar_ == address(0) || slasher_ == address(0)) revert ZeroAddress();
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
        // forge-lint: disable-next-line(unsafe-typecast)
        collateral[msg.sender].amount += uint128(msg.value); // ether supply < 2^128 wei
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

    /// @notice Takes a punished operator's whole collateral (slasher only): credited to the fault of
    ///         `certificateId` when it is one the operator signed, else to the free balance.
    function forfeit(address operator, bytes32 certificateId) external returns (uint256 amount) {
        if (msg.sender != slasher) revert Unauthorized();
        amount = collateral[operator].amount;
        collateral[operator].amount = 0;
        totalCollateral -= amount;
        Fault storage f = faults[certificateId];
        if (certificateId != bytes32(0) && f.provenAt != 0) {
            if (!f.settled) {
                // forge-lint: disable-next-line(unsafe-typecast)
                f.credited += uint128(amount); // collateral amounts are uint128
                pendingCredits += amount;
            } else {
                // Late slashing still pays this fault's holders, up to their total cover.
                uint256 raise = totalCover[certificateId] - f.budget;
                if (amount < raise) raise = amount;
                // forge-lint: disable-next-line(unsafe-typecast)
                f.budget += uint128(raise); // budget ≤ total cover < 2^128
                reserved += raise;
                emit BudgetRaised(certificateId, f.budget);
            }
        }
        emit CollateralForfeited(operator, amount, certificateId);
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

    /// @notice Cover (wei) that can still be sold on a certificate: the signers' locked collateral
    ///         at its reference block minus the cover already sold.
    function coverAvailable(bytes32 id) public view returns (uint256) {
        uint256 cap =
            uint256(verifier.getCertificate(id).signedCollateral) * verifier.registry().COLLATERAL_UNIT();
        uint256 sold = totalCover[id];
        return cap > sold ? cap - sold : 0;
    }

    /// @notice Buys `amount` of cover against the certificate on `s` being wrong; `msg.value` must be
    ///         exactly `premiumFor(amount)`. See the contract notes for when cover is sold.
    function buyCover(Statement calldata s, uint256 amount) external payable returns (uint256 coverId) {
        if (amount == 0) revert ZeroAmount();
        bytes32 id = verifier.certificateId(s);
        CertificateVerifier.Certificate memory cert = verifier.getCertificate(id);
        if (cert.referenceBlock == 0) revert UnknownCertificate(id);
        if (cert.faulty || faults[id].provenAt != 0) revert CertificateFaulty(id);
        // Whoever accuses or alerts knows more than the market: no cover while a verdict is pending,
        // nor while the rollup is paused or halted by an alert.
        (address accuser,,) = Slasher(slasher).accusations(id);
        if (accuser != address(0) || verifier.rollupStatus(s.rollupId) != RollupStatus.Active) {
            revert CoverSuspended(id);
        }
        uint64 closedAt = uint64(cert.certifiedAt) + coverWindow;
        if (block.timestamp > closedAt) revert CoverWindowClosed(closedAt);
        // Operators would insure against their own faults and take their forfeited collateral back.
        if (verifier.registry().keyHashOf(msg.sender) != bytes32(0)) {
            revert OperatorsCannotBuyCover(msg.sender);
        }
        // Once the canonical root is known the outcome is too: no cover against a known result.
        (bool settled,) = verifier.rootSource(s.rollupId).canonicalStateRoot(s.blockNumber);
        if (settled) revert OutcomeKnown(id);
        uint256 available = coverAvailable(id);
        if (amount > available) revert CoverCapExceeded(amount, available);
        uint256 due = premiumFor(amount);
        if (msg.value != due) revert WrongPremium(msg.value, due);
        uint256 start = totalCover[id];
        totalCover[id] = start + amount;
        coverId = covers.length;
        // Both ≤ the cap, which is below 2^48 collateral units of 10^12 wei (< 2^88).
        // forge-lint: disable-next-line(unsafe-typecast)
        (uint128 amount128, uint128 start128) = (uint128(amount), uint128(start));
        covers.push(
            Cover({holder: msg.sender, amount: amount128, start: start128, paid: 0, certificateId: id})
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

    /// @notice Pays what a cover on a faulty certificate is due, after the claim window; anyone may
    ///         call it for any cover. A payout the holder cannot receive is kept for `withdrawOwed`.
    function payClaim(uint256 coverId) external returns (uint256 payout) {
        Cover storage c = covers[coverId];
        Fault storage f = faults[c.certificateId];
        if (f.provenAt == 0) revert NoFault(c.certificateId);
        uint64 closesAt = f.provenAt + claimWindow;
        if (block.timestamp <= closesAt) revert ClaimWindowOpen(closesAt);
        if (!f.settled) _settle(c.certificateId, f);
        payout = _entitlement(c, f.budget) - c.paid;
        if (payout == 0) revert AlreadyPaid(coverId);
        // forge-lint: disable-next-line(unsafe-typecast)
        c.paid += uint128(payout); // ≤ amount
        reserved -= payout;
        emit ClaimPaid(coverId, c.holder, payout);
        (bool ok,) = c.holder.call{value: payout}("");
        if (!ok) {
            owed[c.holder] += payout;
            totalOwed += payout;
            emit PayoutOwed(c.holder, payout);
        }
    }

    /// @notice Withdraws payouts whose transfer failed earlier.
    function withdrawOwed() external {
        uint256 amount = owed[msg.sender];
        owed[msg.sender] = 0;
        totalOwed -= amount;
        _send(msg.sender, amount);
    }

    /// @dev Fixes the fault's budget once: its credited collateral plus free balance, at most its
    ///      total cover; the rest of the credit returns to the free balance.
    function _settle(bytes32 id, Fault storage f) private {
        uint256 credited = f.credited;
        pendingCredits -= credited;
        uint256 available = credited + freeBalance();
        uint256 budget = totalCover[id] < available ? totalCover[id] : available;
        f.settled = true;
        f.credited = 0;
        // forge-lint: disable-next-line(unsafe-typecast)
        f.budget = uint128(budget); // ≤ total cover
        reserved += budget;
        emit FaultSettled(id, totalCover[id], budget);
    }

    /// @dev A cover's share of `budget` in purchase order.
    function _entitlement(Cover storage c, uint256 budget) private view returns (uint256) {
        if (budget <= c.start) return 0;
        uint256 rest = budget - c.start;
        return rest < c.amount ? rest : c.amount;
    }

    /// @notice A cover's total payout: its entitlement once the fault settled, before that what it
    ///         would be if the certificate's fault settled now.
    function payoutOf(uint256 coverId) external view returns (uint256) {
        Cover storage c = covers[coverId];
        Fault memory f = faults[c.certificateId];
        if (f.settled) return _entitlement(c, f.budget);
        uint256 available = f.credited + freeBalance();
        uint256 cover = totalCover[c.certificateId];
        return _entitlement(c, cover < available ? cover : available);
    }

    /// @notice Balance backing new claims: everything except collateral, reserved budgets, credits
    ///         of unsettled faults and owed payouts.
    function freeBalance() public view returns (uint256) {
        return address(this).balance - totalCollateral - reserved - pendingCredits - totalOwed;
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
