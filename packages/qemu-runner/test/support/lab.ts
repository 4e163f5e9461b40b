// Shared setup for real-boot tests: a tgt target on loopback, a script
// rendered by @ibft-lab/script-gen, a temp folder for the run's files.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderScript, type LabScriptInput } from '@ibft-lab/script-gen';
import { startTgtTarget, tgtAvailable, type TgtTarget, type TgtTargetOptions } from '../../../../tools/testing/tgt-target';

export const TARGET_IQN = 'iqn.2003-01.org.example:lab';
export const INITIATOR_IQN = 'iqn.2010-04.org.ipxe:ibft-lab-test';

export function realBootSkipReason(): string | undefined {
  if (!existsSync('/usr/bin/qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed (tools/setup)';
  if (!existsSync('/usr/lib/ipxe/qemu/pxe-rtl8139.rom')) return 'ipxe-qemu stock ROMs are missing (tools/setup)';
  if (!tgtAvailable()) return 'tgtd is missing or this is not root (tools/setup; the tgt target needs root)';
  return undefined;
}

export interface LabFixture {
  dir: string;
  target: TgtTarget;
  writeScript(model: LabScriptInput): string;
  /** Every file under `dir`, read as text (for secret checks). */
  allText(path?: string): string;
  close(): Promise<void>;
}

export async function startLabFixture(target: Omit<TgtTargetOptions, 'targetIqn'> = {}): Promise<LabFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-boottest-'));
  const tgt = await startTgtTarget({ targetIqn: TARGET_IQN, ...target });
  const allText = (path = dir): string =>
    readdirSync(path, { withFileTypes: true })
      .map((entry) => (entry.isDirectory() ? allText(join(path, entry.name)) : readFileSync(join(path, entry.name), 'latin1')))
      .join('\n');
  return {
    dir,
    target: tgt,
    writeScript(model) {
      const file = join(dir, 'boot.ipxe');
      writeFileSync(file, renderScript(model));
      return file;
    },
    allText,
    async close() {
      await tgt.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
