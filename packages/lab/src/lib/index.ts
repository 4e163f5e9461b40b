export * from './lab-spec';
export * from './derive-lab';
export * from './lab-targets';
export * from './read-lab';
