#!/usr/bin/env node
// Hostile gRPC client for a running `surety devnet`.
//
//   node tests/hostile-client/hostile.mjs --devnet <datadir>/devnet.json
//
// Why: the aggregator issue requires that "a fresh devnet must also survive hostile gRPC traffic
// from clients written in another language". This client shares no code with the Rust side: it
// loads proto/surety/v1/attestation.proto at run time (@grpc/proto-loader, no generated code),
// speaks gRPC through @grpc/grpc-js and makes its BLS12-381 points and signatures with
// @noble/curves. It sends every aggregator in devnet.json garbage bytes, malformed messages,
// malformed and non-canonical curve points, unknown keys, forged signatures by registered keys,
// stale and far-future heights, an oversized batch and malformed mismatch reports, each with the
// gRPC code (or per-attestation result) that aggregator/src/intake.rs, server.rs and mismatch.rs
// document, then floods them with forged attestations for FLOOD_SECONDS.
//
// Safety: it never holds an operator's secret key. Registered keys are only ever paired with
// random G1 points or with signatures by noble's own random keys, so nothing it sends can be
// counted, become double-signing evidence or get an honest operator slashed.
//
// Output: one line per case (`ok <case>: <CODE>` or `UNEXPECTED <case>: expected X, got Y`),
// then one JSON summary line. Exit status 1 on any unexpected answer or unreachable aggregator.

import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import { bls12_381 as bls } from '@noble/curves/bls12-381.js';
import { keccak_256 } from '@noble/hashes/sha3.js';

const PROTO = join(dirname(fileURLToPath(import.meta.url)), '../../proto/surety/v1/attestation.proto');
const DST = 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_';
const MAX_AHEAD = 100_000n; // the aggregator's default `intake.max_ahead`
const MAX_BATCH = 1024; // server.rs MAX_BATCH, the proto's "up to 1,024"
const FLOOD_SECONDS = Number(process.env.HOSTILE_FLOOD_SECONDS ?? 15);
const SINGLES = Number(process.env.HOSTILE_SINGLES ?? 300); // concurrent single calls per aggregator
const CALL_TIMEOUT_MS = 30_000; // a refusal that takes longer counts as a hang
const FLOOD_TIMEOUT_MS = 60_000; // the same, for a call queued behind the whole flood
const C = grpc.status;
const NAME = Object.fromEntries(Object.entries(C).map(([k, v]) => [v, k]));

// ---- devnet.json, L1 ----
const arg = process.argv.indexOf('--devnet');
if (arg < 0 || !process.argv[arg + 1]) {
  console.error('usage: node hostile.mjs --devnet <path to devnet.json>');
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(process.argv[arg + 1], 'utf8'));
const ROLLUP = BigInt(manifest.rollups[0].id);
const CHAIN_ID = BigInt(manifest.l1.chain_id);
const VERIFIER = manifest.l1.contracts.verifier;

const hex = (h) => Uint8Array.from(Buffer.from(h.replace(/^0x/, ''), 'hex'));
const word = (n) => hex(BigInt(n).toString(16).padStart(64, '0'));
const cat = (...parts) => Buffer.concat(parts.map((p) => Buffer.from(p)));
const keccak = (s) => keccak_256(typeof s === 'string' ? new TextEncoder().encode(s) : s);
const rand32 = () => randomBytes(32);
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];
const OPERATOR_KEYS = manifest.operators.map((o) => Buffer.from(hex(o.public_key)));

async function certifiedHead() {
  const data = '0x' + Buffer.from(keccak('latestCertifiedBlock(uint64)').slice(0, 4)).toString('hex')
    + Buffer.from(word(ROLLUP)).toString('hex');
  const res = await fetch(manifest.l1.rpc, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ to: VERIFIER, data }, 'latest'] }),
  });
  const { result, error } = await res.json();
  if (error) throw new Error(`eth_call latestCertifiedBlock: ${JSON.stringify(error)}`);
  return BigInt(result);
}

// ---- BLS12-381 points (compressed, zcash encoding) ----
const sigs = bls.shortSignatures; // min-sig: signatures in G1, keys in G2
const P = bls.fields.Fp.ORDER;
const R = bls.fields.Fr.ORDER;
const modpow = (b, e, m) => { let r = 1n; b %= m; for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m; return r; };
const isSquare = (v) => v === 0n || modpow(v, (P - 1n) / 2n, P) === 1n;
const g1Bytes = (x, flags) => { const b = hex(x.toString(16).padStart(96, '0')); b[0] |= flags; return Buffer.from(b); };
const randomScalar = () => (BigInt('0x' + randomBytes(40).toString('hex')) % (R - 1n)) + 1n;
const randomG1 = () => Buffer.from(bls.G1.Point.BASE.multiply(randomScalar()).toBytes(true));
// Forged signatures: random well-formed G1 points (a pool; each costs noble a few ms to make).
const FORGED = Array.from({ length: 32 }, randomG1);
const G1_INFINITY = Buffer.concat([Buffer.from([0xc0]), Buffer.alloc(47)]);
const G2_INFINITY = Buffer.concat([Buffer.from([0xc0]), Buffer.alloc(95)]);
// x with no point on y² = x³ + 4 (off the curve), and x on the curve but outside the subgroup.
let offCurve, outsideSubgroup;
for (let x = 1n; !offCurve || !outsideSubgroup; x++) {
  const bytes = g1Bytes(x, 0x80);
  if (!isSquare((x * x * x + 4n) % P)) offCurve ??= bytes;
  else {
    try { sigs.Signature.fromBytes(bytes); } catch { outsideSubgroup ??= bytes; }
  }
}
// A real point's x written as x + p (still < 2^381, so it fits the 381 bits): non-canonical.
let nonCanonical;
while (!nonCanonical) {
  const b = randomG1();
  const x = BigInt('0x' + Buffer.from(b).toString('hex')) & ((1n << 381n) - 1n);
  if (x + P < 1n << 381n) nonCanonical = g1Bytes(x + P, b[0] & 0xe0);
}
// A key no operator registered, and real signatures by it.
const stranger = sigs.keygen();
const STRANGER_KEY = Buffer.from(stranger.publicKey.toBytes(true));
const signAs = (sk, root) => Buffer.from(sigs.Signature.toBytes(sigs.sign(sigs.hash(root, DST), sk)));

// ---- messages (proto-loader objects, keepCase) ----
const TAG = keccak('surety.statement.v1');
const MISMATCH_TAG = keccak('surety.mismatch.v1');
const domain = [word(CHAIN_ID), word(BigInt(VERIFIER))];
const statement = (height, o = {}) => ({ rollup_id: ROLLUP.toString(), block_number: height.toString(),
  block_hash: rand32(), parent_hash: rand32(), state_root: rand32(), ...o });
const signingRoot = (s) => keccak(cat(TAG, ...domain, word(s.rollup_id), word(s.block_number),
  s.block_hash, s.parent_hash, s.state_root));
const forged = (s, key = pick(OPERATOR_KEYS)) => ({ statement: s, public_key: key, signature: pick(FORGED) });
const report = (height, o = {}) => ({ rollup_id: ROLLUP.toString(), block_number: height.toString(),
  block_hash: rand32(), parent_hash: rand32(), claimed_state_root: rand32(), computed_state_root: rand32(),
  public_key: pick(OPERATOR_KEYS), signature: pick(FORGED), ...o });
const reportRoot = (r) => keccak(cat(MISMATCH_TAG, ...domain, word(r.rollup_id), word(r.block_number),
  r.block_hash, r.parent_hash, r.claimed_state_root, r.computed_state_root));

// ---- gRPC ----
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true, longs: String, enums: String, defaults: true }));
const clients = manifest.aggregators.map((a) => new pkg.surety.v1.Aggregator(
  a.grpc.replace(/^https?:\/\//, ''), grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 << 20 }));

const deadline = (ms = CALL_TIMEOUT_MS) => new Date(Date.now() + ms);
// Resolves with { code, details, response }; code 0 is OK.
const call = (client, method, msg, ms) => new Promise((resolve) => client[method](msg, { deadline: deadline(ms) },
  (err, response) => resolve(err ? { code: err.code, details: err.details } : { code: C.OK, response })));
// Raw bytes as the request body: an identity serializer skips protobuf entirely.
const callRaw = (client, method, bytes) => new Promise((resolve) => client.makeUnaryRequest(
  `/surety.v1.Aggregator/${method}`, (b) => b, (b) => b, bytes, { deadline: deadline() },
  (err) => resolve({ code: err ? err.code : C.OK, details: err?.details })));

// ---- cases ----
const results = { ok: 0, unexpected: 0, unreachable: 0 };
function judge(name, expected, got, details) {
  const good = typeof expected === 'function' ? expected(got) : got === expected;
  const want = typeof expected === 'function' ? expected.label : NAME[expected];
  if (good) { results.ok++; console.log(`ok ${name}: ${NAME[got]}`); }
  else { results.unexpected++; console.log(`UNEXPECTED ${name}: expected ${want}, got ${NAME[got] ?? got}${details ? ` (${details})` : ''}`); }
}
// Any refusal that is a status, not a hang, not a dead server.
const anError = Object.assign((c) => ![C.OK, C.DEADLINE_EXCEEDED, C.UNAVAILABLE].includes(c), { label: 'an error status' });

// `head`: the certified head on L1 when the cases start; `certified`: the aggregator's own (never
// ahead of L1's). Heights 1,000 above L1's head stay uncertified and inside the window meanwhile.
function attestationCases(head, certified) {
  const next = head + 1000n;
  const s = () => statement(next);
  const op = OPERATOR_KEYS[0];
  const strangerStmt = s();
  const wrongKeyStmt = s();
  return [
    ['empty Attestation', {}, C.INVALID_ARGUMENT],
    ['31-byte block_hash', forged(statement(next, { block_hash: randomBytes(31) })), C.INVALID_ARGUMENT],
    ['33-byte parent_hash', forged(statement(next, { parent_hash: randomBytes(33) })), C.INVALID_ARGUMENT],
    ['zero state_root', forged(statement(next, { state_root: Buffer.alloc(32) })), C.INVALID_ARGUMENT],
    ['block 0', forged(statement(0n)), C.INVALID_ARGUMENT],
    ['47-byte signature', { statement: s(), public_key: op, signature: randomBytes(47) }, C.INVALID_ARGUMENT],
    ['95-byte public key', { statement: s(), public_key: op.subarray(0, 95), signature: pick(FORGED) }, C.INVALID_ARGUMENT],
    ['signature at infinity', { statement: s(), public_key: op, signature: G1_INFINITY }, C.INVALID_ARGUMENT],
    ['public key at infinity', { statement: s(), public_key: G2_INFINITY, signature: pick(FORGED) }, C.INVALID_ARGUMENT],
    ['off-curve G1 signature', { statement: s(), public_key: op, signature: offCurve }, C.INVALID_ARGUMENT],
    ['G1 signature outside the subgroup', { statement: s(), public_key: op, signature: outsideSubgroup }, C.INVALID_ARGUMENT],
    ['non-canonical G1 signature (x + p)', { statement: s(), public_key: op, signature: nonCanonical }, C.INVALID_ARGUMENT],
    ['unregistered key, real signature', { statement: strangerStmt, public_key: STRANGER_KEY,
      signature: signAs(stranger.secretKey, signingRoot(strangerStmt)) }, C.UNAUTHENTICATED],
    ['registered key, random G1 signature', forged(s(), op), C.UNAUTHENTICATED],
    ['registered key, real signature by another key', { statement: wrongKeyStmt, public_key: op,
      signature: signAs(stranger.secretKey, signingRoot(wrongKeyStmt)) }, C.UNAUTHENTICATED],
    ['unknown rollup 999', forged(statement(next, { rollup_id: '999' })), C.FAILED_PRECONDITION],
    ['unknown rollup 2^64-1', forged(statement(next, { rollup_id: '18446744073709551615' })), C.FAILED_PRECONDITION],
    [`height ${certified} (certified)`, forged(statement(certified)), C.FAILED_PRECONDITION],
    [`height head + max_ahead + 1000 (${head + MAX_AHEAD + 1000n})`, forged(statement(head + MAX_AHEAD + 1000n)), C.FAILED_PRECONDITION],
    ['height 2^64-1', forged(statement(18446744073709551615n)), C.FAILED_PRECONDITION],
  ];
}

function reportCases(head) {
  const next = head + 1000n;
  const r = report(next, { public_key: STRANGER_KEY });
  r.signature = signAs(stranger.secretKey, reportRoot(r));
  return [
    ['empty MismatchReport', {}, C.INVALID_ARGUMENT],
    ['report with 31-byte claimed_state_root', report(next, { claimed_state_root: randomBytes(31) }), C.INVALID_ARGUMENT],
    ['report with zero computed_state_root', report(next, { computed_state_root: Buffer.alloc(32) }), C.INVALID_ARGUMENT],
    ['report with 47-byte signature', report(next, { signature: randomBytes(47) }), C.INVALID_ARGUMENT],
    ['report with key at infinity', report(next, { public_key: G2_INFINITY }), C.INVALID_ARGUMENT],
    ['report with off-curve signature', report(next, { signature: offCurve }), C.INVALID_ARGUMENT],
    ['report by an unregistered key, real signature', r, C.UNAUTHENTICATED],
    ['report by a registered key, random G1 signature', report(next), C.UNAUTHENTICATED],
    ['report for unknown rollup 999', report(next, { rollup_id: '999' }), C.FAILED_PRECONDITION],
  ];
}

async function probe(client) {
  const { code } = await call(client, 'SubmitAttestation', {});
  return code === C.INVALID_ARGUMENT;
}

// The aggregator's own certified head (its /status), once it has seen a certificate.
async function aggregatorHead(i) {
  for (let waited = 0; waited < 120; waited++) {
    const status = await (await fetch(`${manifest.aggregators[i].http}/status`)).json();
    const head = BigInt(status.rollups.find((r) => BigInt(r.id) === ROLLUP)?.certified_head ?? 0);
    if (head > 0n) return head;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`aggregator ${i + 1} has seen no certificate after 120 s`);
}

async function runCases(i, client) {
  const tag = `agg${i + 1}`;
  const certified = await aggregatorHead(i);
  const head = await certifiedHead();
  const raw = [['garbage bytes', Buffer.concat([Buffer.from([0x07]), randomBytes(200)])],
    ['truncated protobuf', Buffer.from([0x0a, 0x40, 0x08, 0x01])], ['5 MiB of garbage', randomBytes(5 << 20)]];
  for (const method of ['SubmitAttestation', 'SubmitAttestations', 'ReportMismatch']) {
    for (const [name, bytes] of raw) {
      const { code, details } = await callRaw(client, method, bytes);
      judge(`${tag} ${method} ${name}`, anError, code, details);
    }
  }
  const cases = attestationCases(head, certified);
  for (const [name, msg, expected] of cases) {
    const { code, details } = await call(client, 'SubmitAttestation', msg);
    judge(`${tag} SubmitAttestation ${name}`, expected, code, details);
  }
  // The same cases in one batch: the call succeeds, each result carries the single call's code.
  const batch = await call(client, 'SubmitAttestations', { attestations: cases.map((c) => c[1]) });
  const wrong = batch.code !== C.OK ? [`call failed with ${NAME[batch.code]}`]
    : cases.flatMap(([name, , expected], j) => {
      const r = batch.response.results[j];
      return r?.status === 'STATUS_REJECTED' && r.code === expected ? [] : [`${name}: ${r?.status} ${NAME[r?.code]}`];
    });
  const allMatch = Object.assign(() => wrong.length === 0, { label: 'OK with the codes above' });
  judge(`${tag} SubmitAttestations with the ${cases.length} cases above`, allMatch, batch.code, wrong.join('; '));
  const over = Array.from({ length: MAX_BATCH + 1 }, () => forged(statement(head + 1000n)));
  const big = await call(client, 'SubmitAttestations', { attestations: over });
  judge(`${tag} SubmitAttestations of ${MAX_BATCH + 1}`, C.INVALID_ARGUMENT, big.code, big.details);
  for (const [name, msg, expected] of reportCases(head)) {
    const { code, details } = await call(client, 'ReportMismatch', msg);
    judge(`${tag} ReportMismatch ${name}`, expected, code, details);
  }
  if (!(await probe(client))) { results.unreachable++; console.log(`UNEXPECTED ${tag}: unreachable after the cases`); }
}

// ---- flood: forged attestations by registered keys, batches and concurrent single calls ----
async function flood(i, client, head) {
  const tally = { sent: 0, calls: 0, codes: {} };
  const count = (code, n = 1) => { tally.codes[NAME[code] ?? code] = (tally.codes[NAME[code] ?? code] ?? 0) + n; };
  const bad = [];
  const end = Date.now() + FLOOD_SECONDS * 1000;
  // Far enough above the head that honest certificates do not overtake it during the flood.
  const height = () => head + 1000n + BigInt(Math.floor(Math.random() * 1000));
  const typed = [C.UNAUTHENTICATED, C.FAILED_PRECONDITION, C.INVALID_ARGUMENT];
  const pause = (ms) => new Promise((r) => setTimeout(r, ms));
  const batches = async (shared) => {
    while (Date.now() < end) {
      // Half the batches put every forgery on one statement: one group, bisected to the end.
      const one = statement(height());
      const attestations = Array.from({ length: 256 }, () => forged(shared ? { ...one } : statement(height())));
      const { code, response, details } = await call(client, 'SubmitAttestations', { attestations }, FLOOD_TIMEOUT_MS);
      tally.sent += attestations.length; tally.calls++;
      if (code === C.RESOURCE_EXHAUSTED) { count(code, attestations.length); await pause(20); continue; }
      if (code !== C.OK) { count(code, attestations.length); bad.push(`batch: ${NAME[code]} ${details}`); continue; }
      for (const r of response.results) {
        count(r.status === 'STATUS_REJECTED' ? r.code : r.status);
        if (r.status !== 'STATUS_REJECTED' || !typed.includes(r.code)) bad.push(`batch result: ${r.status} ${r.code} ${r.reason}`);
      }
    }
  };
  const singles = async () => {
    while (Date.now() < end) {
      const { code, details } = await call(client, 'SubmitAttestation', forged(statement(height())), FLOOD_TIMEOUT_MS);
      tally.sent++; tally.calls++; count(code);
      if (code === C.RESOURCE_EXHAUSTED) await pause(20);
      else if (!typed.includes(code)) bad.push(`single: ${NAME[code]} ${details}`);
    }
  };
  // Hundreds of calls in flight at once (an untrusted connection may have 1,024 attestations waiting).
  await Promise.all([batches(false), batches(true), ...Array.from({ length: SINGLES }, singles)]);
  const tag = `agg${i + 1}`;
  const allTyped = Object.assign(() => bad.length === 0, { label: 'typed refusals or RESOURCE_EXHAUSTED' });
  judge(`${tag} flood of ${tally.sent} forged attestations in ${tally.calls} calls ${JSON.stringify(tally.codes)}`,
    allTyped, bad.length ? C.UNKNOWN : C.OK, bad.slice(0, 5).join('; '));
  if (!(await probe(client))) { results.unreachable++; console.log(`UNEXPECTED ${tag}: unreachable after the flood`); }
  return tally;
}

let head = await certifiedHead();
for (let waited = 0; head === 0n && waited < 120; waited++) { await new Promise((r) => setTimeout(r, 1000)); head = await certifiedHead(); }
if (head === 0n) { console.error('no certificate on L1 yet: the "certified height" case needs one'); process.exit(1); }
for (const [i, client] of clients.entries()) {
  if (!(await probe(client))) { results.unreachable++; console.log(`UNEXPECTED agg${i + 1}: unreachable before the cases`); }
}
for (const [i, client] of clients.entries()) await runCases(i, client);
const started = Date.now();
head = await certifiedHead();
const floods = await Promise.all(clients.map((client, i) => flood(i, client, head)));
console.log(JSON.stringify({ certified_head_at_start: Number(head), certified_head_now: Number(await certifiedHead()),
  ...results, flood_seconds: (Date.now() - started) / 1000, flood: floods }));
for (const client of clients) client.close();
process.exit(results.unexpected || results.unreachable ? 1 : 0);
