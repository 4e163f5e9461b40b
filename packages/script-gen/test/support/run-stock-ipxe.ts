// Boots QEMU's stock iPXE ROM with a script handed over by QEMU's TFTP
// (facts.md: -nographic is what sends SeaBIOS/iPXE text to the serial file)
// and watches the serial log until all expected strings appear, the deadline
// passes or QEMU exits. Always kills QEMU and removes its temp dir.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const STOCK_ROM = '/usr/lib/ipxe/qemu/pxe-rtl8139.rom';

/** Why the stock-ROM test cannot run here, or undefined when it can. */
export function stockIpxeUnavailable(): string | undefined {
  try {
    execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'qemu-system-x86_64 not found (tools/setup installs qemu-system-x86)';
  }
  if (!existsSync(STOCK_ROM)) return `${STOCK_ROM} not found (tools/setup installs ipxe-qemu)`;
  return undefined;
}

export interface StockIpxeRun {
  /** Serial console text with ANSI escapes removed. */
  serial: string;
  /** Which of the expected strings were seen. */
  seen: string[];
  elapsedMs: number;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\r/g;

export async function runStockIpxe(script: string, expect: string[], deadlineMs: number): Promise<StockIpxeRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-script-gen-'));
  const serialPath = join(dir, 'serial.log');
  writeFileSync(join(dir, 'boot.ipxe'), script);
  const started = Date.now();
  const qemu = spawn(
    'qemu-system-x86_64',
    [
      '-accel', 'tcg', '-m', '256', '-nographic',
      '-serial', `file:${serialPath}`, '-monitor', 'none',
      '-netdev', `user,id=n0,tftp=${dir},bootfile=boot.ipxe`,
      '-device', `rtl8139,netdev=n0,romfile=${STOCK_ROM}`,
      '-boot', 'n',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  qemu.stderr?.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => qemu.once('exit', () => resolve()));
  const read = () => (existsSync(serialPath) ? readFileSync(serialPath, 'latin1').replace(ANSI, '') : '');
  try {
    for (;;) {
      const serial = read();
      const seen = expect.filter((s) => serial.includes(s));
      if (seen.length === expect.length || Date.now() - started > deadlineMs || qemu.exitCode !== null) {
        if (qemu.exitCode !== null && seen.length < expect.length) {
          throw new Error(`QEMU exited with ${qemu.exitCode}: ${stderr.trim()}\n--- serial ---\n${serial}`);
        }
        return { serial, seen, elapsedMs: Date.now() - started };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    if (qemu.exitCode === null && qemu.signalCode === null) {
      qemu.kill('SIGTERM');
      const timer = setTimeout(() => qemu.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
