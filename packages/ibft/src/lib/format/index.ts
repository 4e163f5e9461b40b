export { formatJson, redactTable, type JsonFormatOptions } from './json';
export { formatSysfs, formatSysfsBytes, sysfsFiles, type SysfsFile } from './sysfs';
export {
  formatIscsiadm,
  predictIscsiadmFw,
  compareIscsiadmFw,
  type IscsiadmFormatOptions,
  type IscsiadmFwResult,
  type IscsiadmRecord,
  type IscsiadmDifference,
} from './iscsiadm';
export { formatTable } from './table';
export { MASKED_SECRET, type FormatOptions } from './options';
