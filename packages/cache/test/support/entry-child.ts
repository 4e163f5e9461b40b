// A separate process that needs one cache entry, as a parallel lab run does.
// argv: <entry path> <build log file> <mode: quick | hang>
// "quick" builds in about a second; "hang" writes part of the entry and then
// waits to be killed, like a build cut off by kill -9.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCacheEntry } from '../../src';

const [path, buildLog, mode] = process.argv.slice(2);

async function main(): Promise<void> {
  const entry = await ensureCacheEntry({
    path,
    what: `test entry (${mode})`,
    log: (line) => console.log(line),
    async build(staging) {
      appendFileSync(buildLog, `${process.pid}\n`);
      writeFileSync(join(staging, 'half'), `${process.pid}\n`);
      if (mode === 'hang') {
        console.log('HALF-BUILT');
        await new Promise(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 1000));
      writeFileSync(join(staging, 'whole'), `${process.pid}\n`);
    },
  });
  console.log(`ENTRY ${entry.built ? 'built' : 'reused'}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
