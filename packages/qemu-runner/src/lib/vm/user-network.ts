// The addresses QEMU's user network (slirp) gives a guest. Labs on it know
// these in advance, so their iBFT expectations can name them.
export const USER_NETWORK = {
  guestIp: '10.0.2.15',
  prefix: 24,
  /** The host, as the guest sees it: gateway, DHCP and TFTP server. */
  hostIp: '10.0.2.2',
  dnsIp: '10.0.2.3',
  /** A free address that guestForwards relay to a host loopback port. */
  relayIp: '10.0.2.4',
} as const;
