// One builder per build tree: a lock file created with O_EXCL holding the
// owner's pid. A lock whose pid is gone is stale and taken over.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withLock<T>(
  file: string,
  fn: () => Promise<T>,
  opts: { timeoutMs?: number; log?: (line: string) => void } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
  let told = false;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let text: string;
      try {
        text = readFileSync(file, 'utf8').trim();
      } catch {
        continue; // released between our open and read
      }
      const owner = Number(text);
      if (text && (!Number.isInteger(owner) || !alive(owner))) {
        rmSync(file, { force: true }); // stale: its builder died
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for build lock ${file} held by pid ${text}`);
      if (!told && text) {
        opts.log?.(`ipxe-builder: waiting for pid ${owner}, which is building the same configuration`);
        told = true;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(file, { force: true });
  }
}
