// bench/labs: labs per minute on this machine, every lab under labs/ through
// `nx run-many -t boot-vm`, one at a time and all at once, in the same run.
//   node -r ./tools/register-ts.js bench/labs/run.ts
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_SECRET_ENV, provideExampleSecrets } from '../../tools/testing/example-secrets';

const root = join(__dirname, '..', '..');
const labs = readdirSync(join(root, 'labs')).filter((name) => existsSync(join(root, 'labs', name, 'lab.json')));

function runMany(parallel: number): number {
  const started = Date.now();
  const run = spawnSync(
    process.execPath,
    [require.resolve('nx/bin/nx', { paths: [root] }), 'run-many', '-t', 'boot-vm', `--parallel=${parallel}`, '--outputStyle=static', '--skip-nx-cache'],
    { cwd: root, encoding: 'utf8', env: { ...process.env, ...EXAMPLE_SECRET_ENV, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' }, maxBuffer: 64 * 1024 * 1024 },
  );
  if (run.status !== 0) throw new Error(`nx run-many --parallel=${parallel} failed:\n${`${run.stdout}${run.stderr}`.slice(-3000)}`);
  return (Date.now() - started) / 1000;
}

function main() {
  const removeSecrets = provideExampleSecrets();
  process.on('exit', removeSecrets);
  console.log(`bench/labs: ${labs.length} labs (${labs.join(', ')}), ${cpus().length} cores, TCG`);
  console.log('parallel  seconds  labs/minute');
  for (const parallel of [1, labs.length]) {
    const seconds = runMany(parallel);
    console.log(`${String(parallel).padStart(8)}${seconds.toFixed(0).padStart(9)}${((labs.length * 60) / seconds).toFixed(2).padStart(13)}`);
  }
}

main();
