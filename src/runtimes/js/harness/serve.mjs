// @ts-check
// One harness process's life: load the runtime, say ready, run exactly one job, exit. Shared by
// both ways the engine starts the harness: main.mjs (imports the packages from disk) and
// snapshot.mjs (restores them from a startup snapshot).
import { readFileSync } from "node:fs";

import { startBridge } from "./bridge.mjs";
import { useEgressProxy } from "./egress.mjs";
import { Channel } from "./channel.mjs";
import { describe, programTraceback } from "./errors.mjs";
import { serveTiktokenRanksLocally } from "./offline.mjs";
import { warmTranspiler } from "./transpile.mjs";

/**
 * @typedef {{ tracker?: import("./tracker.mjs").NodeTracker }} Progress
 * @typedef {() => Promise<typeof import("./runner.mjs")>} LoadRuntime
 */

const PACKAGES = [
  "@langchain/langgraph",
  "@langchain/core",
  "@langchain/openai",
  "@langchain/anthropic",
  "langchain",
  "esbuild",
  "zod",
];

const realExit = process.exit.bind(process);

/** process.exit() in a program is its error (as sys.exit() is in Python), not a lost result. */
class ProcessExit extends Error {
  name = "ProcessExit";
}

function versions() {
  /** @type {Record<string, string>} */
  const out = { node: process.versions.node };
  for (const name of PACKAGES) {
    const file = new URL(`../node_modules/${name}/package.json`, import.meta.url);
    out[name] = JSON.parse(readFileSync(file, "utf8")).version;
  }
  return out;
}

/**
 * The program's prints are written before its next line runs, as Python's are (`-u`). Node writes
 * to a pipe without blocking and keeps in memory what the pipe cannot take at once; the harness
 * exits right after its result, so whatever was still queued then was lost, uncounted (of 200,000
 * `console.log` lines printed before a node returned, ~22 KB reached the engine). A blocking write
 * costs the program only the time the engine takes to read it (the engine reads all of it,
 * keeping GRAPHBOX_MAX_LOG_BYTES and counting the rest), and keeps a flood out of the harness's
 * memory. Files are written synchronously already; other handles have no `setBlocking`.
 */
function blockingPrints() {
  for (const stream of [process.stdout, process.stderr]) {
    /** @type {{ _handle?: { setBlocking?: (blocking: boolean) => void } }} */ (
      /** @type {unknown} */ (stream)
    )._handle?.setBlocking?.(true);
  }
}

/**
 * @param {Channel} channel
 * @param {Progress} progress
 */
function guardProcess(channel, progress) {
  process.exit = function exit(code) {
    throw new ProcessExit(`process.exit(${code ?? ""}) was called`);
  };
  // An exception nothing can catch (thrown from a timer, say) ends the execution as the program's error.
  process.on("uncaughtException", (err) => {
    channel.send("error", {
      error_type: "program_error",
      error: describe(err),
      node: progress.tracker?.blame() ?? null,
      traceback: programTraceback(err),
    });
    realExit(0);
  });
  // Node exits when nothing is left to wait for: a graph still waiting then awaits a promise that
  // can never settle (a Python program in that state would hang until its timeout instead).
  process.once("beforeExit", () => {
    const error = "the program is waiting for a promise that can never settle: nothing is left that could resolve it";
    channel.send("error", {
      error_type: "program_error",
      error,
      node: progress.tracker?.blame() ?? null,
      traceback: "",
    });
    realExit(0);
  });
  // A rejected promise nobody awaited is reported in the program's logs, as Python prints a failed thread.
  process.on("unhandledRejection", (reason) => {
    process.stderr.write(`Unhandled promise rejection: ${describe(reason)}\n`);
  });
}

/** @param {LoadRuntime} loadRuntime */
async function session(loadRuntime) {
  blockingPrints();
  const channel = new Channel();
  serveTiktokenRanksLocally();
  // LangGraph, the LLM clients and esbuild are loaded before the job arrives, as the Python harness
  // does (from a snapshot, openai's client is evaluated at the program's import: see snapshot.mjs).
  const { run } = await loadRuntime();
  await warmTranspiler();
  const { GRAPHBOX_GATEWAY_SOCKET: gatewaySocket, GRAPHBOX_GATEWAY_PORT: gatewayPort } = process.env;
  if (gatewaySocket && gatewayPort) {
    // The sandbox has no network: the LLM clients' HTTP to 127.0.0.1:<port> goes to the gateway's socket.
    await startBridge(gatewaySocket, Number(gatewayPort));
  }
  channel.send("ready", { runtime: "js", versions: versions() });
  // After `ready` the engine's one message is the job.
  const job = /** @type {import("./types.js").JobMessage} */ (channel.receive());
  // The execution's own variables (its gateway credential) arrive with the job: a sandbox started
  // ahead of its request never held them while it waited.
  for (const [name, value] of Object.entries(job.env ?? {})) process.env[name] = String(value);
  useEgressProxy();
  /** @type {Progress} */
  const progress = {};
  guardProcess(channel, progress);
  await run(job, channel, progress);
  // Exit now: the program's leftover timers and sockets must not keep the process (or its result) waiting.
  realExit(0);
}

/**
 * Runs this process's one session. `loadRuntime` sets the module host (modules.mjs), loads
 * LangGraph and the LLM clients, and resolves to runner.mjs's exports.
 * @param {LoadRuntime} loadRuntime
 */
export function serve(loadRuntime) {
  // Deep enough to reach the program's frame under LangGraph's own when a node throws.
  Error.stackTraceLimit = 50;
  return session(loadRuntime).catch((err) => {
    // The harness itself failed: the engine sees the exit code and the logs carry this line.
    process.stderr.write(`graphbox js harness: ${describe(err)}\n`);
    realExit(70);
  });
}
