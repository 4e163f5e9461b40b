// The consumers: every reader of the table the consumer probe runs, and the
// names a lab uses to say which of them must agree.

/** The readings a run reports, in matrix column order. */
export const CONSUMERS = ['kernel', 'iscsiadm', 'iscsistart', 'dracut', 'networkmanager'] as const;
export type ConsumerName = (typeof CONSUMERS)[number];

/** What a lab may name: a consumer, or `open-iscsi` for iscsiadm and iscsistart together. */
export const CONSUMER_CHOICES = ['kernel', 'open-iscsi', 'iscsiadm', 'iscsistart', 'dracut', 'networkmanager'] as const;
export type ConsumerChoice = (typeof CONSUMER_CHOICES)[number];

/** Every consumer must agree unless the lab says otherwise. */
export const DEFAULT_REQUIRED_CONSUMERS: ConsumerChoice[] = ['kernel', 'open-iscsi', 'dracut', 'networkmanager'];

export const CONSUMER_TITLES: Record<ConsumerName, string> = {
  kernel: 'kernel',
  iscsiadm: 'iscsiadm',
  iscsistart: 'iscsistart',
  dracut: 'dracut',
  networkmanager: 'NetworkManager',
};

/** What each one is, for reports and docs. */
export const CONSUMER_DESCRIPTIONS: Record<ConsumerName, string> = {
  kernel: "Linux's iscsi_ibft: /sys/firmware/ibft",
  iscsiadm: "open-iscsi 2.1.8's `iscsiadm -m fw`",
  iscsistart: "open-iscsi 2.1.8's `iscsistart -f`",
  dracut: "dracut 059's cmdline hooks for rd.iscsi.ibft=1 rd.iscsi.firmware=1 (net-lib.sh ibft_to_cmdline, 95iscsi)",
  networkmanager: "NetworkManager 1.42's `nm-initrd-generator -s -- rd.iscsi.ibft=1 rd.iscsi.firmware=1`",
};

/** The consumers a list of choices names (open-iscsi → iscsiadm, iscsistart), in matrix order. */
export function expandConsumers(choices: readonly ConsumerChoice[]): ConsumerName[] {
  const named = new Set<ConsumerName>();
  for (const choice of choices) {
    if (choice === 'open-iscsi') {
      named.add('iscsiadm');
      named.add('iscsistart');
    } else named.add(choice);
  }
  return CONSUMERS.filter((name) => named.has(name));
}

/**
 * The field kinds each consumer reads at all (fieldKind names). A field it
 * does not read shows as – in the matrix; one it reads and gets wrong, or
 * leaves out, is a mismatch.
 */
export const CONSUMER_READS: Record<ConsumerName, ReadonlySet<string>> = {
  kernel: new Set([
    'initiator.name',
    ...['mac', 'method', 'ip', 'prefix', 'gateway', 'dns', 'secondaryDns', 'vlan', 'hostname'].map((f) => `nic.${f}`),
    ...['name', 'ip', 'port', 'lun', 'nic', 'chapType', 'chapName', 'chapSecret', 'reverseChapName', 'reverseChapSecret'].map((f) => `target.${f}`),
  ]),
  iscsiadm: openIscsiReads(),
  iscsistart: openIscsiReads(),
  dracut: new Set(['initiator.name', ...['mac', 'method', 'ip', 'prefix', 'gateway', 'dns', 'secondaryDns', 'vlan', 'hostname'].map((f) => `nic.${f}`)]),
  networkmanager: new Set(['mac', 'method', 'ip', 'prefix', 'gateway', 'dns', 'secondaryDns', 'vlan'].map((f) => `nic.${f}`)),
};

function openIscsiReads(): ReadonlySet<string> {
  return new Set([
    'initiator.name',
    ...['mac', 'method', 'ip', 'prefix', 'gateway', 'dns', 'secondaryDns', 'vlan'].map((f) => `nic.${f}`),
    ...['name', 'ip', 'port', 'lun', 'nic', 'chapName', 'chapSecret', 'reverseChapName', 'reverseChapSecret'].map((f) => `target.${f}`),
  ]);
}
