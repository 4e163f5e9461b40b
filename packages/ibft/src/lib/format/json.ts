// The decoded table as JSON, with CHAP secrets masked unless revealed.
import type { IbftString, IbftTable } from '../structures';
import { type FormatOptions, secretText } from './options';

/** A masked secret: value MASKED_SECRET, its bytes (hex) dropped, marked so `ibft encode` refuses it. */
function maskString(s: IbftString | null, options?: FormatOptions): IbftString | null {
  if (!s || options?.revealSecrets) return s;
  const { hex: _bytes, ...rest } = s;
  return { ...rest, value: secretText(s.value, options), masked: true };
}

/** A copy of the table safe to write to logs and reports (secrets masked by default). */
export function redactTable(table: IbftTable, options?: FormatOptions): IbftTable {
  if (options?.revealSecrets) return table;
  return {
    ...table,
    targets: table.targets.map((t) => ({
      ...t,
      chapSecret: maskString(t.chapSecret, options),
      reverseChapSecret: maskString(t.reverseChapSecret, options),
    })),
  };
}

export interface JsonFormatOptions extends FormatOptions {
  /** Indentation passed to JSON.stringify; default 2. */
  indent?: number;
}

export function formatJson(table: IbftTable, options?: JsonFormatOptions): string {
  return JSON.stringify(redactTable(table, options), null, options?.indent ?? 2);
}
