// The replay corpus (packages/ibft/corpus/<name>/): each entry is a table as some firmware lays it out,
// given as spec.json (what `ibft encode` reads) or, for a table encode refuses to write, as ibft.bin;
// readings.json says whether Linux takes it and what every consumer reads from it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeIbft } from '../../src/lib/encode';

export const CORPUS_DIR = join(__dirname, '..', '..', 'corpus');

/** What a consumer read (report.json's consumers[], without its output): fields, and where it differs from the table. */
export interface ConsumerReading {
  fields: Record<string, string | number | null>;
  mismatches: { path: string; expected: string | number | null; actual: string | number | null; source: string }[];
  notes: string[];
  exitCode: number | null;
}

export type CorpusReadings = { accepted: false } | { accepted: true; consumers: Record<string, ConsumerReading> };

export interface CorpusEntry {
  name: string;
  dir: string;
  /** spec.json's path, when the entry has one. */
  specPath?: string;
  bytes: Buffer;
  /** readings.json; undefined until a run has written it (IBFT_LAB_CORPUS_WRITE=1). */
  readings?: CorpusReadings;
}

export function corpusEntries(): CorpusEntry[] {
  return readdirSync(CORPUS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const dir = join(CORPUS_DIR, name);
      const specPath = join(dir, 'spec.json');
      const readingsPath = join(dir, 'readings.json');
      const hasSpec = existsSync(specPath);
      return {
        name,
        dir,
        ...(hasSpec ? { specPath } : {}),
        bytes: hasSpec ? encodeIbft(JSON.parse(readFileSync(specPath, 'utf8'))) : readFileSync(join(dir, 'ibft.bin')),
        readings: existsSync(readingsPath) ? (JSON.parse(readFileSync(readingsPath, 'utf8')) as CorpusReadings) : undefined,
      };
    });
}
