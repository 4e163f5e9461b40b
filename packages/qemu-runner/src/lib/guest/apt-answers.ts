// apt-cache and apt-get --print-uris answers cost seconds per call under TCG
// load (tens when the 2 cores are shared), on every warm start of every guest.
// What they answer depends only on apt's package lists and configuration, so
// an answer is kept in the cache under the identity of those files and asked
// again once they change (apt-get update, a new source or pin).
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const APT_STATE_DIRS = ['/var/lib/apt/lists', '/etc/apt', '/etc/apt/sources.list.d', '/etc/apt/preferences.d', '/etc/apt/apt.conf.d'];

/** Names, sizes and times of apt's lists and configuration files. */
export function aptStateId(dirs: string[] = APT_STATE_DIRS): string {
  const hash = createHash('sha256');
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const stat = statSync(join(dir, name), { throwIfNoEntry: false });
      if (stat?.isFile()) hash.update(`${dir}/${name} ${stat.size} ${stat.mtimeMs}\n`);
    }
  }
  return hash.digest('hex');
}

/**
 * `ask()`'s answer for `question` under the current apt state: from
 * `<cacheDir>/apt-answers/` when asked before, else asked and kept (written
 * whole or not at all). `stillValid` may reject a kept answer (e.g. its files are gone).
 */
export async function aptAnswer<T>(
  cacheDir: string,
  question: unknown,
  ask: () => Promise<T>,
  stillValid: (answer: T) => boolean = () => true,
  stateDirs: string[] = APT_STATE_DIRS,
): Promise<T> {
  const dir = join(cacheDir, 'apt-answers');
  const file = join(dir, `${createHash('sha256').update(JSON.stringify({ apt: aptStateId(stateDirs), question })).digest('hex').slice(0, 24)}.json`);
  try {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as { answer: T };
    if (stillValid(kept.answer)) return kept.answer;
  } catch {
    // not asked yet, or unreadable: ask
  }
  const answer = await ask();
  try {
    mkdirSync(dir, { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, `${JSON.stringify({ question, answer })}\n`);
    renameSync(partial, file);
  } catch {
    // A read-only cache answers again next time.
  }
  return answer;
}
