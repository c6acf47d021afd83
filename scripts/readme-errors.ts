/** Rewrites the README's "## Errors" table from the catalogue in src/contract/errors.ts: `node --import tsx scripts/readme-errors.ts`. */
import { ERRORS } from "../src/contract/errors.ts";
import { readFileSync, writeFileSync } from "node:fs";
const rows = Object.entries(ERRORS)
  .map(([code, e]) => `| \`${code}\` | ${e.status} | \`${e.errorType}\` | ${e.doc} |`)
  .join("\n");
const table = `## Errors\n\nEvery error answers \`{"status": "error", "error": "<what went wrong, naming the field or limit>", "error_type", "code"}\`;\nprogram failures (HTTP 200) add \`node\`, \`traceback\`, \`execution_id\` and \`metadata\`. The catalogue is \`src/contract/errors.ts\`.\n\n| code | HTTP | error_type | meaning |\n|---|---|---|---|\n${rows}\n`;
const p = new URL("../README.md", import.meta.url).pathname;
const s = readFileSync(p, "utf8");
const start = s.indexOf("## Errors");
const rest = s.slice(start + 1);
const nextHeading = rest.search(/\n## /);
const end = nextHeading < 0 ? s.length : start + 1 + nextHeading + 1;
writeFileSync(p, s.slice(0, start) + table + (nextHeading < 0 ? "" : "\n" + s.slice(end)));
