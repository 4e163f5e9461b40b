export { formatJson, redactTable, type JsonFormatOptions } from './json';
export { formatSysfs, formatSysfsBytes, sysfsFiles, type SysfsFile } from './sysfs';
export { formatIscsiadm, type IscsiadmFormatOptions } from './iscsiadm';
export { formatTable } from './table';
export { MASKED_SECRET, type FormatOptions } from './options';
