// Reads the consumer probe's serial lines back into one section per tool:
// its stdout, stderr, exit status and the files it wrote (consumer-scripts.ts
// prints them). Kernel messages between the lines carry no prefix and are
// ignored.
import { MASKED_SECRET } from '@ibft-lab/ibft';
import { CONSUMER_BEGIN, CONSUMER_END, CONSUMER_LINE_PREFIX } from './consumer-scripts';

export interface ConsumerSection {
  /** Every tagged line in order, without the "ibft-consumer NAME " prefix: "out: …", "err: …", "file PATH: …", "exit: N". */
  lines: string[];
  out: string[];
  err: string[];
  /** File path → its lines, in the order the guest printed them. */
  files: Map<string, string[]>;
  /** The tool's exit status; null when the section has none (the guest did not get that far). */
  exitCode: number | null;
  /** Both markers were seen. */
  complete: boolean;
}

function emptySection(): ConsumerSection {
  return { lines: [], out: [], err: [], files: new Map(), exitCode: null, complete: false };
}

/** Sections by name (dracut, networkmanager, setup, iscsiadm, iscsistart), from the serial text after the marker. */
export function parseConsumerSections(serialText: string): Map<string, ConsumerSection> {
  const sections = new Map<string, ConsumerSection>();
  for (const raw of serialText.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const begin = line.indexOf(`${CONSUMER_BEGIN} `);
    if (begin >= 0) {
      // A later run of the same name (a second boot) starts it afresh.
      sections.set(line.slice(begin + CONSUMER_BEGIN.length + 1).trim(), emptySection());
      continue;
    }
    const end = line.indexOf(`${CONSUMER_END} `);
    if (end >= 0) {
      const section = sections.get(line.slice(end + CONSUMER_END.length + 1).trim());
      if (section) section.complete = true;
      continue;
    }
    const at = line.indexOf(CONSUMER_LINE_PREFIX);
    if (at < 0) continue;
    const rest = line.slice(at + CONSUMER_LINE_PREFIX.length);
    const space = rest.indexOf(' ');
    if (space < 0) continue;
    const section = sections.get(rest.slice(0, space));
    if (!section) continue;
    const tagged = rest.slice(space + 1);
    section.lines.push(tagged);
    const m = /^(out|err|exit|file ([^:]+)): ?(.*)$/.exec(tagged);
    if (!m) continue;
    if (m[1] === 'out') section.out.push(m[3]);
    else if (m[1] === 'err') section.err.push(m[3]);
    else if (m[1] === 'exit') section.exitCode = Number.parseInt(m[3], 10);
    else {
      const path = m[2];
      if (!section.files.has(path)) section.files.set(path, []);
      section.files.get(path)!.push(m[3]);
    }
  }
  return sections;
}

const HASHED = /salted-sha256:[0-9a-f]{64}/g;

/** A consumer's lines as report output: the guest's salted secret hashes masked. */
export function maskedOutput(section: ConsumerSection | undefined): string {
  if (!section) return '';
  return section.lines.map((line) => line.replace(HASHED, MASKED_SECRET)).join('\n');
}
