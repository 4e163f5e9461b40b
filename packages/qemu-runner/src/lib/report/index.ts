export * from './junit';
export * from './summary';
export * from './write-report';
export * from './consumer-matrix';
