// @ibft-lab/qemu-runner: QEMU lifecycle (vm), guest images (guest), the Linux
// iBFT probe (probe), bounded initiator boots (boot) and their reports (report).
export * from './lib/vm';
export * from './lib/guest';
export * from './lib/probe';
export * from './lib/boot';
export * from './lib/report';
export * from './lib/os-image';
