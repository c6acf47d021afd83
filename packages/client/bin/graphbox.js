#!/usr/bin/env node
// The CLI, compiled to dist/ by the package's build (the repository's setup runs it).
import { main } from "../dist/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
