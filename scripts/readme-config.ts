/** Rewrites the README's "## Configuration" table from the declarations in src/config/options.ts: `node --import tsx scripts/readme-config.ts`. */
import { readFileSync, writeFileSync } from "node:fs";

import { withConfigurationSection } from "../src/config/readme.ts";

const readme = new URL("../README.md", import.meta.url);
writeFileSync(readme, withConfigurationSection(readFileSync(readme, "utf8")));
