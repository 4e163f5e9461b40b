// bench/boot-vm: time from QEMU start to a decoded iBFT through bootLab,
// against raw QEMU (same ROM, same script over TFTP, serial file polled)
// reaching the script's marker, measured in the same run, alternating.
//   node -r ./tools/register-ts.js bench/boot-vm/run.ts [rounds=3]
// Needs qemu-system-x86, ipxe-qemu and tgt (root), as the real-boot tests do.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootLab, DEFAULT_MAC, DEFAULT_MARKER, plainSerialText, stockRomPath } from '../../packages/qemu-runner/src';
import { renderScript } from '../../packages/script-gen/src';
import { startTgtTarget } from '../../tools/testing/tgt-target';

const TARGET_IQN = 'iqn.2003-01.org.example:bench';
const INITIATOR_IQN = 'iqn.2010-04.org.ipxe:bench';

/** Plain QEMU, no QMP, no runner: spawn, poll the serial file for the marker, kill. */
async function rawQemuToMarker(tftpDir: string, rom: string): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'ibft-lab-bench-raw-'));
  const serial = join(work, 'serial.log');
  const started = Date.now();
  const qemu = spawn(
    'qemu-system-x86_64',
    [
      '-accel', 'tcg', '-m', '256', '-nographic', '-serial', `file:${serial}`, '-monitor', 'none',
      '-netdev', `user,id=net0,tftp=${tftpDir},bootfile=boot.ipxe`,
      '-device', `rtl8139,netdev=net0,mac=${DEFAULT_MAC},romfile=${rom},bootindex=1`, '-boot', 'n',
    ],
    { stdio: 'ignore' },
  );
  try {
    for (;;) {
      if (existsSync(serial) && plainSerialText(readFileSync(serial, 'latin1')).includes(DEFAULT_MARKER)) return Date.now() - started;
      if (Date.now() - started > 300_000) throw new Error('raw QEMU did not reach the marker within 300 s');
      if (qemu.exitCode !== null) throw new Error(`raw QEMU exited with ${qemu.exitCode}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    qemu.kill('SIGKILL');
    await new Promise((r) => (qemu.exitCode !== null || qemu.signalCode !== null ? r(null) : qemu.once('exit', r)));
    rmSync(work, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const target = await startTgtTarget({ targetIqn: TARGET_IQN });
  const tftpDir = mkdtempSync(join(tmpdir(), 'ibft-lab-bench-tftp-'));
  try {
    const script = renderScript({
      initiatorIqn: INITIATOR_IQN,
      sanhooks: [{ targets: [{ server: '10.0.2.2', port: target.port, lun: 1, targetIqn: TARGET_IQN }] }],
    });
    writeFileSync(join(tftpDir, 'boot.ipxe'), script);
    const rom = stockRomPath('rtl8139', 'bios');
    const raw: number[] = [];
    const runner: number[] = [];
    for (let i = 0; i < rounds; i++) {
      raw.push(await rawQemuToMarker(tftpDir, rom));
      const report = await bootLab({
        scriptPath: join(tftpDir, 'boot.ipxe'),
        rom,
        probe: false,
        expectations: { initiator: { name: INITIATOR_IQN } },
      });
      if (report.verdict !== 'pass' || report.timings.qemuStartToIbftMs === null) throw new Error(`bootLab failed: ${report.failure}`);
      runner.push(report.timings.qemuStartToIbftMs);
      console.log(`round ${i + 1}: raw QEMU → marker ${raw[i]} ms; bootLab QEMU start → decoded iBFT ${runner[i]} ms`);
    }
    const ratio = median(runner) / median(raw);
    console.log(`median raw QEMU → marker: ${median(raw)} ms`);
    console.log(`median bootLab QEMU start → decoded iBFT: ${median(runner)} ms`);
    console.log(`ratio bootLab/raw: ${ratio.toFixed(3)} (overhead ${((ratio - 1) * 100).toFixed(1)}%, goal < 10%)`);
  } finally {
    rmSync(tftpDir, { recursive: true, force: true });
    await target.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
