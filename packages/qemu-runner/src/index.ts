// @ibft-lab/qemu-runner: QEMU lifecycle (vm), guest images (guest), the Linux
// iBFT probe and the other readers of the table (probe, consumers), bounded initiator boots (boot) and their reports (report).
export * from './lib/vm';
export * from './lib/guest';
export * from './lib/probe';
export * from './lib/consumers';
export * from './lib/boot';
export * from './lib/report';
export * from './lib/os-image';
