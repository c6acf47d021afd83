// Bundles the page into dist/: index.html, one JS file and one CSS file, their names hashed so that
// the engine can serve them as immutable. Everything comes from node_modules: no CDN, no web fonts.
// Skipped when dist/ is newer than every source (setup runs this on each start).
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const out = join(root, "dist");
const stamp = join(out, ".built");
const quiet = process.argv.includes("--quiet");

/** Newest modification time among the page's sources and its own build inputs. */
function newestSource() {
  let newest = 0;
  const visit = (path) => {
    const info = statSync(path);
    newest = Math.max(newest, info.mtimeMs);
    if (info.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  // The client is bundled in from its compiled dist/ (scripts/build.sh builds it first).
  for (const path of ["src", "build.mjs", "package.json", "../../package-lock.json", "../client/dist"])
    visit(join(root, path));
  return newest;
}

let built = 0;
try {
  built = statSync(stamp).mtimeMs;
} catch {
  // Never built.
}
if (built > newestSource() && !process.argv.includes("--force")) process.exit(0);

// Stamped with the time the build started: a source saved during the build is newer, and rebuilt next time.
const startedAt = new Date();
const tmp = `${out}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
// Loaded only when there is something to build: `npm start` passes here on every start.
const { build } = await import("esbuild");
const result = await build({
  entryPoints: { app: join(root, "src/main.tsx") },
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  outdir: tmp,
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  // Only files the page carries itself; a url() to anything else fails the build.
  loader: { ".svg": "file", ".woff2": "file", ".png": "file" },
  define: { "process.env.NODE_ENV": '"production"' },
  metafile: true,
  sourcemap: false,
  legalComments: "linked",
  logLevel: "warning",
});
const outputs = Object.keys(result.metafile.outputs).map((path) => path.slice(path.lastIndexOf("/") + 1));
const script = outputs.find((name) => /^app-.*\.js$/.test(name));
const style = outputs.find((name) => /^app-.*\.css$/.test(name));
if (!script || !style) throw new Error(`esbuild wrote ${outputs.join(", ")}: no app-*.js and app-*.css`);
const page = readFileSync(join(root, "src/index.html"), "utf8").replace("%SCRIPT%", script).replace("%STYLE%", style);
writeFileSync(join(tmp, "index.html"), page);
const digest = createHash("sha256").update(page).digest("hex").slice(0, 12);
writeFileSync(join(tmp, ".built"), `${digest}\n`);
utimesSync(join(tmp, ".built"), startedAt, startedAt);
// Swapped in whole: an engine serving the page never sees half a build.
const old = `${out}.old-${process.pid}`;
try {
  renameSync(out, old);
} catch {
  // No previous build.
}
renameSync(tmp, out);
rmSync(old, { recursive: true, force: true });
if (!quiet) console.log(`playground: built ${outputs.join(", ")}, index.html in packages/playground/dist`);
