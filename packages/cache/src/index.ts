// @ibft-lab/cache: cache entries that parallel runs build once, and the lock
// that serialises them (taken over when its owner died).
export { ensureCacheEntry, stagingFoldersOf, type CacheEntry, type CacheEntryOptions } from './lib/cache-entry';
export { withFileLock, LockTimeoutError, type FileLockOptions, type LockOwner } from './lib/file-lock';
export { processAlive, processStartTime, sameProcessAlive } from './lib/process-alive';
