// Real iBFT fixtures captured from stock iPXE runs (our own data; the first is
// a copy of shared/fixtures/ibft/stock-ipxe-tgt).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IbftExpectation } from '../../src/lib/compare';

export const FIXTURES_DIR = join(__dirname, '..', 'fixtures');

export interface IbftFixture {
  name: string;
  dir: string;
  bin: Uint8Array;
  /** Lines Linux showed under /sys/firmware/ibft; empty when the Linux probe was not run for the capture. */
  sysfs: string[];
  /** The lab configuration, when the fixture records one. */
  expected?: IbftExpectation;
}

export function loadFixture(name: string): IbftFixture {
  const dir = join(FIXTURES_DIR, name);
  const sysfsPath = join(dir, 'sysfs.txt');
  const expectedPath = join(dir, 'expected.json');
  return {
    name,
    dir,
    bin: new Uint8Array(readFileSync(join(dir, 'ibft.bin'))),
    sysfs: existsSync(sysfsPath) ? readFileSync(sysfsPath, 'utf8').split('\n').filter((l) => l.length > 0) : [],
    expected: existsSync(expectedPath) ? (JSON.parse(readFileSync(expectedPath, 'utf8')) as IbftExpectation) : undefined,
  };
}
