export * from './document';
export * from './junit';
export * from './report-html';
export * from './report-index';
export * from './summary';
export * from './write-report';
export * from './consumer-matrix';
export * from './run-table';
