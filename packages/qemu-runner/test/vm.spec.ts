// Real QEMU (TCG) with Debian's stock iPXE ROM: the VM library end to end.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveVmCount, SerialFailure, startQemu, type QemuVm } from '../src';
import { pidAlive } from './support/process';

const STOCK_ROM = '/usr/lib/ipxe/qemu/pxe-rtl8139.rom';
const BOOT_DEADLINE_MS = 150_000;
jest.setTimeout(BOOT_DEADLINE_MS + 30_000);

const canRun = existsSync(STOCK_ROM) && existsSync('/usr/bin/qemu-system-x86_64');
if (!canRun) console.warn(`skipping VM tests: needs qemu-system-x86 and ipxe-qemu (${STOCK_ROM}); run tools/setup`);
const describeVm = canRun ? describe : describe.skip;

function tftpDirWithScript(script: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-vmtest-tftp-'));
  writeFileSync(join(dir, 'boot.ipxe'), script);
  return dir;
}

describeVm('startQemu (real QEMU, stock iPXE ROM)', () => {
  let tftpDir: string;
  let vm: QemuVm | undefined;

  beforeAll(() => {
    tftpDir = tftpDirWithScript('#!ipxe\necho vm-test marker IBFT-LAB-VM-OK\n');
  });
  afterAll(async () => {
    await vm?.stop();
    rmSync(tftpDir, { recursive: true, force: true });
  });

  it('boots from the network, sees the script marker on serial, answers QMP, dumps memory, and stops leaving nothing', async () => {
    const lines: string[] = [];
    vm = await startQemu(
      {
        memoryMiB: 128,
        nics: [{ model: 'rtl8139', romfile: STOCK_ROM, netdev: { kind: 'user', tftpDir, bootfile: 'boot.ipxe' } }],
      },
      { log: (line) => lines.push(line), serialPrefix: '[vm] ', deadlineMs: BOOT_DEADLINE_MS },
    );
    expect(pidAlive(vm.pid)).toBe(true);
    const match = await vm.waitForSerial(/IBFT-LAB-VM-\w+/, { deadlineMs: BOOT_DEADLINE_MS });
    expect(match[0]).toBe('IBFT-LAB-VM-OK');
    // SeaBIOS and iPXE text both reached the serial console, and the log got it prefixed.
    expect(vm.serialText()).toMatch(/SeaBIOS/);
    expect(vm.serialText()).toMatch(/iPXE/);
    expect(lines.some((line) => line.startsWith('[vm] ') && line.includes('iPXE'))).toBe(true);

    const status = await vm.qmp.queryStatus();
    expect(status).toMatchObject({ running: true, status: 'running' });
    const firstMiB = await vm.readGuestMemory(0, 1024 * 1024);
    expect(firstMiB.length).toBe(1024 * 1024);
    // The BIOS data area and the ROM region are not all zero in a booted guest.
    expect(firstMiB.subarray(0xf0000).some((b) => b !== 0)).toBe(true);

    const { pid, tempDir } = vm;
    await vm.qmp.quit();
    expect(await vm.exited).toMatchObject({ code: 0 });
    await vm.stop();
    expect(pidAlive(pid)).toBe(false);
    expect(existsSync(tempDir)).toBe(false);
    expect(liveVmCount()).toBe(0);
    vm = undefined;
  });

  it('fails fast on an iPXE error line, naming the line and its ipxe.org URL, and stop() kills QEMU', async () => {
    const dir = tftpDirWithScript('#!ipxe\nchain tftp://10.0.2.2/does-not-exist.ipxe\n');
    try {
      vm = await startQemu(
        { memoryMiB: 128, nics: [{ model: 'rtl8139', romfile: STOCK_ROM, netdev: { kind: 'user', tftpDir: dir, bootfile: 'boot.ipxe' } }] },
        { deadlineMs: BOOT_DEADLINE_MS },
      );
      const error = await vm
        .waitForSerial('never printed', { deadlineMs: BOOT_DEADLINE_MS, failOn: [/No such file/, /Could not/] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SerialFailure);
      expect((error as SerialFailure).errorUrl).toMatch(/^https?:\/\/ipxe\.org\/[0-9a-f]{8}$/);
      const { pid, tempDir } = vm;
      await vm.stop();
      expect(pidAlive(pid)).toBe(false);
      expect(existsSync(tempDir)).toBe(false);
      vm = undefined;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an error line after the marker does not fail the wait (the marker came first)', async () => {
    // The chain fails after the marker, as a firmware falling back after `exit` prints after it.
    const dir = tftpDirWithScript('#!ipxe\necho marker IBFT-LAB-FIRST\nchain tftp://10.0.2.2/does-not-exist.ipxe\n');
    try {
      vm = await startQemu(
        { memoryMiB: 128, nics: [{ model: 'rtl8139', romfile: STOCK_ROM, netdev: { kind: 'user', tftpDir: dir, bootfile: 'boot.ipxe' } }] },
        { deadlineMs: BOOT_DEADLINE_MS },
      );
      await vm.waitForSerial(/No such file|Could not/, { deadlineMs: BOOT_DEADLINE_MS });
      const found = await vm.waitForSerial('IBFT-LAB-FIRST', { deadlineMs: 5_000, failOn: [/No such file/, /Could not/] });
      expect(found.index).toBeGreaterThan(0);
      await vm.stop();
      vm = undefined;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('QMP send-key and system_reset work, and aborting the signal stops the VM and removes its temp dir', async () => {
    const controller = new AbortController();
    const local = await startQemu({ memoryMiB: 64, nics: [], bootFromNetwork: false }, { signal: controller.signal, deadlineMs: 60_000 });
    try {
      await expect(local.qmp.sendKey(['ctrl', 'b'])).resolves.toBeUndefined();
      await expect(local.qmp.systemReset()).resolves.toBeUndefined();
      await expect(local.qmp.execute('no-such-command')).rejects.toThrow(/QMP no-such-command failed: CommandNotFound/);
      controller.abort();
      await local.exited;
      await local.stop();
      expect(pidAlive(local.pid)).toBe(false);
      expect(existsSync(local.tempDir)).toBe(false);
    } finally {
      await local.stop();
    }
  });

  it('stops the VM when its deadline passes', async () => {
    const local = await startQemu({ memoryMiB: 64, nics: [] , bootFromNetwork: false}, { deadlineMs: 1500 });
    const error = await local.waitForSerial('never printed', { deadlineMs: 60_000 }).catch((e: unknown) => e);
    expect(String(error)).toMatch(/deadline of 1500 ms/);
    await local.exited;
    await local.stop();
    expect(pidAlive(local.pid)).toBe(false);
    expect(existsSync(local.tempDir)).toBe(false);
  });
});
