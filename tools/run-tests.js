#!/usr/bin/env node
// Runs every Jest project once and closes with one plain summary line
// ("N passed, N failed, N skipped") that CI reads. Extra args go to Jest.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const resultDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ibft-lab-tests-'));
const resultFile = path.join(resultDir, 'jest.json');
// VM tests share 2 cores: one worker keeps their deadlines honest.
const args = ['--ci', '--runInBand', '--json', `--outputFile=${resultFile}`, ...process.argv.slice(2)];
const run = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), ...args], {
  cwd: root,
  stdio: 'inherit',
});

let summary = null;
try {
  summary = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
} catch {
  // Jest died before writing results; its own output says why.
}
fs.rmSync(resultDir, { recursive: true, force: true });

if (summary) {
  const skipped = summary.numPendingTests + summary.numTodoTests;
  console.log(`\n${summary.numPassedTests} passed, ${summary.numFailedTests} failed, ${skipped} skipped`);
  if (summary.numTotalTests === 0) {
    console.error('no test ran');
    process.exit(1);
  }
}
process.exit(run.status ?? 1);
