// iPXE's make prints one "  [BUILD] bin/foo.o" line per step: a build is
// ~1000 of them. We keep the full log in a file, show a short progress line,
// and on failure pick out the compiler's error lines.

const STEP = /^\s*\[([A-Z]+)\]\s+(\S+)/;

export class MakeProgress {
  steps = 0;
  lastStep = '';
  private readonly started = Date.now();
  private lastPrinted = 0;

  constructor(
    private readonly target: string,
    private readonly print: (line: string) => void,
    private readonly everyMs = 5000,
  ) {}

  /** Feed one output line; prints a progress line at most every `everyMs`. */
  line(text: string): void {
    const m = STEP.exec(text);
    if (!m) return;
    this.steps += 1;
    this.lastStep = `${m[1]} ${m[2]}`;
    const now = Date.now();
    if (now - this.lastPrinted >= this.everyMs) {
      this.lastPrinted = now;
      this.print(this.summary());
    }
  }

  summary(): string {
    const seconds = Math.round((Date.now() - this.started) / 1000);
    return `ipxe-builder: make ${this.target}: ${this.steps} steps, ${seconds} s (${this.lastStep || 'starting'})`;
  }
}

const ERROR_LINE = /(^|\s|:)(fatal )?error:|\bError\b|undefined reference|No rule to make target|\*\*\*/;

/**
 * The part of a failed build's output a person needs: the first compiler
 * error with a few lines of context, and make's own "***" lines. At most
 * `maxLines` lines.
 */
export function summarizeMakeFailure(output: string, maxLines = 20): string {
  const lines = output.split('\n').map((l) => l.replace(/\s+$/, ''));
  const firstError = lines.findIndex((l) => /(fatal )?error:|undefined reference|No rule to make target/.test(l));
  const picked: string[] = [];
  if (firstError >= 0) {
    // gcc prints "In file included from"/"In function" lines just before the error.
    let start = firstError;
    while (start > 0 && firstError - start < 3 && /^(In file included|\s+from |.*: In function|.*: At top level)/.test(lines[start - 1])) {
      start -= 1;
    }
    for (let i = start; i < lines.length && picked.length < maxLines - 2; i++) {
      if (i > firstError + 6 && !ERROR_LINE.test(lines[i])) continue;
      if (/^\s*\[[A-Z]+\]/.test(lines[i])) continue;
      picked.push(lines[i]);
    }
  }
  const makeLines = lines.filter((l) => /^make(\[\d+\])?: \*\*\*/.test(l) && !picked.includes(l));
  const result = [...picked, ...makeLines].slice(0, maxLines);
  if (result.length) return result.join('\n');
  return lines.filter(Boolean).slice(-Math.min(maxLines, 10)).join('\n');
}
