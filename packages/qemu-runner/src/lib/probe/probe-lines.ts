// Parses what the probe guest printed and compares it, line for line, with
// the host-side decode in the same sysfs format.
import { createHash } from 'node:crypto';
import { MASKED_SECRET } from '@ibft-lab/ibft';
import { PROBE_BEGIN, PROBE_END, PROBE_LINE_PREFIX, SECRET_ATTRIBUTES } from './probe-init';

export interface ProbeDifference {
  /** kobject/attribute, e.g. target0/port. */
  attribute: string;
  host: string | null;
  linux: string | null;
}

export interface ProbeResult {
  agrees: boolean;
  /** What Linux showed, sorted, secrets masked. */
  lines: string[];
  differences: ProbeDifference[];
}

function isSecretLine(line: string): boolean {
  const attribute = line.slice(0, line.indexOf('=')).split('/').pop() ?? '';
  return SECRET_ATTRIBUTES.includes(attribute);
}

/** The probe's lines between its markers (serial text after the marker). */
export function parseProbeOutput(serialText: string): string[] {
  const begin = serialText.lastIndexOf(PROBE_BEGIN);
  const end = serialText.indexOf(PROBE_END, begin);
  if (begin < 0 || end < 0) throw new Error(`probe output incomplete: no ${begin < 0 ? PROBE_BEGIN : PROBE_END} on the serial console`);
  return serialText
    .slice(begin + PROBE_BEGIN.length, end)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith(PROBE_LINE_PREFIX))
    .map((line) => line.slice(PROBE_LINE_PREFIX.length))
    .sort();
}

export function saltedSecretHash(salt: string, secret: string): string {
  return `salted-sha256:${createHash('sha256').update(salt + secret).digest('hex')}`;
}

/** Host sysfs lines (secrets revealed, in memory only) in the form the probe prints them. */
export function hostLinesAsProbePrints(hostLines: string[], salt: string): string[] {
  return hostLines
    .map((line) => {
      if (!isSecretLine(line)) return line;
      const eq = line.indexOf('=');
      return `${line.slice(0, eq + 1)}${saltedSecretHash(salt, line.slice(eq + 1))}`;
    })
    .sort();
}

export function maskSecretLines(lines: string[]): string[] {
  return lines.map((line) => (isSecretLine(line) ? `${line.slice(0, line.indexOf('=') + 1)}${MASKED_SECRET}` : line));
}

/** Serial text with any probe secret hash replaced by the mask (for logs and serial.log). */
export function maskProbeSecrets(text: string): string {
  return text
    .replace(/((?:^|\/)(?:chap|rev-chap-name)-secret=)\S+/gm, `$1${MASKED_SECRET}`)
    .replace(/salted-sha256:[0-9a-f]{64}/g, MASKED_SECRET);
}

function toMap(lines: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq > 0) map.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return map;
}

/** Both sides in probe form (hashed secrets); the result masks secrets. */
export function compareProbeLines(hostLines: string[], linuxLines: string[]): ProbeResult {
  const host = toMap(hostLines);
  const linux = toMap(linuxLines);
  const attributes = [...new Set([...host.keys(), ...linux.keys()])].sort();
  const differences: ProbeDifference[] = [];
  for (const attribute of attributes) {
    const h = host.get(attribute) ?? null;
    const l = linux.get(attribute) ?? null;
    if (h === l) continue;
    const secret = SECRET_ATTRIBUTES.includes(attribute.split('/').pop() ?? '');
    differences.push({
      attribute,
      host: secret && h !== null ? MASKED_SECRET : h,
      linux: secret && l !== null ? MASKED_SECRET : l,
    });
  }
  return {
    agrees: differences.length === 0 && linuxLines.length > 0,
    lines: maskSecretLines(linuxLines),
    differences,
  };
}
