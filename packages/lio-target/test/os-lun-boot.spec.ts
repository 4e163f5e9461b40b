// An OS image on an iSCSI LUN, as the LIO appliance serves it: the image
// (ensureOsImage: mmdebstrap, root) attached copy-on-write as /dev/vda and
// exported with a block backstore, whole, and the file never written. Booting
// it from the iBFT (BIOS, UEFI, a wrong CHAP secret) is what the labs
// labs/debian-iscsi-root and labs/debian-iscsi-root-uefi prove (labs/e2e),
// through the lab's own targets; this file checks only the appliance's side.
// Needs root, QEMU and the image tools (tools/setup), and the network for the
// first image build (about 90 s; cached afterwards).
import { existsSync } from 'node:fs';
import { ensureOsImage, osImageBuildUnavailable, sha256File, workspaceCacheDir, type OsImage } from '@ibft-lab/qemu-runner';
import { applyDesiredState, readLiveState, startAppliance, targetcliSession, teardownLab, type RunningAppliance, type Transport } from '../src';
import { exportOsLun, OS_LAB, OS_TARGET_IQN, osLunDesiredState } from './support/os-lun-boot';

jest.setTimeout(900_000);

const skipReason = !existsSync('/usr/bin/qemu-system-x86_64') ? 'qemu-system-x86_64 is missing (tools/setup installs it)' : osImageBuildUnavailable();
if (skipReason) console.log(`OS-on-a-LUN appliance tests skipped: ${skipReason}`);
const describeBoot = skipReason ? describe.skip : describe;


describeBoot('an OS image on an iSCSI LUN, served by the appliance', () => {
  let image: OsImage;
  let shaBefore: string;
  let appliance: RunningAppliance | undefined;
  let transport: Transport;

  beforeAll(async () => {
    image = await ensureOsImage({ cacheDir: workspaceCacheDir(), recipe: 'debian-iscsi-root', log: (line) => console.log(line) });
    shaBefore = await sha256File(image.path);
    expect(shaBefore).toBe(image.sha256);
    appliance = await startAppliance({ disks: [{ path: image.path, format: 'raw' }], readyDeadlineMs: 300_000 });
    ({ transport } = await exportOsLun(appliance));
  }, 900_000);

  afterAll(async () => {
    try {
      if (appliance) await teardownLab(transport, OS_LAB);
    } finally {
      await appliance?.stop();
    }
    // The appliance opened the image copy-on-write: not one byte of it changed.
    if (image) expect(await sha256File(image.path)).toBe(shaBefore);
  });

  it('serves the image as a block backstore on /dev/vda: whole, copy-on-write, and a no-op re-apply', async () => {
    expect(appliance!.vm.argv.join(' ')).toContain(`file=${image.path},if=virtio,format=raw,snapshot=on`);
    const size = await transport.run(['blockdev', '--getsize64', '/dev/vda']);
    expect(size.stdout.trim()).toBe(String(image.sizeBytes));
    const live = await readLiveState(targetcliSession(transport));
    expect(live.storage_objects.find((o) => o.name === `ibftlab_${OS_LAB}_os`)).toMatchObject({ plugin: 'block', dev: '/dev/vda' });
    const lun = live.targets.find((t) => t.wwn === OS_TARGET_IQN)?.tpgs[0].luns.find((l) => l.index === 0);
    expect(lun?.storage_object).toBe(`/backstores/block/ibftlab_${OS_LAB}_os`);
    const again = await applyDesiredState(transport, osLunDesiredState());
    expect(again.commandsRun).toBe(0);
  });

  it('writes to the disk land in the overlay: the appliance reads them back, the file keeps its bytes (checked after the appliance stops)', async () => {
    // 4 KiB at 700 MiB, inside the root partition; an initiator's writes take the same path.
    const write = await transport.run(['sh', '-c', 'echo ibft-lab-overlay-write | dd of=/dev/vda bs=4096 seek=179200 conv=sync 2>&1 && sync && dd if=/dev/vda bs=4096 skip=179200 count=1 2>/dev/null | head -c 23']);
    expect(write.code).toBe(0);
    expect(write.stdout).toContain('ibft-lab-overlay-write');
  });
});
