#!/usr/bin/env node
// Copies the ABI and creation bytecode of the contracts the Rust crate deploys from forge's
// `out/` into the committed `artifacts/`, so that `cargo build` works on a fresh clone without
// forge. Run from `contracts/` after `forge build`:
//
//   node script/export-artifacts.js           # rewrite artifacts/*.json
//   node script/export-artifacts.js --check   # fail if artifacts/ differs from out/ (CI)
//
// Like forge, it reads the build directory from $FOUNDRY_OUT when set.
'use strict';
const fs = require('fs');
const path = require('path');

// [source file relative to the project, contract name]
const CONTRACTS = [
  ['src/OperatorRegistry.sol', 'OperatorRegistry'],
  ['src/CertificateVerifier.sol', 'CertificateVerifier'],
  ['src/CompensationPool.sol', 'CompensationPool'],
  ['src/SuretyRegistrar.sol', 'SuretyRegistrar'],
  ['src/Slasher.sol', 'Slasher'],
  // The canonical-root source whose trusted poster posts final roots (the devnet's).
  ['src/adapters/PostedRootSource.sol', 'PostedRootSource'],
  // The integration pattern for apps (docs/contracts.md), deployed by the devnet.
  ['src/examples/ExampleBridge.sol', 'ExampleBridge'],
];

const root = path.join(__dirname, '..');
const out = path.resolve(root, process.env.FOUNDRY_OUT || 'out');
const check = process.argv.includes('--check');
let stale = 0;

for (const [source, name] of CONTRACTS) {
  const built = path.join(out, path.basename(source), `${name}.json`);
  if (!fs.existsSync(built)) {
    console.error(`${built} is missing: run \`forge build\` first`);
    process.exit(2);
  }
  const artifact = JSON.parse(fs.readFileSync(built, 'utf8'));
  const exported =
    JSON.stringify({ abi: artifact.abi, bytecode: { object: artifact.bytecode.object } }, null, 2) + '\n';
  const target = path.join(root, 'artifacts', `${name}.json`);
  if (check) {
    const committed = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
    if (committed !== exported) {
      console.error(`artifacts/${name}.json is stale`);
      stale++;
    }
  } else {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, exported);
  }
}

if (stale) {
  console.error('regenerate: cd contracts && forge build && node script/export-artifacts.js');
  process.exit(1);
}
