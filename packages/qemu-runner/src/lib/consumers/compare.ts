// Every consumer's reading, compared field by field with what the lab declared
// (where it declared the field) and otherwise with the host decode of the same
// table; iscsiadm's stdout is also compared line by line with what
// @ibft-lab/ibft predicts open-iscsi prints for the table (compareIscsiadmFw).
import {
  compareIscsiadmFw,
  formatSysfs,
  MASKED_SECRET,
  predictIscsiadmFw,
  SECRET_DIFFERS,
  type IbftExpectation,
  type IbftTable,
  type IscsiadmDifference,
  type IscsiadmFwResult,
  type Nic,
} from '@ibft-lab/ibft';
import { hostLinesAsProbePrints, maskSecretLines, saltedSecretHash } from '../probe';
import { comparePaths, expectedFields, fieldKind, SECRET_FIELDS, type ConsumerFields, type FieldValue } from './fields';
import { CONSUMER_READS, CONSUMERS, type ConsumerName } from './names';
import { maskedOutput, parseConsumerSections, type ConsumerSection } from './output';
import { dracutReading } from './parse-dracut';
import { kernelFields } from './parse-kernel';
import { networkManagerReading } from './parse-networkmanager';
import { openIscsiReading } from './parse-open-iscsi';
import { placeReading, type Reading } from './reading';

export interface ConsumerMismatch {
  /** A field path (nic[0].method), or `stdout line N` for iscsiadm's prediction. */
  path: string;
  /** The lab's value where it declared the field, else the host decode's; secrets as SECRET_DIFFERS. */
  expected: FieldValue;
  actual: FieldValue;
  /** Where `expected` comes from. */
  source: 'lab' | 'table' | 'prediction';
}

export interface ConsumerResult {
  name: ConsumerName;
  /** The lab requires it to agree; a disagreement of one that is not required is a finding. */
  required: boolean;
  agrees: boolean;
  /** Every field it was compared on → what it read (null: absent); secrets masked. */
  fields: Record<string, FieldValue>;
  mismatches: ConsumerMismatch[];
  /** What else it said that the field model has no place for. */
  notes: string[];
  /** The tool's exit status (null for the kernel, or when it did not finish). */
  exitCode: number | null;
  /** Its output as the guest printed it, secrets masked. */
  output: string;
}

export interface ReadConsumersInput {
  /** Serial text after the script's marker (the probe boot's). */
  serialText: string;
  /** The host decode of the table the guest was given (secrets in clear, in memory only). */
  table: IbftTable;
  /** The lab's declaration. */
  expectations?: IbftExpectation | null;
  /** The probe's salt (its hashes of secrets). */
  salt: string;
  /** The kernel's lines (the probe's, salted hashes for secrets). */
  linuxLines: string[];
  /** Which consumers must agree. */
  required: ReadonlySet<ConsumerName>;
  /** Which consumers ran (the kernel always does); default all. */
  ran?: readonly ConsumerName[];
}

/** The table in the field model, secrets as salted hashes. */
export function hostConsumerFields(table: IbftTable, salt: string): ConsumerFields {
  return kernelFields(hostLinesAsProbePrints(formatSysfs(table, { revealSecrets: true }), salt));
}

/**
 * What open-iscsi prints for the table in this guest, secrets as the guest's hashes: the interface
 * it names for each NIC comes from the probe's setup lines (the NIC's PCI device in the guest, or
 * the interface carrying its MAC).
 */
export function predictGuestIscsiadm(table: IbftTable, salt: string, setup: ConsumerSection | undefined): IscsiadmFwResult {
  const byMac = new Map<string, { device: boolean; iface: string | null }>();
  for (const line of setup?.out ?? []) {
    const m = /^\S+ mac=(\S+) device=(yes|no) interface=(\S+)$/.exec(line);
    if (m) byMac.set(m[1].toLowerCase(), { device: m[2] === 'yes', iface: m[3] === 'none' ? null : m[3].replace(/^dummy:/, '') });
  }
  const predicted = predictIscsiadmFw(table, {
    revealSecrets: true,
    // No PCI device link: open-iscsi names no interface. A link: the interface it finds (or none: the target is skipped).
    netIfaceName: (nic: Nic) => {
      const seen = byMac.get(nic.mac);
      if (!seen || !seen.device) return '';
      return seen.iface;
    },
  });
  const text = predicted.stdout
    .toString('latin1')
    .replace(/^(node\.session\.auth\.password(?:_in)?) = (.*)$/gm, (_, key: string, secret: string) => `${key} = ${saltedSecretHash(salt, Buffer.from(secret, 'latin1').toString('utf8'))}`);
  return { ...predicted, stdout: Buffer.from(text, 'latin1') };
}

const ENVIRONMENT_NOTES = [
  // udev renames the NIC to ibft0 (ifname=) in a real initramfs; the probe runs no udev.
  /Network interface 'ibft\d+' does not exist/,
];

function compareFields(name: ConsumerName, actual: ConsumerFields, reference: ConsumerFields, lab: ConsumerFields): { fields: ConsumerFields; mismatches: ConsumerMismatch[] } {
  const reads = CONSUMER_READS[name];
  const slotOf = (path: string) => /^((?:nic|target)\[\d+\])\./.exec(path)?.[1] ?? null;
  const slotsRead = new Set(Object.keys(actual).map(slotOf).filter(Boolean));
  const paths = [...new Set([...Object.keys(reference), ...Object.keys(actual)])].filter((p) => reads.has(fieldKind(p))).sort(comparePaths);
  const fields: ConsumerFields = {};
  const mismatches: ConsumerMismatch[] = [];
  for (const path of paths) {
    const slot = slotOf(path);
    // Read for this slot but not this field (dracut takes no address from a DHCP NIC): not compared.
    if (!(path in actual) && slot && slotsRead.has(slot)) continue;
    const value = actual[path] ?? null;
    const expected = reference[path] ?? null;
    const secret = SECRET_FIELDS.has(path.split('.').pop() ?? '');
    fields[path] = secret && value !== null ? MASKED_SECRET : value;
    if (value === expected) continue;
    mismatches.push({
      path,
      expected: secret && expected !== null ? SECRET_DIFFERS : expected,
      actual: secret && value !== null ? SECRET_DIFFERS : value,
      source: path in lab ? 'lab' : 'table',
    });
  }
  return { fields, mismatches };
}

function readingOf(name: ConsumerName, section: ConsumerSection | undefined): Reading | null {
  if (!section) return null;
  if (name === 'iscsiadm' || name === 'iscsistart') return openIscsiReading(section.out, section.exitCode, section.err);
  if (name === 'dracut') return dracutReading(section);
  if (name === 'networkmanager') return networkManagerReading(section.out, section.exitCode, section.err);
  return null;
}

export function readConsumers(input: ReadConsumersInput): ConsumerResult[] {
  const sections = parseConsumerSections(input.serialText);
  const host = hostConsumerFields(input.table, input.salt);
  const lab = input.expectations ? expectedFields(input.expectations, input.salt) : {};
  const reference = { ...host, ...lab };
  const ran = new Set(input.ran ?? CONSUMERS);
  const results: ConsumerResult[] = [];
  for (const name of CONSUMERS) {
    if (name !== 'kernel' && !ran.has(name)) continue;
    const required = input.required.has(name);
    const section = sections.get(name);
    let actual: ConsumerFields;
    let notes: string[] = [];
    let output: string;
    let exitCode: number | null = null;
    if (name === 'kernel') {
      actual = kernelFields(input.linuxLines);
      output = maskSecretLines(input.linuxLines).join('\n');
      if (!input.linuxLines.length) notes.push('Linux showed no /sys/firmware/ibft');
    } else {
      const reading = readingOf(name, section);
      actual = reading ? placeReading(reading, host) : {};
      notes = (reading?.notes ?? []).filter((note) => !ENVIRONMENT_NOTES.some((re) => re.test(note)));
      if (!section) notes.push(`no output from ${name} on the serial console`);
      else if (!section.complete) notes.push(`${name}'s output ends before its end marker`);
      output = maskedOutput(section);
      exitCode = section?.exitCode ?? null;
    }
    const { fields, mismatches } = compareFields(name, actual, reference, lab);
    if (name === 'iscsiadm' && section?.complete) {
      const predicted = predictGuestIscsiadm(input.table, input.salt, sections.get('setup'));
      for (const d of compareIscsiadmFw(predicted, { exitCode: section.exitCode, stdout: section.out.map((l) => `${l}\n`).join('') })) {
        mismatches.push({ path: d.line === 0 ? 'exit status' : `stdout line ${d.line}`, expected: maskHashes(d.expected), actual: maskHashes(d.actual), source: 'prediction' });
      }
    }
    results.push({ name, required, agrees: mismatches.length === 0, fields, mismatches, notes, exitCode, output });
  }
  return results;
}

function maskHashes(line: string | null): string | null {
  return line === null ? null : line.replace(/salted-sha256:[0-9a-f]{64}/g, MASKED_SECRET);
}

export type { IscsiadmDifference };
