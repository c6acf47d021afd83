/** Process entry: load config, build the app, listen, stop cleanly on signals. */
import { ConfigError, loadConfig } from "./config/index.ts";
import { buildApp } from "./app.ts";
import { createLogger } from "./observability/logger.ts";
import { SandboxUnavailableError } from "./sandbox/launcher.ts";
import { StoreError } from "./store/index.ts";

function loadOrExit() {
  try {
    return loadConfig();
  } catch (err: unknown) {
    if (err instanceof ConfigError) {
      process.stderr.write(`graphbox: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

const config = loadOrExit();
const logger = createLogger(config);
const app = await buildApp(config, { logger }).catch((err: unknown) => {
  // The database cannot be used (unreachable, login refused, a newer schema): say so and stop.
  if (err instanceof StoreError) {
    logger.fatal({ code: err.code }, err.message);
    process.exit(1);
  }
  throw err;
});
const { server } = app;

// The last line, not the defence: every promise that touches an execution's data is awaited or
// caught where it is made. Should one still escape, it is logged and counted, and the engine
// keeps serving every other execution instead of exiting.
process.on("unhandledRejection", (err: unknown) => app.engine.observers.engineFault("unhandled_rejection", err));
process.on("uncaughtException", (err: unknown) => app.engine.observers.engineFault("uncaught_exception", err));

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) {
    // A second signal: stop at once (the harnesses die with the engine: PDEATHSIG / --die-with-parent).
    logger.warn({ signal }, "second signal: stopping now");
    process.exit(1);
  }
  stopping = true;
  logger.info(
    { signal, grace_ms: config.shutdownGraceMs },
    "stopping: new requests get 503, running executions may finish",
  );
  void app.shutdown(config.shutdownGraceMs).then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, "shutdown failed");
      process.exit(1);
    },
  );
};
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));

try {
  await server.listen({ host: config.host, port: config.port });
} catch (err: unknown) {
  if (!(err instanceof SandboxUnavailableError)) throw err;
  logger.fatal(err.message);
  process.exit(2);
}
const address = server.server.address();
await app.engine.listening(typeof address === "object" && address ? address.port : config.port);
const sandbox = await app.engine.supply.protections();
if (sandbox.mode === "none")
  logger.warn(
    { problems: sandbox.problems },
    "GRAPHBOX_UNSAFE_NO_SANDBOX=1: programs run with NO ISOLATION (plain child processes); for local development only",
  );
else if (!sandbox.limits.enforced_by_cgroup)
  logger.warn(
    { cgroups: sandbox.checks.find((c) => c.name === "cgroups")?.detail },
    "no usable cgroup: memory and process limits are NOT enforced (see `npm run doctor`)",
  );
if (Object.keys(config.apiKeys).length === 0) {
  logger.warn(
    { host: config.host },
    "no API keys configured (GRAPHBOX_API_KEYS): every request is accepted without authentication; the engine stays on loopback unless GRAPHBOX_ALLOW_UNAUTHENTICATED_PUBLIC=1",
  );
}
logger.info(
  { host: config.host, port: config.port, api_keys: Object.keys(config.apiKeys).length },
  "graphbox engine listening",
);
