#!/usr/bin/env node
// Runs the built CLI when there is one, else the TypeScript source through @swc-node/register.
const fs = require('node:fs');
const path = require('node:path');

const built = path.join(__dirname, '..', 'dist', 'cli.js');
let cli;
if (fs.existsSync(built)) {
  cli = require(built);
} else {
  require('@swc-node/register');
  cli = require('../src/cli.ts');
}
process.exitCode = cli.main(process.argv.slice(2));
