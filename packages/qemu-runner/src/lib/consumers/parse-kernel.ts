// The kernel's reading: /sys/firmware/ibft as the probe prints it
// (`ethernet0/ip-addr=10.0.2.15`, secrets as salted hashes). The host decode
// goes through the same function (its sysfs lines, hashed with the same salt),
// so "the table" and "the kernel" are compared in one model.
import { normalAddress, normalMac, originMethod, type ConsumerFields } from './fields';

const CHAP_TYPES: Record<string, string> = { '0': 'none', '1': 'chap', '2': 'mutual' };

export function kernelFields(sysfsLines: string[]): ConsumerFields {
  const dirs = new Map<string, Map<string, string>>();
  for (const line of sysfsLines) {
    const eq = line.indexOf('=');
    const slash = line.indexOf('/');
    if (eq < 0 || slash < 0 || slash > eq) continue;
    const dir = line.slice(0, slash);
    if (!dirs.has(dir)) dirs.set(dir, new Map());
    dirs.get(dir)!.set(line.slice(slash + 1, eq), line.slice(eq + 1));
  }
  const out: ConsumerFields = {};
  const get = (dir: Map<string, string>, attr: string) => dir.get(attr) ?? null;
  const int = (value: string | null) => (value === null || !/^-?\d+$/.test(value) ? value : Number(value));
  const initiator = dirs.get('initiator');
  if (initiator) out['initiator.name'] = get(initiator, 'initiator-name');
  for (const [name, dir] of dirs) {
    const nic = /^ethernet(\d+)$/.exec(name);
    if (nic) {
      const p = `nic[${dir.get('index') ?? nic[1]}]`;
      out[`${p}.mac`] = normalMac(get(dir, 'mac'));
      out[`${p}.method`] = originMethod(get(dir, 'origin'));
      out[`${p}.ip`] = normalAddress(get(dir, 'ip-addr'));
      out[`${p}.prefix`] = int(get(dir, 'prefix-len'));
      out[`${p}.gateway`] = normalAddress(get(dir, 'gateway'));
      out[`${p}.dns`] = normalAddress(get(dir, 'primary-dns'));
      out[`${p}.secondaryDns`] = normalAddress(get(dir, 'secondary-dns'));
      out[`${p}.vlan`] = int(get(dir, 'vlan'));
      out[`${p}.hostname`] = get(dir, 'hostname');
    }
    const target = /^target(\d+)$/.exec(name);
    if (target) {
      const p = `target[${dir.get('index') ?? target[1]}]`;
      out[`${p}.name`] = get(dir, 'target-name');
      out[`${p}.ip`] = normalAddress(get(dir, 'ip-addr'));
      out[`${p}.port`] = int(get(dir, 'port'));
      out[`${p}.lun`] = get(dir, 'lun');
      out[`${p}.nic`] = int(get(dir, 'nic-assoc'));
      const chapType = get(dir, 'chap-type');
      out[`${p}.chapType`] = chapType === null ? null : (CHAP_TYPES[chapType] ?? chapType);
      out[`${p}.chapName`] = get(dir, 'chap-name');
      out[`${p}.chapSecret`] = get(dir, 'chap-secret');
      out[`${p}.reverseChapName`] = get(dir, 'rev-chap-name');
      out[`${p}.reverseChapSecret`] = get(dir, 'rev-chap-name-secret');
    }
  }
  return out;
}
