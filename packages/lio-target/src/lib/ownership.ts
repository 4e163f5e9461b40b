// What this lab owns on a target machine. Backstores carry the lab prefix in
// their names; targets (whose IQN the user may choose) and the backing files
// the lab created are recorded in a ledger file on the machine itself, so a
// shared machine's other targets are never planned against.
import { z } from 'zod';

export const ledgerSchema = z.object({
  lab: z.string(),
  targets: z.array(z.string()).default([]),
  files: z.array(z.string()).default([]),
  discoveryAuth: z.boolean().default(false),
  /** Image-backed backstore → sha256 of the image its backing file was copied from. */
  images: z.record(z.string(), z.string()).default({}),
});

export type Ledger = z.output<typeof ledgerSchema>;

export function emptyLedger(lab: string): Ledger {
  return { lab, targets: [], files: [], discoveryAuth: false, images: {} };
}

/** Where the ledger lives on the target machine. */
export function ledgerPath(lab: string): string {
  return `/var/lib/ibft-lab/lio/${lab}.json`;
}

export function parseLedger(lab: string, text: string | undefined): Ledger {
  if (!text || !text.trim()) return emptyLedger(lab);
  const ledger = ledgerSchema.parse(JSON.parse(text));
  if (ledger.lab !== lab) throw new Error(`ledger ${ledgerPath(lab)} belongs to lab ${ledger.lab}, not ${lab}`);
  return ledger;
}

/** Held while a run changes the lab's objects, so two runs of one lab never interleave their commands. */
export function lockPath(lab: string): string {
  return `/var/lib/ibft-lab/lio/${lab}.lock`;
}
