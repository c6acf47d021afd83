/**
 * Builds the JavaScript runtime's startup snapshot for the engine's heap size, unless the one
 * there is still usable (see src/runtimes/js/snapshot/stamp.ts). Run by scripts/setup.sh.
 *
 *   node --import tsx scripts/js-snapshot.ts [--heap-mb 512] [--force] [--quiet] [--strict]
 *
 * The heap size defaults to the engine's (GRAPHBOX_SANDBOX_MEMORY_MB, 512): V8 accepts a blob only
 * under the heap flag it was built with. A failed build is reported and leaves the engine starting
 * the harness without a snapshot (slower to start, otherwise the same): this exits 0 all the same,
 * so that setup goes on; --strict exits 1 instead.
 */
import { parseArgs } from "node:util";

import { loadConfig } from "../src/config/index.ts";
import { jsRuntimeInstalled } from "../src/runtimes/js/launch.ts";
import { buildSnapshot } from "../src/runtimes/js/snapshot/build.ts";
import { snapshotProblem } from "../src/runtimes/js/snapshot/stamp.ts";

const { values: args } = parseArgs({
  options: {
    "heap-mb": { type: "string" },
    force: { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
    strict: { type: "boolean", default: false },
  },
});

function engineHeapMb(): number {
  try {
    return loadConfig(process.env).sandbox.memoryBytes / (1024 * 1024);
  } catch {
    return 512; // the engine will refuse this configuration and say why; build for the default
  }
}

const heapMb = args["heap-mb"] ? Number(args["heap-mb"]) : engineHeapMb();
const say = (text: string): void => {
  if (!args.quiet) console.log(`js-snapshot: ${text}`);
};

if (!Number.isInteger(heapMb) || heapMb < 64) {
  console.error(`js-snapshot: --heap-mb must be a whole number of MiB, at least 64 (got ${String(args["heap-mb"])})`);
  process.exit(2);
}
if (!jsRuntimeInstalled()) {
  say("the JavaScript runtime is not installed; nothing to build");
  process.exit(0);
}
const problem = snapshotProblem(heapMb);
if (problem === null && !args.force) {
  say(`the snapshot for a ${heapMb} MiB heap is up to date`);
  process.exit(0);
}
say(`building the snapshot for a ${heapMb} MiB heap (${problem ?? "forced"})`);
try {
  const report = await buildSnapshot(heapMb);
  const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  say(
    `built in ${(report.buildMs / 1000).toFixed(1)} s: ${report.packages} entry points, bundle ${mb(report.bundleBytes)}, blob ${mb(report.blobBytes)}`,
  );
} catch (err: unknown) {
  console.error(
    `js-snapshot: no snapshot (JavaScript executions will start without one): ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(args.strict ? 1 : 0);
}
