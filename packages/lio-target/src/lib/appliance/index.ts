export * from './init-script';
export * from './build-appliance';
export * from './endpoint';
export * from './free-port';
export * from './disk-image';
export * from './appliance-disks';
export * from './start-appliance';
export * from './saved-state';
