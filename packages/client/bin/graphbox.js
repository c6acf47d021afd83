#!/usr/bin/env node
// The CLI, compiled to dist/ by the package's build (the repository's setup runs it).
const cli = await import("../dist/cli/main.js").catch((err) => {
  console.error(`graphbox: the CLI is not built (${err.message}); run \`npm run setup\` in the repository`);
  process.exit(2);
});
process.exitCode = await cli.main(process.argv.slice(2));
