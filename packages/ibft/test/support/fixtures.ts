// Real iBFT fixtures copied from shared/fixtures/ibft (our own captures).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES_DIR = join(__dirname, '..', 'fixtures');

export interface IbftFixture {
  name: string;
  dir: string;
  bin: Uint8Array;
  /** Lines Linux showed under /sys/firmware/ibft. */
  sysfs: string[];
}

export function loadFixture(name: string): IbftFixture {
  const dir = join(FIXTURES_DIR, name);
  const sysfs = readFileSync(join(dir, 'sysfs.txt'), 'utf8').split('\n').filter((l) => l.length > 0);
  return { name, dir, bin: new Uint8Array(readFileSync(join(dir, 'ibft.bin'))), sysfs };
}
