// @ts-check
// Entry point without a startup snapshot: import the runtime from disk, then serve one job.
// Started by the engine as `node <flags> harness/main.mjs` with the execution's work dir as cwd,
// when no usable snapshot exists (see ../launch.ts and snapshot.mjs).
import * as esbuild from "esbuild";

import { importModule, resolveModule } from "./host.mjs";
import { useModuleHost } from "./modules.mjs";
import { refuseUnservedProviders } from "./providers.mjs";
import { serve } from "./serve.mjs";

/**
 * Loaded one after another, shared dependencies first: Node's ES module loader opens every file
 * of a module graph at once, and the sandbox allows 256 open files. Measured peaks: these three
 * packages at once ~256 (EMFILE now and then), one after another ~150, in this order ~110.
 */
const PRELOAD = ["zod", "@langchain/core/messages", "./runner.mjs", "@langchain/openai", "@langchain/anthropic"];

serve(async () => {
  useModuleHost({ importModule, resolveModule, esbuild });
  for (const specifier of PRELOAD) await import(specifier);
  // ~7 ms: the rest of langchain, and the LangGraph add-ons, load when a program imports them.
  refuseUnservedProviders(await import("langchain/chat_models/universal"));
  return import("./runner.mjs");
});
