// The part of fs-native-extensions (which ships no types) the queue's directory lock uses.
declare module 'fs-native-extensions' {
  /**
   * Requests an exclusive (or, with `shared`, a shared) lock of a byte range of the open file `fd` without
   * waiting: `false` when another open file description holds a conflicting lock. A `length` of 0 locks to
   * the end of the file.
   */
  function tryLock(fd: number, offset?: number, length?: number, options?: { shared?: boolean }): boolean;
  /** Releases a lock taken with `tryLock` on the same range. */
  function unlock(fd: number, offset?: number, length?: number): void;
  const fsNativeExtensions: { tryLock: typeof tryLock; unlock: typeof unlock };
  export default fsNativeExtensions;
}
