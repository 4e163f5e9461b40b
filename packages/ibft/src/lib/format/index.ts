export { formatJson, redactTable, type JsonFormatOptions } from './json';
export { formatSysfs } from './sysfs';
export { formatIscsiadm, type IscsiadmFormatOptions } from './iscsiadm';
export { formatTable } from './table';
export { MASKED_SECRET, type FormatOptions } from './options';
