export * from './probe-init';
export * from './probe-guest';
export * from './probe-lines';
