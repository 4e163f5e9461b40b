// A table for the replay tests (and src/lib/consumers/fixtures/replay-crafted/ibft.bin,
// written by @ibft-lab/ibft's test encoder from this).
/** A table that no firmware here writes: a VLAN, a second NIC not selected for boot, two targets, one with CHAP. */
export const CRAFTED_TABLE = {
  initiator: { name: 'iqn.2010-04.org.example:replayed' },
  nics: [
    { index: 0, flags: 3, ip: '192.168.50.10', prefix: 24, origin: 1, gateway: '192.168.50.1', dns: '192.168.50.2', secondaryDns: '192.168.50.3', vlan: 5, mac: '52:54:00:aa:00:01', hostname: 'replay-host' },
    { index: 1, flags: 1, ip: '192.168.60.10', prefix: 24, origin: 1, gateway: '192.168.60.1', mac: '52:54:00:aa:00:02' },
  ],
  targets: [
    { index: 0, flags: 3, ip: '192.168.50.100', port: 3260, lunWords: [2, 0, 0, 0], chapType: 1, nicAssociation: 0, name: 'iqn.2003-01.org.example:replay', chapName: 'replayuser', chapSecret: 'replaysecret01' },
    { index: 1, flags: 3, ip: '192.168.60.100', port: 3261, lunWords: [1, 0, 0, 0], chapType: 0, nicAssociation: 1, name: 'iqn.2003-01.org.example:replay2' },
  ],
};
