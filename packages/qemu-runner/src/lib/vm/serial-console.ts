// Follows the serial console file QEMU writes (-serial file:X): polls for new
// bytes, hands complete lines to a logger, and lets callers wait for a pattern.
// Polling (not fs.watch) because it behaves the same on every filesystem.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';

/** SeaBIOS and iPXE draw with ANSI escapes and \r; matching and logs want plain text. */
export function plainSerialText(raw: string): string {
  return raw
    .replace(/\x1b\[[0-9;?=]*[A-Za-z]/g, '')
    .replace(/\x1b[()][A-Za-z0-9]/g, '')
    .replace(/\x1b[=>c]/g, '')
    .replace(/\r+\n/g, '\n')
    .replace(/[^\n]*\r(?=[^\n])/g, '') // a bare \r rewrites the line: keep what was drawn last
    .replace(/\r/g, '')
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '');
}

export class SerialConsole {
  private raw = '';
  private fd: number | undefined;
  private offset = 0;
  private timer: NodeJS.Timeout | undefined;
  private loggedUpTo = 0;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly file: string,
    private readonly log?: (line: string) => void,
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    this.timer.unref();
  }

  /** Reads what is left, flushes a partial last line to the log, stops polling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.poll();
    this.flushLog(true);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  rawText(): string {
    return this.raw;
  }

  text(): string {
    return plainSerialText(this.raw);
  }

  /** Called after every read that added text. */
  onText(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  poll(): void {
    if (this.fd === undefined) {
      if (!existsSync(this.file)) return;
      this.fd = openSync(this.file, 'r');
    }
    const chunk = Buffer.alloc(64 * 1024);
    let added = false;
    for (;;) {
      const n = readSync(this.fd, chunk, 0, chunk.length, this.offset);
      if (n <= 0) break;
      this.offset += n;
      // latin1 keeps every byte (firmware draws box characters in CP437).
      this.raw += chunk.subarray(0, n).toString('latin1');
      added = true;
    }
    if (!added) return;
    this.flushLog(false);
    for (const listener of this.listeners) listener();
  }

  private flushLog(all: boolean): void {
    if (!this.log) return;
    const end = all ? this.raw.length : this.raw.lastIndexOf('\n') + 1;
    if (end <= this.loggedUpTo) return;
    const lines = plainSerialText(this.raw.slice(this.loggedUpTo, end)).split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) if (line.trim()) this.log(line);
    this.loggedUpTo = end;
  }
}

/** One step of a boot as the serial console shows it. */
export interface SerialExpectation {
  pattern: RegExp | string;
  /** Deadline for this step, counted from the previous step's match (the first: from the call). */
  withinSeconds: number;
  /** A short name for reports (default: the pattern). */
  name?: string;
}

export interface SerialExpectationResult {
  name: string;
  pattern: string;
  matched: boolean;
  /** Seconds from QEMU's start to when the line was seen; null when it was not. */
  atSeconds: number | null;
  /** The text the pattern matched. */
  text: string | null;
  /** Why this step failed (deadline, a fail pattern's line, QEMU gone); the steps after it are not tried. */
  failure?: string;
  /** The console line that failed it, when a fail pattern did. */
  failedOn?: string;
}

/** What expectSerial needs of a VM (QemuVm has it). */
export interface SerialWaiter {
  startedAt: number;
  waitForSerial(pattern: RegExp | string, options: { deadlineMs: number; failOn?: RegExp[]; from?: number }): Promise<RegExpMatchArray>;
}

/**
 * Waits for `expectations` in order on the serial console, each after the
 * previous one's match and within its own deadline; a line matching `failOn`
 * before the awaited one ends the run at once. Never throws for a boot that
 * goes wrong: every step gets a result, the first unmet one says why, the
 * rest are unmatched. A lab reads its verdict and its phase timings from it.
 */
export async function expectSerial(
  vm: SerialWaiter,
  expectations: SerialExpectation[],
  options: { failOn?: RegExp[]; from?: number } = {},
): Promise<SerialExpectationResult[]> {
  const results: SerialExpectationResult[] = expectations.map((e) => ({
    name: e.name ?? String(e.pattern),
    pattern: String(e.pattern),
    matched: false,
    atSeconds: null,
    text: null,
  }));
  let from = options.from ?? 0;
  for (const [i, step] of expectations.entries()) {
    if (!(step.withinSeconds > 0)) throw new Error(`expectations[${i}].withinSeconds: ${step.withinSeconds} is not a positive number of seconds`);
    try {
      const match = await vm.waitForSerial(step.pattern, { deadlineMs: step.withinSeconds * 1000, failOn: options.failOn, from });
      results[i].matched = true;
      results[i].atSeconds = (Date.now() - vm.startedAt) / 1000;
      results[i].text = match[0];
      from += (match.index ?? 0) + match[0].length;
    } catch (error) {
      const message = (error as Error).message;
      results[i].failure = /within \d+ ms$/.test(message) ? `no ${results[i].name} within ${step.withinSeconds} s` : message;
      const line = (error as { line?: unknown }).line; // a SerialFailure names the line
      if (typeof line === 'string') results[i].failedOn = line;
      break;
    }
  }
  return results;
}
