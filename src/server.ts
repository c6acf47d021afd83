/** Process entry: load config, build the app, listen, stop cleanly on signals. */
import pino from "pino";

import { ConfigError, loadConfig } from "./config/index.ts";
import { buildApp } from "./http/app.ts";

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
const logger = pino({ level: config.logLevel, redact: ["req.headers.authorization", "req.headers[\"x-api-key\"]"] });
const { server } = await buildApp(config, { logger });

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) process.exit(1);
  stopping = true;
  logger.info({ signal }, "stopping: letting running executions finish");
  void server.close().then(() => process.exit(0));
};
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));

await server.listen({ host: config.host, port: config.port });
logger.info({ host: config.host, port: config.port }, "graphbox engine listening");
