/**
 * The README's "## Configuration" section, written from the declarations: `node --import tsx
 * scripts/readme-config.ts` rewrites it, test/config.test.ts fails when it is out of step.
 */
import { optionsOf } from "./declare.ts";
import { OPTIONS } from "./options.ts";

const HEADING = "## Configuration";

export function configurationSection(): string {
  const rows = optionsOf(OPTIONS).map((o) => `| \`${o.env}\` | ${o.shownDefault} | ${o.kind.accepts} | ${o.doc} |`);
  return [
    HEADING,
    "",
    "Read from the environment once at start; every problem is reported at once, by the variable's name.",
    "Declared in `src/config/options.ts`; this table is written from there by `node --import tsx scripts/readme-config.ts`.",
    "",
    "| variable | default | accepts | meaning |",
    "|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

/** Where the section is in `readme`: from its heading to the next `## ` heading (or the end). */
function sectionBounds(readme: string): { start: number; end: number } {
  const start = readme.indexOf(`\n${HEADING}\n`) + 1;
  if (start === 0) throw new Error(`the README has no "${HEADING}" heading`);
  const next = readme.indexOf("\n## ", start);
  return { start, end: next < 0 ? readme.length : next + 1 };
}

/** The README's configuration section as it stands. */
export function readmeConfigurationSection(readme: string): string {
  const { start, end } = sectionBounds(readme);
  return readme.slice(start, end).replace(/\n+$/, "\n");
}

/** `readme` with its configuration section written from the declarations. */
export function withConfigurationSection(readme: string): string {
  const { start, end } = sectionBounds(readme);
  return `${readme.slice(0, start)}${configurationSection()}${end < readme.length ? "\n" : ""}${readme.slice(end)}`;
}
