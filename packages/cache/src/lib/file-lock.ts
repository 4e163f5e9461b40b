// One holder at a time for a cache entry (or anything named by a file path):
// the lock is a file holding its owner (pid, start time, host, what it does),
// created whole by link(2) so a reader never sees it empty. A lock whose owner
// died (kill -9 included) on this host is taken over; one held by another host
// (a cache on a shared folder) is waited for until the deadline.
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { processStartTime, sameProcessAlive } from './process-alive';

export interface LockOwner {
  pid: number;
  startTime?: string;
  host: string;
  /** What the holder does, e.g. "building LIO appliance 03e0b653c7577bcb". */
  what: string;
  since: string;
}

export interface FileLockOptions {
  /** Said to waiters: "waiting for pid N, which is <what>". */
  what: string;
  log?: (line: string) => void;
  /** Give up waiting after this long (default 30 min: a cold iPXE build is minutes). */
  timeoutMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
}

export class LockTimeoutError extends Error {}

function readOwner(file: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
  } catch {
    return undefined; // released meanwhile, or not ours to read
  }
}

function ownerIsGone(owner: LockOwner): boolean {
  return owner.host === hostname() && !sameProcessAlive(owner.pid, owner.startTime);
}

function tryCreate(file: string, owner: LockOwner): boolean {
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${JSON.stringify(owner)}\n`);
  try {
    linkSync(draft, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(draft, { force: true });
  }
}

/**
 * Removes the lock `file` if it still holds exactly the dead owner `stale`.
 * Moving it aside first makes the check and the removal one step: a live lock
 * moved by mistake (a racer took over in between) is linked back.
 */
function takeOver(file: string, stale: LockOwner): void {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // someone else removed it first
  }
  const moved = readOwner(aside);
  if (moved && (moved.pid !== stale.pid || moved.since !== stale.since)) {
    try {
      linkSync(aside, file);
    } catch {
      // A third run holds the lock now; the one moved aside belongs to a run that will find its lock gone.
    }
  }
  rmSync(aside, { force: true });
}

function describe(owner: LockOwner): string {
  const where = owner.host === hostname() ? '' : ` on ${owner.host}`;
  return `pid ${owner.pid}${where} (since ${owner.since})`;
}

export async function withFileLock<T>(file: string, fn: () => Promise<T>, options: FileLockOptions): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  const me: LockOwner = {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    host: hostname(),
    what: options.what,
    since: new Date().toISOString(),
  };
  let toldAbout: string | undefined;
  while (!tryCreate(file, me)) {
    options.signal?.throwIfAborted();
    const owner = readOwner(file);
    if (owner && ownerIsGone(owner)) {
      options.log?.(`taking over ${file} from ${describe(owner)}, which is gone`);
      takeOver(file, owner);
      continue;
    }
    if (owner && toldAbout !== `${owner.pid}/${owner.since}`) {
      options.log?.(`waiting for ${describe(owner)}, which is ${owner.what}`);
      toldAbout = `${owner.pid}/${owner.since}`;
    }
    if (Date.now() > deadline) {
      throw new LockTimeoutError(`timed out waiting for ${file}${owner ? `, held by ${describe(owner)}, which is ${owner.what}` : ''}; if no such run is alive, remove the file`);
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
  }
  try {
    return await fn();
  } finally {
    // Release only our own lock: after a takeover by mistake it may be another's.
    const owner = readOwner(file);
    if (owner && owner.pid === me.pid && owner.since === me.since) rmSync(file, { force: true });
  }
}
