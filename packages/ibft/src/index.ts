// @ibft-lab/ibft: locate, decode, validate, format, compare, encode and import iSCSI Boot Firmware Tables.
export { decodeIbft, decodeLun, isValid, kobjectName, type DecodeOptions } from './lib/decode';
export { linuxSysfs, kernfsNameHash, kernfsOrder, stringBytes, type LinuxSysfs, type SysfsKobject, type SysfsAttribute } from './lib/linux';
export { locateIbft, findValidIbft, BIOS_SCAN, type Candidate, type LocateMethod, type LocateOptions, type FindResult } from './lib/locate';
export {
  formatJson,
  formatSysfs,
  formatSysfsBytes,
  sysfsFiles,
  type SysfsFile,
  formatIscsiadm,
  predictIscsiadmFw,
  compareIscsiadmFw,
  formatTable,
  redactTable,
  MASKED_SECRET,
  type FormatOptions,
  type JsonFormatOptions,
  type IscsiadmFormatOptions,
  type IscsiadmFwResult,
  type IscsiadmRecord,
  type IscsiadmDifference,
} from './lib/format';
export {
  compareIbft,
  SECRET_DIFFERS,
  type IbftExpectation,
  type NicExpectation,
  type TargetExpectation,
  type Mismatch,
} from './lib/compare';
export { encodeIbft, encodeIbftReport, type EncodeResult } from './lib/encode';
export { parseIbftSpec, IbftSpecSchema, IbftSpecError, MAX_TABLE_LENGTH, type IbftSpec, type SpecError, type SpecResult } from './lib/spec';
export { importIbft, SECRET_PLACEHOLDER, type ImportOptions, type ImportResult } from './lib/import';
export { canonicalAddress } from './lib/address';
export { ibftFieldMap, type IbftField, type IbftFieldMap, type IbftRegion, type IbftRegionKind } from './lib/field-map';
export * from './lib/structures';
