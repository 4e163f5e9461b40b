// The consumer matrix: one row per field, one column per reader of the table;
// ✓ it read what the lab declared (or, for a field the lab did not declare,
// what the table holds), ✗ it read something else or nothing, – it does not
// read that field.
import { CONSUMER_TITLES, CONSUMERS, comparePaths, type ConsumerResult } from '../consumers';

export type MatrixCell = '✓' | '✗' | '–';

export interface ConsumerMatrix {
  columns: ConsumerResult['name'][];
  rows: Array<{ path: string; cells: MatrixCell[] }>;
}

export function consumerMatrix(consumers: ConsumerResult[]): ConsumerMatrix {
  const columns = CONSUMERS.filter((name) => consumers.some((c) => c.name === name));
  const byName = new Map(consumers.map((c) => [c.name, c]));
  const paths = [...new Set(consumers.flatMap((c) => [...Object.keys(c.fields), ...c.mismatches.map((m) => m.path)]))]
    .filter((p) => /^(initiator|nic\[|target\[)/.test(p))
    .sort(comparePaths);
  const rows = paths
    .map((path) => ({
      path,
      cells: columns.map((name): MatrixCell => {
        const c = byName.get(name)!;
        if (c.mismatches.some((m) => m.path === path)) return '✗';
        return path in c.fields ? '✓' : '–';
      }),
      // A field the table does not hold and no one reads differently says nothing.
      empty: consumers.every((c) => (c.fields[path] ?? null) === null) && !consumers.some((c) => c.mismatches.some((m) => m.path === path)),
    }))
    .filter((row) => !row.empty)
    .map(({ path, cells }) => ({ path, cells }));
  return { columns, rows };
}

function center(text: string, width: number): string {
  const left = Math.floor((width - text.length) / 2);
  return `${' '.repeat(Math.max(0, left))}${text}`.padEnd(width);
}

/** The matrix as the terminal summary prints it. */
export function formatConsumerMatrix(consumers: ConsumerResult[], indent = '  '): string[] {
  const matrix = consumerMatrix(consumers);
  if (!matrix.columns.length) return [];
  const width = Math.max(22, ...matrix.rows.map((r) => r.path.length + 1));
  const titles = matrix.columns.map((name) => {
    const c = consumers.find((x) => x.name === name)!;
    return c.required ? CONSUMER_TITLES[name] : `(${CONSUMER_TITLES[name]})`;
  });
  const widths = titles.map((t) => Math.max(t.length + 2, 8));
  const out = [`${indent}${'field'.padEnd(width)}${titles.map((t, i) => center(t, widths[i])).join('')}`.trimEnd()];
  for (const row of matrix.rows) {
    out.push(`${indent}${row.path.padEnd(width)}${row.cells.map((cell, i) => center(cell, widths[i])).join('')}`.trimEnd());
  }
  return out;
}
