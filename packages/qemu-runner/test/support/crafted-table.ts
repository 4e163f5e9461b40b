// A table for the replay tests, as `ibft encode` takes it (an @ibft-lab/ibft IbftSpec, the JSON
// `ibft decode --format json` prints); src/lib/consumers/fixtures/replay-crafted/ibft.bin is its encoding.
/** A table that no firmware here writes: a VLAN, a second NIC not selected for boot, two targets, one with CHAP. */
export const CRAFTED_TABLE = {
  initiator: { name: 'iqn.2010-04.org.example:replayed' },
  nics: [
    {
      ip: '192.168.50.10',
      prefixLength: 24,
      originName: 'manual',
      gateway: '192.168.50.1',
      primaryDns: '192.168.50.2',
      secondaryDns: '192.168.50.3',
      vlan: 5,
      mac: '52:54:00:aa:00:01',
      hostname: 'replay-host',
    },
    { bootSelected: false, ip: '192.168.60.10', prefixLength: 24, originName: 'manual', gateway: '192.168.60.1', mac: '52:54:00:aa:00:02' },
  ],
  targets: [
    { ip: '192.168.50.100', port: 3260, lun: 2, nicAssociation: 0, name: 'iqn.2003-01.org.example:replay', chapName: 'replayuser', chapSecret: 'replaysecret01' },
    { ip: '192.168.60.100', port: 3261, lun: 1, nicAssociation: 1, name: 'iqn.2003-01.org.example:replay2' },
  ],
};
