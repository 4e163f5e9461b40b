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
