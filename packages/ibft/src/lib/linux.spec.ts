// What Linux does with a table, as read from drivers/firmware/iscsi_ibft.c:
// control structures past 18 bytes, structures reached twice or named twice,
// structures in a slot of another kind, raw string bytes, readdir order.
import { decodeIbft, isValid } from './decode';
import { formatSysfs, formatSysfsBytes, sysfsFiles } from './format';
import { kernfsNameHash, kernfsOrder, linuxSysfs } from './linux';
import { encodeIbft, encodeIbftLayout, fixChecksum, patchU16, patchU8, type EncodeSpec } from '../../test/support/encode-ibft';

const INITIATOR = 'iqn.2010-04.org.ipxe:lab';
const TARGET = 'iqn.2003-01.org.example:lab';

const pairs = (n: number): EncodeSpec => ({
  initiator: { name: INITIATOR },
  nics: Array.from({ length: n }, (_, i) => ({ ip: `10.0.${i + 2}.15`, prefix: 24, mac: `52:54:00:12:34:${(0x56 + i).toString(16)}` })),
  targets: Array.from({ length: n }, (_, i) => ({ ip: `10.0.${i + 2}.2`, name: `${TARGET}${i}`, lunWords: [i + 1, 0, 0, 0], nicAssociation: i })),
});

const errors = (bytes: Uint8Array) =>
  decodeIbft(bytes)
    .problems.filter((p) => p.severity === 'error')
    .map((p) => p.path);
const kobjects = (bytes: Uint8Array) => [...new Set(formatSysfs(decodeIbft(bytes).table!).map((l) => l.split('/')[0]))].sort();

describe('control structure longer than 18 bytes (more than two NIC/target pairs)', () => {
  it.each([3, 4, 7])('%i pairs: the control grows to 10 + 4 per pair, every pair decodes and shows', (n) => {
    const bytes = encodeIbft(pairs(n));
    const result = decodeIbft(bytes);
    expect(result.problems).toEqual([]);
    const t = result.table!;
    expect(t.control!.header.length).toBe(10 + 4 * n);
    expect(t.control!.nicOffsets).toHaveLength(n);
    expect(t.control!.targetOffsets).toHaveLength(n);
    expect(t.nics.map((x) => x.slot)).toEqual([...Array(n).keys()]);
    expect(t.targets.map((x) => x.name?.value)).toEqual([...Array(n).keys()].map((i) => `${TARGET}${i}`));
    const lines = formatSysfs(t);
    for (let i = 0; i < n; i++) {
      expect(lines).toContain(`ethernet${i}/ip-addr=10.0.${i + 2}.15`);
      expect(lines).toContain(`target${i}/lun=0${(i + 1).toString(16)}000000`);
      expect(lines).toContain(`target${i}/nic-assoc=${i}`);
    }
  });

  it('a control shorter than 18 is rejected, as Linux does (nothing in sysfs)', () => {
    for (const length of [16, 17, 0]) {
      const bytes = encodeIbft({ ...pairs(1), controlLength: length });
      expect(errors(bytes)).toEqual(['control.header.length']);
      expect(formatSysfs(decodeIbft(bytes).table!)).toEqual([]);
      expect(linuxSysfs(decodeIbft(bytes).table!)).toMatchObject({ shown: false, reason: expect.stringMatching(/Control header is invalid/) });
    }
  });

  it('an odd length is a warning: Linux reads whole u16 slots and ignores the last byte', () => {
    const bytes = encodeIbft({ ...pairs(3), controlLength: 23 });
    const result = decodeIbft(bytes);
    expect(result.problems).toEqual([{ path: 'control.header.length', severity: 'warning', message: expect.stringMatching(/odd.*7 of them/) }]);
    expect(isValid(result)).toBe(true);
    expect(kobjects(bytes)).toEqual(['acpi_header', 'ethernet0', 'ethernet1', 'ethernet2', 'initiator', 'target0', 'target1', 'target2']);
  });

  it('slots are read only up to the control length: 20 bytes reach nic2 but not target2', () => {
    const bytes = encodeIbft({ ...pairs(3), controlLength: 20 });
    const t = decodeIbft(bytes).table!;
    expect(t.control!.nicOffsets).toHaveLength(3);
    expect(t.control!.targetOffsets).toHaveLength(2);
    expect(t.targets.map((x) => x.slot)).toEqual([0, 1]);
    expect(kobjects(bytes)).toEqual(['acpi_header', 'ethernet0', 'ethernet1', 'ethernet2', 'initiator', 'target0', 'target1']);
  });

  it('a control length past the end of the table is an error; the standard five slots are decoded', () => {
    const { bytes } = encodeIbftLayout(pairs(1));
    patchU16(bytes, 0x32, 0xfff0);
    expect(errors(bytes)).toEqual(['control.header.length']);
  });

  it('a wrong control id or index: Linux rejects the table; only the standard five slots are decoded', () => {
    const { bytes } = encodeIbftLayout(pairs(3));
    patchU8(bytes, 0x30, 7);
    const t = decodeIbft(bytes).table!;
    expect(errors(bytes)).toEqual(['control.header.id']);
    expect(t.targets.map((x) => x.slot)).toEqual([0, 1]);
    expect(formatSysfs(t)).toEqual([]);
  });
});

describe('structures Linux would register twice', () => {
  it('two control slots pointing at the same structure: an error, and Linux shows nothing', () => {
    const { bytes, targetOffsets } = encodeIbftLayout(pairs(2));
    patchU16(bytes, 0x40, targetOffsets[0]); // target1 slot -> target0's structure
    const result = decodeIbft(bytes);
    expect(errors(bytes)).toEqual(['control.targetOffsets[1]']);
    expect(result.problems.find((p) => p.path === 'control.targetOffsets[1]')!.message).toMatch(/same structure as control.targetOffsets\[0\].*EEXIST/);
    expect(result.table!.targets).toHaveLength(1);
    expect(formatSysfs(result.table!)).toEqual([]);
    expect(linuxSysfs(result.table!)).toMatchObject({ shown: false, reason: expect.stringMatching(/both be target0/) });
  });

  it('two targets with the same index: an error naming both, and Linux shows nothing', () => {
    const spec = pairs(2);
    spec.targets![1].index = 0;
    const bytes = encodeIbft(spec);
    const result = decodeIbft(bytes);
    expect(errors(bytes)).toEqual(['target[1].header.index']);
    expect(result.problems[0].message).toMatch(/also target\[0\]'s: Linux names both kobjects target0/);
    expect(formatSysfs(result.table!)).toEqual([]);
  });

  it('two NICs with the same index, the same for ethernet<index>', () => {
    const spec = pairs(2);
    spec.nics![1].index = 0;
    expect(errors(encodeIbft(spec))).toEqual(['nic[1].header.index']);
    expect(formatSysfs(decodeIbft(encodeIbft(spec)).table!)).toEqual([]);
  });

  it('a duplicate that Linux skips anyway (wrong length) does not hide the table', () => {
    const spec = pairs(2);
    spec.targets![1].index = 0;
    const { bytes, targetOffsets } = encodeIbftLayout(spec);
    patchU16(bytes, targetOffsets[1] + 2, 60);
    expect(errors(bytes)).toEqual(['target[1].header.length']);
    expect(kobjects(bytes)).toContain('target0');
  });

  it('a structure in a slot of another kind is registered by its own id, as Linux does', () => {
    const { bytes, targetOffsets } = encodeIbftLayout(pairs(2));
    patchU16(bytes, 0x3e, targetOffsets[1]); // nic1 slot -> target1's structure
    patchU16(bytes, 0x40, 0); // and the target1 slot empty
    const result = decodeIbft(bytes);
    expect(errors(bytes)).toEqual(['nic[1].header.id']);
    expect(result.table!.targets.map((t) => [t.slot, t.via ?? null])).toEqual([
      [0, null],
      [1, 'nic'],
    ]);
    expect(kobjects(bytes)).toEqual(['acpi_header', 'ethernet0', 'initiator', 'target0', 'target1']);
  });

  it('a structure id Linux does not know: ignored (an error here)', () => {
    const { bytes, nicOffsets } = encodeIbftLayout(pairs(2));
    patchU8(bytes, nicOffsets[1], 9);
    expect(errors(bytes)).toEqual(['nic[1].header.id']);
    expect(kobjects(bytes)).toEqual(['acpi_header', 'ethernet0', 'initiator', 'target0', 'target1']);
  });
});

describe('string bytes that are not UTF-8', () => {
  const withRawHostname = () => {
    const { bytes, nicOffsets } = encodeIbftLayout({ ...pairs(1), nics: [{ ip: '10.0.2.15', prefix: 24, hostname: 'caf_-host' }] });
    const off = new DataView(bytes.buffer).getUint16(nicOffsets[0] + 100, true);
    bytes[off + 3] = 0xe9; // Latin-1 é in place of '_'
    fixChecksum(bytes);
    return bytes;
  };

  it('the value shows U+FFFD, hex keeps the bytes, and a warning names the field', () => {
    const result = decodeIbft(withRawHostname());
    expect(result.problems).toEqual([{ path: 'nic[0].hostname', severity: 'warning', message: expect.stringMatching(/not valid UTF-8/) }]);
    expect(result.table!.nics[0].hostname).toEqual({ offset: expect.any(Number), length: 9, value: 'caf\ufffd-host', hex: Buffer.from('caf\xe9-host', 'latin1').toString('hex') });
  });

  it('formatSysfsBytes and sysfsFiles hold the raw bytes Linux prints; formatSysfs is the text view', () => {
    const table = decodeIbft(withRawHostname()).table!;
    const file = sysfsFiles(table).find((f) => f.path === 'ethernet0/hostname')!;
    expect(file.content).toEqual(Buffer.from('caf\xe9-host\n', 'latin1'));
    expect(formatSysfsBytes(table).includes(Buffer.from('ethernet0/hostname=caf\xe9-host\n', 'latin1'))).toBe(true);
    expect(formatSysfs(table)).toContain('ethernet0/hostname=caf\ufffd-host');
  });

  it('a NUL inside the length: Linux prints up to it; hex keeps every byte', () => {
    const { bytes, targetOffsets } = encodeIbftLayout(pairs(1));
    const off = new DataView(bytes.buffer).getUint16(targetOffsets[0] + 36, true);
    patchU8(bytes, off + 3, 0);
    const t = decodeIbft(bytes).table!.targets[0];
    expect(t.name!.value).toBe('iqn');
    expect(Buffer.from(t.name!.hex!, 'hex').toString('latin1')).toBe(`iqn\0${TARGET.slice(4)}0`);
    expect(formatSysfs(decodeIbft(bytes).table!)).toContain('target0/target-name=iqn');
  });

  it('subnet-mask is the one file Linux writes without a newline', () => {
    const files = sysfsFiles(decodeIbft(encodeIbft(pairs(1))).table!);
    expect(files.find((f) => f.path === 'ethernet0/subnet-mask')!.content.toString()).toBe('255.255.255.0');
    expect(files.find((f) => f.path === 'ethernet0/prefix-len')!.content.toString()).toBe('24\n');
  });
});

describe('kernfs readdir order (what nftw, and so open-iscsi, sees)', () => {
  it('matches `ls -f` of live sysfs directories (Linux 6.18, x86_64)', () => {
    // Listed unsorted (ls -f) on the machine this was written on; readdir order is kernfs hash order.
    const sysKernel = [
      'warn_count', 'notes', 'hardlockup_count', 'mm', 'uevent_seqnum', 'profiling', 'btf', 'vmcoreinfo', 'cpu_byteorder', 'software_nodes',
      'reboot', 'tracing', 'oops_count', 'slab', 'iommu_groups', 'security', 'irq', 'fscaps', 'rcu_normal', 'debug', 'softlockup_count',
      'rcu_stall_count', 'rcu_expedited', 'cgroup', 'boot_params', 'address_bits',
    ];
    expect(kernfsOrder([...sysKernel].sort())).toEqual(sysKernel);
    expect(kernfsOrder(['lo', 'ifb1', 'eth0', 'ifb0'])).toEqual(['eth0', 'lo', 'ifb0', 'ifb1']);
    expect(kernfsNameHash('notes')).toBe(242758998);
  });

  it('targets are not listed by index: target2, target0, target3, target1', () => {
    expect(kernfsOrder(['target0', 'target1', 'target2', 'target3'])).toEqual(['target2', 'target0', 'target3', 'target1']);
    expect(kernfsOrder(['acpi_header', 'initiator', 'ethernet0', 'ethernet1', 'target0', 'target1'])).toEqual(['ethernet0', 'initiator', 'ethernet1', 'target0', 'target1', 'acpi_header']);
  });
});

describe("Linux's end-of-table check", () => {
  it('is kept in 16 bits: in a table over 65583 bytes, a structure past (length - 48) mod 65536 is skipped', () => {
    // A 70000-byte table: eot_offset = 69952 & 0xffff = 4416; the target placed at 8192 is not registered.
    const { encodeIbftReport } = require('./encode') as typeof import('./encode');
    const { table, warnings } = encodeIbftReport({
      header: { length: 70000 },
      initiator: { name: INITIATOR, offset: 0x50 },
      nics: [{ ip: '10.0.2.15', prefixLength: 24, offset: 0xa0 }],
      targets: [{ ip: '10.0.2.2', name: TARGET, offset: 8192 }],
    });
    expect(warnings).toEqual([{ path: 'control.targetOffsets[0]', severity: 'warning', message: expect.stringMatching(/end-of-table offset 4416 .*Linux skips this structure/) }]);
    expect(kobjectNames(table)).toEqual(['initiator', 'ethernet0', 'acpi_header']);
  });
});

function kobjectNames(table: import('./structures').IbftTable): string[] {
  return linuxSysfs(table).kobjects.map((k) => k.name);
}
