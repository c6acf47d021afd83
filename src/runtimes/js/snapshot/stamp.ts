/**
 * Where the JavaScript runtime's startup snapshot lives, and whether it may be used.
 *
 * A snapshot blob only loads into the node binary that wrote it, with the same V8 flags: the heap
 * limit (`--max-old-space-size`) is one of them, so there is one blob per heap size. It must also
 * hold the runtime's files as they are now. The stamp next to each blob records all of that; a blob
 * whose stamp does not match is not used (the harness then starts from main.mjs, as without one).
 * The blob lives inside the runtime's folder, which every sandbox already sees read-only.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

import { SOURCE_ROOT } from "../../../contract/paths.ts";

const RUNTIME_DIR = join(SOURCE_ROOT, "runtimes/js");

/** The folder of generated files in the runtime's (ignored by git through its own .gitignore). */
export const SNAPSHOT_DIR_NAME = ".snapshot";
export const SNAPSHOT_ROOT = join(RUNTIME_DIR, SNAPSHOT_DIR_NAME);

/** What decides a blob's contents besides the node binary and the heap size: the harness, how it is bundled, the packages. */
const FINGERPRINTED = [
  "harness",
  join("snapshot", "build.ts"),
  join("snapshot", "spans.ts"),
  // Where the blob's paths point (the runtime's place inside a sandbox).
  join("snapshot", "layout.ts"),
  "package.json",
  "package-lock.json",
  join("node_modules", ".graphbox-installed"),
].map((name) => join(RUNTIME_DIR, name));

export interface SnapshotStamp {
  /** process.execPath of the node that built the blob. */
  node: string;
  /** process.version of that node. */
  version: string;
  heapMb: number;
  /** sha256 of the runtime's folder and files (see FINGERPRINTED). */
  runtime: string;
}

export interface SnapshotFiles {
  dir: string;
  /** The one CommonJS file the blob was built from (kept for reading; the blob holds its code). */
  bundle: string;
  /** Where the harness's own code is in the bundle (read into the blob when it is built). */
  harnessSpans: string;
  blob: string;
  stamp: string;
}

export function snapshotFiles(heapMb: number): SnapshotFiles {
  const dir = join(SNAPSHOT_ROOT, `heap-${heapMb}`);
  return {
    dir,
    bundle: join(dir, "harness.cjs"),
    harnessSpans: join(dir, "harness-spans.json"),
    blob: join(dir, "harness.blob"),
    stamp: join(dir, "stamp.json"),
  };
}

/** The node flags of both the build and every start: V8 refuses a blob made under other V8 flags. */
export function snapshotNodeFlags(heapMb: number): string[] {
  return [`--max-old-space-size=${heapMb}`, "--no-addons"];
}

/** The files under FINGERPRINTED, in a stable order (a missing one is listed, and read as missing). */
function fingerprintedFiles(): string[] {
  const files: string[] = [];
  const add = (path: string): void => {
    let entries;
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      files.push(path); // a file, or missing
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) add(join(path, entry.name));
  };
  for (const path of FINGERPRINTED) add(path);
  return files;
}

/** The stamp a blob built now, by this node, for this heap size would carry. */
export function currentStamp(heapMb: number): SnapshotStamp {
  const hash = createHash("sha256").update(`${RUNTIME_DIR}\0`);
  for (const file of fingerprintedFiles()) {
    hash.update(`${file}\0`);
    hash.update(existsSync(file) ? readFileSync(file) : "\0missing");
    hash.update("\0");
  }
  return { node: process.execPath, version: process.version, heapMb, runtime: hash.digest("hex") };
}

/** Why the blob for `heapMb` may not be used, or null when it may. */
export function snapshotProblem(heapMb: number): string | null {
  const files = snapshotFiles(heapMb);
  if (!existsSync(files.stamp) || !existsSync(files.blob)) return "no snapshot has been built for this heap size";
  let stamp: Partial<SnapshotStamp>;
  try {
    stamp = JSON.parse(readFileSync(files.stamp, "utf8")) as Partial<SnapshotStamp>;
  } catch {
    return "its stamp is unreadable";
  }
  const want = currentStamp(heapMb);
  if (stamp.node !== want.node || stamp.version !== want.version)
    return `it was built by another node (${String(stamp.node)} ${String(stamp.version)})`;
  if (stamp.heapMb !== want.heapMb) return "it was built for another heap size";
  if (stamp.runtime !== want.runtime) return "the runtime's files changed since it was built";
  return null;
}

/** Size and mtime of the fingerprinted files, the stamp and the blob: cheap to take (stat calls only). */
function quickFingerprint(files: SnapshotFiles): string {
  return [...fingerprintedFiles(), files.stamp, files.blob]
    .map((file) => {
      try {
        const s = statSync(file);
        return `${file}:${s.size}:${s.mtimeMs}`;
      } catch {
        return `${file}:-`;
      }
    })
    .join("\n");
}

const decided = new Map<number, { fingerprint: string; blob: string | null }>();

/**
 * The blob to start the harness from for this heap size, or null (start from main.mjs). The full
 * check hashes the runtime's files; it is redone only when one of them, the stamp or the blob
 * changes size or mtime, so an edited harness is never started from a blob that holds the old one.
 */
export function usableSnapshot(heapMb: number): string | null {
  const files = snapshotFiles(heapMb);
  const fingerprint = quickFingerprint(files);
  let decision = decided.get(heapMb);
  if (decision?.fingerprint !== fingerprint) {
    decision = { fingerprint, blob: snapshotProblem(heapMb) === null ? files.blob : null };
    decided.set(heapMb, decision);
  }
  return decision.blob;
}
