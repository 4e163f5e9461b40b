// A consumer's reading before it is laid onto the table's slots: the NICs and
// targets it names, in its own order and by its own keys (a MAC, a target
// name). placeReading gives each the slot of the table's NIC with that MAC and
// the table's target with that name and LUN, so every consumer lands in the
// same field paths as the kernel's reading.
import type { ConsumerFields, FieldValue, NicField, TargetField } from './fields';

export type NicReading = Partial<Record<NicField, FieldValue>>;
export type TargetReading = Partial<Record<Exclude<TargetField, 'nic'>, FieldValue>> & {
  /** The MAC of the NIC the consumer ties the target to (open-iscsi's iface.hwaddress). */
  nicMac?: string | null;
};

export interface Reading {
  /** Absent: the consumer does not read the initiator name. */
  initiatorName?: FieldValue;
  nics: NicReading[];
  targets: TargetReading[];
  /** What else the consumer said that the field model has no place for (a skipped target, a warning). */
  notes: string[];
}

function slots(reference: ConsumerFields, kind: 'nic' | 'target'): number[] {
  const found = new Set<number>();
  for (const path of Object.keys(reference)) {
    const m = new RegExp(`^${kind}\\[(\\d+)\\]\\.`).exec(path);
    if (m) found.add(Number(m[1]));
  }
  return [...found].sort((a, b) => a - b);
}

/** The reading in field paths, each NIC and target at the slot of the table's matching one. */
export function placeReading(reading: Reading, reference: ConsumerFields): ConsumerFields {
  const out: ConsumerFields = {};
  if (reading.initiatorName !== undefined) out['initiator.name'] = reading.initiatorName;
  const nicSlots = slots(reference, 'nic');
  const targetSlots = slots(reference, 'target');
  const usedNics = new Set<number>();
  const macSlot = new Map<string, number>();
  const nextFree = (all: number[], used: Set<number>) => {
    const free = all.find((s) => !used.has(s));
    if (free !== undefined) return free;
    let n = Math.max(-1, ...all, ...used) + 1;
    while (used.has(n)) n++;
    return n;
  };
  for (const nic of reading.nics) {
    const mac = typeof nic.mac === 'string' ? nic.mac : null;
    if (mac && macSlot.has(mac)) continue; // the same NIC again (open-iscsi repeats it per target)
    let slot = mac ? nicSlots.find((s) => reference[`nic[${s}].mac`] === mac && !usedNics.has(s)) : undefined;
    if (slot === undefined) slot = nextFree(nicSlots, usedNics);
    usedNics.add(slot);
    if (mac) macSlot.set(mac, slot);
    for (const [field, value] of Object.entries(nic)) out[`nic[${slot}].${field}`] = value ?? null;
  }
  const usedTargets = new Set<number>();
  const same = (s: number, t: TargetReading, fields: Array<keyof TargetReading>) =>
    fields.every((f) => t[f] !== undefined && reference[`target[${s}].${f}`] === t[f]);
  for (const target of reading.targets) {
    const candidates = targetSlots.filter((s) => !usedTargets.has(s));
    let slot =
      candidates.find((s) => same(s, target, ['name', 'ip', 'port', 'lun'])) ??
      candidates.find((s) => same(s, target, ['name', 'lun'])) ??
      candidates.find((s) => same(s, target, ['name']));
    if (slot === undefined) slot = nextFree(targetSlots, usedTargets);
    usedTargets.add(slot);
    const { nicMac, ...fields } = target;
    for (const [field, value] of Object.entries(fields)) out[`target[${slot}].${field}`] = value ?? null;
    if (nicMac !== undefined) {
      const nicSlot = nicMac ? (macSlot.get(nicMac) ?? nicSlots.find((s) => reference[`nic[${s}].mac`] === nicMac)) : undefined;
      out[`target[${slot}].nic`] = nicSlot ?? null;
    }
  }
  return out;
}
