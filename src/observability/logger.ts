/** The engine's pino logger: JSON lines, auth headers redacted, configured secrets scrubbed from every line. */
import pino, { type Logger } from "pino";

import type { Config } from "../config/index.ts";

export function createLogger(config: Readonly<Config>, destination?: pino.DestinationStream): Logger {
  const secrets = [config.openai.apiKey, config.anthropic.apiKey, ...Object.values(config.apiKeys)].filter(
    (s): s is string => !!s && s.length >= 8,
  );
  return pino(
    {
      level: config.logLevel,
      redact: {
        paths: [
          "req.headers.authorization",
          'req.headers["x-api-key"]',
          "headers.authorization",
          'headers["x-api-key"]',
        ],
        censor: "[REDACTED]",
      },
      hooks: {
        // A key can reach a log line inside any message (an upstream error quoting it, say): scrub them all.
        streamWrite: (line) => secrets.reduce((text, secret) => text.split(secret).join("[REDACTED]"), line),
      },
    },
    destination,
  );
}
