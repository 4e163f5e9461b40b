// What a person sees of a VM's serial console: by default one line per phase
// the console passes (with the second it passed it) and every error line at
// once; everything goes to a file. Verbose streams the console as it comes.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ConsolePhase {
  pattern: RegExp;
  /** What to print; the match's groups may name the phase (e.g. the SAN drive). */
  label: (match: RegExpExecArray) => string;
}

export interface CalmLogOptions {
  /** Console lines carry this prefix (startQemu's serialPrefix); other lines are the caller's own. */
  serialPrefix: string;
  phases: ConsolePhase[];
  /** Console lines printed even when calm (iPXE and kernel errors). */
  errors: RegExp[];
  /** Stream every console line, as before. */
  verbose: boolean;
  /** Every console line goes here (written from scratch). */
  file?: string;
  print: (line: string) => void;
  now?: () => number;
}

export interface CalmLog {
  /** Give this to startQemu (or the appliance) as its log. */
  log: (line: string) => void;
  /** Phases that were printed, in order. */
  seen: string[];
}

/** IBFT_LAB_VERBOSE=1 (or true) asks every executor for the whole console. */
export function verboseFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env.IBFT_LAB_VERBOSE ?? '');
}

export function calmLog(options: CalmLogOptions): CalmLog {
  const now = options.now ?? Date.now;
  const started = now();
  const remaining = [...options.phases];
  const seen: string[] = [];
  if (options.file) {
    mkdirSync(dirname(options.file), { recursive: true });
    writeFileSync(options.file, '');
  }
  const log = (line: string) => {
    if (!line.startsWith(options.serialPrefix)) {
      options.print(line);
      return;
    }
    const text = line.slice(options.serialPrefix.length);
    if (options.file) appendFileSync(options.file, `${text}\n`);
    if (options.verbose) {
      options.print(line);
      return;
    }
    // Phases come in order; a later one seen first means the earlier were skipped (a built ROM has no banner).
    for (let i = 0; i < remaining.length; i++) {
      const match = remaining[i].pattern.exec(text);
      if (!match) continue;
      const label = remaining[i].label(match);
      remaining.splice(0, i + 1);
      seen.push(label);
      options.print(`${options.serialPrefix}${label} (${((now() - started) / 1000).toFixed(1)} s)`);
      return;
    }
    if (options.errors.some((pattern) => pattern.test(text))) options.print(line);
  };
  return { log, seen };
}
