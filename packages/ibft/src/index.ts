// @ibft-lab/ibft: locate, decode, validate, format and compare iSCSI Boot Firmware Tables.
export { decodeIbft, decodeLun, isValid } from './lib/decode';
export { locateIbft, findValidIbft, BIOS_SCAN, type Candidate, type LocateMethod, type LocateOptions, type FindResult } from './lib/locate';
export {
  formatJson,
  formatSysfs,
  formatIscsiadm,
  formatTable,
  redactTable,
  MASKED_SECRET,
  type FormatOptions,
  type JsonFormatOptions,
  type IscsiadmFormatOptions,
} from './lib/format';
export {
  compareIbft,
  SECRET_DIFFERS,
  type IbftExpectation,
  type NicExpectation,
  type TargetExpectation,
  type Mismatch,
} from './lib/compare';
export { canonicalAddress } from './lib/address';
export { ibftFieldMap, type IbftField, type IbftFieldMap, type IbftRegion, type IbftRegionKind } from './lib/field-map';
export * from './lib/structures';
