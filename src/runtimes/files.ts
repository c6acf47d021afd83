/** What a runtime declares of its files, so that the supply can notice when they change (supply/runtime-files.ts). */
export interface WatchedPaths {
  /** Directories whose files (recursively, __pycache__ and node_modules left out) are the runtime's code. */
  trees: string[];
  /** Files or directories whose own size and mtime change when packages are installed or removed. */
  entries: string[];
}
