/**
 * Notices when a runtime's files change on disk (its harness edited, its packages reinstalled), so
 * that warm sandboxes started from the old files are replaced: a pre-started process or a zygote
 * holds the old code in memory and would run the next request with it.
 *
 * It polls a fingerprint (size and mtime of each file that matters) every couple of seconds:
 * a few dozen stat() calls, where fs.watch would miss changes under bind mounts and network
 * filesystems and needs a watch per directory.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

import type { WatchedPaths } from "../runtimes/files.ts";

const SKIPPED = new Set(["__pycache__", "node_modules"]);

/** Size and mtime of every watched file, as one string; a path that does not exist counts as "-". */
export function fingerprint(paths: WatchedPaths): string {
  const parts: string[] = [];
  const stamp = (path: string): void => {
    try {
      const s = statSync(path);
      parts.push(`${path}:${s.size}:${s.mtimeMs}`);
    } catch {
      parts.push(`${path}:-`);
    }
  };
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      parts.push(`${dir}:-`);
      return;
    }
    for (const name of names) {
      if (SKIPPED.has(name)) continue;
      const path = join(dir, name);
      let isDir = false;
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        continue;
      }
      if (isDir) walk(path);
      else stamp(path);
    }
  };
  for (const tree of paths.trees) walk(tree);
  for (const entry of paths.entries) stamp(entry);
  return parts.join("\n");
}

export class RuntimeFilesWatch {
  private readonly last = new Map<string, string>();
  private readonly timer: NodeJS.Timeout;

  /** Calls `onChange(runtime)` once per change of a runtime's fingerprint, polling every `intervalMs`. */
  constructor(
    private readonly runtimes: Map<string, WatchedPaths>,
    onChange: (runtime: string) => void,
    intervalMs = 2000,
  ) {
    for (const [name, paths] of runtimes) this.last.set(name, fingerprint(paths));
    this.timer = setInterval(() => {
      for (const [name, paths] of this.runtimes) {
        const now = fingerprint(paths);
        if (now === this.last.get(name)) continue;
        this.last.set(name, now);
        onChange(name);
      }
    }, intervalMs).unref();
  }

  close(): void {
    clearInterval(this.timer);
  }
}
