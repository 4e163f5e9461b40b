export * from './init-script';
export * from './build-appliance';
export * from './endpoint';
export * from './free-port';
export * from './start-appliance';
export * from './segment-network';
