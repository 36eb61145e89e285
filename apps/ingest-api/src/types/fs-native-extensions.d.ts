declare module 'fs-native-extensions' {
  /**
   * Takes an advisory lock on an open file without waiting (an open-file-description lock on Linux,
   * `flock` on macOS, `LockFileEx` on Windows); false when another holder has it. Released when the
   * descriptor is closed or the process ends.
   */
  export function tryLock(fd: number, options?: { shared?: boolean }): boolean;
}
