export * from './lab-spec';
export * from './derive-lab';
export * from './lab-targets';
export * from './read-lab';
export * from './boot-spec';
export * from './lab-files';
export * from './os-proof';
