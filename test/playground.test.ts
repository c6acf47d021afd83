/**
 * The playground page in a real browser (Debian's chromium, driven by playwright-core) against the
 * engine as `npm start` runs it (dist/server.js, API keys on, an LLM stand-in behind its gateway).
 * Each scenario watches the page's stable hooks (data-testid, data-node-id, data-state,
 * data-checkpoint-id) and saves a screenshot into test-results/playground/.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { chromium, type Browser, type Page } from "playwright-core";

import { PROJECT_ROOT } from "../src/contract/paths.ts";
import { corpus, programSource } from "./support/corpus.ts";
import { startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";
import { randomPort, startEngineProcess, type EngineProcess } from "./support/process.ts";

const CHROMIUM = process.env.GRAPHBOX_CHROMIUM ?? "/usr/bin/chromium";
const SHOTS = join(PROJECT_ROOT, "test-results", "playground");
const KEY = "playground-test-key-0123456789";

let llm: LlmStandIn;
let engine: EngineProcess;
let dataDir: string;
let browser: Browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: apt-get install chromium (or set GRAPHBOX_CHROMIUM)`);
  mkdirSync(SHOTS, { recursive: true });
  llm = await startLlmStandIn({ chunkDelayMs: 20 });
  dataDir = mkdtempSync(join(tmpdir(), "graphbox-playground-"));
  engine = startEngineProcess(dataDir, randomPort(), {
    GRAPHBOX_API_KEYS: `tester=${KEY}`,
    OPENAI_BASE_URL: llm.openaiBaseUrl,
    OPENAI_API_KEY: "sk-test-engine-openai-key",
  });
  await engine.ready;
  // As root (CI), chromium's own sandbox cannot start: the page is the project's own.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
});

after(async () => {
  await browser?.close();
  engine?.child.kill("SIGKILL");
  await llm?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A fresh page on the playground with the API key typed in, the default program's graph drawn. */
async function openPlayground(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(err.message));
  await page.goto(`${engine.url}/playground`);
  await page.getByTestId("api-key").fill(KEY);
  await page.locator('[data-node-id="classify"]').waitFor();
  assert.deepEqual(problems, []);
  return page;
}

/** Replaces the editor's program (CodeMirror takes the text as one input, with no auto-indent). */
async function setProgram(page: Page, options: { code: string; language: string; inputs: unknown }): Promise<void> {
  await page.getByTestId("language").selectOption(options.language);
  await page.locator('[data-testid="code"] .cm-content').click();
  await page.keyboard.press("Control+A");
  await page.keyboard.insertText(options.code);
  await page.getByTestId("inputs").fill(JSON.stringify(options.inputs));
}

/** Waits for the graph the engine draws for the program now in the editor (it has `node`). */
const graphHas = (page: Page, node: string) => page.locator(`[data-testid="graph"] [data-node-id="${node}"]`).waitFor();

/** Every change of a node's data-state from now on, in order, as `node:state`. */
async function recordStates(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    // Several changes can land before the observer runs: each record's new value is the next
    // record's old value for that element (or its value now), never read late.
    const records: { element: Element; old: string | null }[] = [];
    (window as unknown as { graphboxStates: typeof records }).graphboxStates = records;
    new MutationObserver((mutations) => {
      for (const m of mutations) records.push({ element: m.target as Element, old: m.oldValue });
    }).observe(document.querySelector('[data-testid="graph"]')!, {
      subtree: true,
      attributes: true,
      attributeOldValue: true,
      attributeFilter: ["data-state"],
    });
  });
  return () =>
    page.evaluate(() => {
      const records = (window as unknown as { graphboxStates: { element: Element; old: string | null }[] })
        .graphboxStates;
      return records.map(({ element }, index) => {
        const next = records.slice(index + 1).find((r) => r.element === element);
        return `${element.getAttribute("data-node-id")}:${next ? next.old : element.getAttribute("data-state")}`;
      });
    });
}

async function waitForStatus(page: Page, status: string): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const text = document.querySelector('[data-testid="status"]')?.textContent;
      return text !== "running" && text !== "idle" ? text === want || `got ${text}` : false;
    },
    status,
    { timeout: 30_000 },
  );
  assert.equal(await page.getByTestId("status").textContent(), status);
}

const stateOf = (page: Page, node: string) =>
  page.locator(`[data-testid="graph"] [data-node-id="${node}"]`).getAttribute("data-state");

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

/** The final state as the Result tab shows it. */
async function resultState(page: Page): Promise<Record<string, unknown>> {
  await page.getByTestId("tab-result").click();
  const text = await page.getByTestId("result").locator("pre").textContent();
  return (JSON.parse(text ?? "null") as { state: Record<string, unknown> }).state;
}

const order = (states: string[], ...wanted: string[]): void => {
  let from = 0;
  for (const want of wanted) {
    const at = states.indexOf(want, from);
    assert.ok(
      at >= 0,
      `${want} not seen after ${wanted.slice(0, wanted.indexOf(want)).join(", ")}: ${states.join(" ")}`,
    );
    from = at + 1;
  }
};

test("the page is public, its API calls carry the key typed into it, and it draws the engine's graph", async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  // Works offline: nothing the page loads or calls comes from anywhere but the engine.
  const elsewhere: string[] = [];
  page.on("request", (request) => {
    if (!request.url().startsWith(`${engine.url}/`) && !request.url().startsWith("data:"))
      elsewhere.push(request.url());
  });
  try {
    await page.goto(`${engine.url}/playground`);
    // No key yet: the page loaded, the engine refused its API call, and the page says why.
    await page.locator(".graph-empty").filter({ hasText: "401" }).waitFor();
    await page.getByTestId("api-key").fill(KEY);
    await graphHas(page, "classify");
    const ids = () => page.locator("[data-node-id]").evaluateAll((e) => e.map((n) => n.getAttribute("data-node-id")));
    assert.deepEqual((await ids()).sort(), ["__end__", "__start__", "acknowledge", "answer", "classify", "finish"]);
    const states = await page.locator("[data-node-id]").evaluateAll((e) => e.map((n) => n.getAttribute("data-state")));
    assert.ok(
      states.every((state) => state === "idle"),
      states.join(" "),
    );
    // classify's two ways out are conditional: drawn dashed.
    assert.equal(await page.locator(".react-flow__edge.gedge-conditional").count(), 2);
    assert.equal(await page.getByTestId("status").textContent(), "idle");

    // Another program: the page shows what the engine draws for it.
    const loop = programSource("python/04_loop.py");
    await setProgram(page, { code: loop, language: "python", inputs: { n: 0 } });
    await graphHas(page, "step");
    const drawing = (await (
      await fetch(`${engine.url}/execute-langgraph/graph`, {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ code: loop, language: "python" }),
      })
    ).json()) as { graph: { nodes: { id: string }[]; edges: { conditional: boolean }[] } };
    assert.deepEqual((await ids()).sort(), drawing.graph.nodes.map((n) => n.id).sort());
    assert.equal(
      await page.locator(".react-flow__edge.gedge-conditional").count(),
      drawing.graph.edges.filter((e) => e.conditional).length,
    );
    // The key stays in the browser for the next visit.
    await page.reload();
    assert.equal(await page.getByTestId("api-key").inputValue(), KEY);
    assert.deepEqual(elsewhere, []);
  } finally {
    await page.close();
  }
});

test("the corpus echo runs: greet then shout light up in order, and the answer and the timeline show", async () => {
  const page = await openPlayground();
  try {
    const echo = corpus.find((c) => c.name === "echo")!;
    await setProgram(page, { code: programSource("python/01_echo.py"), language: "python", inputs: echo.inputs });
    await graphHas(page, "shout");
    const states = await recordStates(page);
    await page.getByTestId("run").click();
    await waitForStatus(page, "success");
    order(await states(), "greet:running", "greet:done", "shout:running", "shout:done", "__end__:done");
    assert.equal(await stateOf(page, "greet"), "done");
    assert.equal(await stateOf(page, "shout"), "done");
    const timeline = page.getByTestId("timeline");
    assert.deepEqual(
      await timeline.locator('[data-kind="node"]').evaluateAll((e) => e.map((n) => n.getAttribute("data-node"))),
      ["greet", "shout"],
    );
    assert.match((await timeline.locator('[data-node="greet"] .tl-duration').textContent()) ?? "", /\d ms$/);
    assert.match((await timeline.getByTestId("totals").textContent()) ?? "", /greet → shout/);
    const state = await resultState(page);
    assert.equal(state.count, 2);
    const messages = state.messages as { content: string }[];
    assert.equal(messages[messages.length - 1]?.content, "ECHO: HELLO");
  } finally {
    await page.close();
  }
});

test("a branching program: the slow node is seen running mid-run, the branch not taken stays idle", async () => {
  const page = await openPlayground();
  try {
    const states = await recordStates(page);
    await page.getByTestId("run").click();
    // `answer` sleeps a second: caught lit while it runs, after classify is done.
    await page.locator('[data-node-id="answer"][data-state="running"]').waitFor();
    assert.equal(await stateOf(page, "classify"), "done");
    assert.equal(await stateOf(page, "finish"), "idle");
    assert.equal(await page.getByTestId("status").textContent(), "running");
    await shot(page, "1-graph-lit-mid-run");
    await waitForStatus(page, "success");
    order(
      await states(),
      "classify:running",
      "classify:done",
      "answer:running",
      "answer:done",
      "finish:running",
      "finish:done",
    );
    assert.ok(!(await states()).some((s) => s.startsWith("acknowledge:")), "the branch not taken lit up");
    assert.equal(await stateOf(page, "acknowledge"), "idle");
    assert.equal((await resultState(page)).answer, "You asked: What is LangGraph? (done)");
    await page.getByTestId("tab-timeline").click();
    await shot(page, "2-finished-run-timeline");
  } finally {
    await page.close();
  }
});

test("an LLM call streams its text into the timeline, with custom events, logs and tokens per model", async () => {
  const page = await openPlayground();
  try {
    await page.getByTestId("example").selectOption({ label: "LLM streaming, custom events, logs (Python)" });
    await graphHas(page, "plan");
    await page.getByTestId("run").click();
    await waitForStatus(page, "success");
    const timeline = page.getByTestId("timeline");
    assert.match(
      (await timeline.locator('[data-kind="llm"]').textContent()) ?? "",
      /Hello from the stand-in! You said: Say hello!/,
    );
    assert.match((await timeline.locator('[data-kind="custom"]').textContent()) ?? "", /planning the answer/);
    assert.match((await timeline.locator('[data-kind="logs"]').textContent()) ?? "", /plan: asking the model/);
    const totals = (await timeline.getByTestId("totals").textContent()) ?? "";
    assert.match(totals, new RegExp(`${llm.totalTokens()} tokens`));
    assert.match(totals, /gpt-4o-mini/);
    assert.match((await timeline.locator('[data-node="write"] .tl-tokens').textContent()) ?? "", /\d+ tokens/);
    await shot(page, "3-llm-run-timeline");
  } finally {
    await page.close();
  }
});

test("a breakpoint pauses before a node; Continue runs the rest on the same thread", async () => {
  const page = await openPlayground();
  try {
    await setProgram(page, {
      code: programSource("python/01_echo.py"),
      language: "python",
      inputs: { messages: [{ role: "user", content: "Hello" }] },
    });
    await page.getByTestId("interrupt-before").fill("shout");
    await graphHas(page, "shout");
    await page.getByTestId("run").click();
    await waitForStatus(page, "interrupted");
    assert.equal(await stateOf(page, "greet"), "done");
    assert.equal(await stateOf(page, "shout"), "interrupted");
    const form = page.getByTestId("resume");
    assert.match((await form.textContent()) ?? "", /breakpoint.*next: shout/);
    await shot(page, "4-breakpoint-resume-form");
    const states = await recordStates(page);
    await form.getByTestId("resume-submit").click();
    await waitForStatus(page, "success");
    order(await states(), "shout:running", "shout:done");
    assert.ok(!(await states()).includes("greet:running"), "greet ran again");
    const messages = (await resultState(page)).messages as { content: string }[];
    assert.equal(messages[messages.length - 1]?.content, "ECHO: HELLO");
  } finally {
    await page.close();
  }
});

test("an interrupt() is answered from the form and the run resumes with that value", async () => {
  const page = await openPlayground();
  try {
    await setProgram(page, {
      code: programSource("python/05_interrupt.py"),
      language: "python",
      inputs: { messages: [{ role: "user", content: "Plan the launch" }] },
    });
    await graphHas(page, "review");
    await page.getByTestId("run").click();
    await waitForStatus(page, "interrupted");
    assert.equal(await stateOf(page, "review"), "interrupted");
    const form = page.getByTestId("resume");
    assert.match((await form.textContent()) ?? "", /Approve the draft\?/);
    await form.getByTestId("resume-value").fill("yes");
    await shot(page, "5-interrupt-resume-form");
    await form.getByTestId("resume-submit").click();
    await waitForStatus(page, "success");
    assert.equal(await stateOf(page, "publish"), "done");
    const state = await resultState(page);
    assert.equal(state.approved, true);
    const messages = state.messages as { content: string }[];
    assert.equal(messages[messages.length - 1]?.content, "Published");
  } finally {
    await page.close();
  }
});

test("the thread's history lists its checkpoints; Run from here forks from the one chosen", async () => {
  const page = await openPlayground();
  try {
    await setProgram(page, {
      code: programSource("python/01_echo.py"),
      language: "python",
      inputs: { messages: [{ role: "user", content: "Hello" }] },
    });
    const threadId = `fork-${Date.now()}`;
    await page.getByTestId("thread-id").fill(threadId);
    await graphHas(page, "shout");
    await page.getByTestId("run").click();
    await waitForStatus(page, "success");
    await page.getByTestId("tab-history").click();
    const history = page.getByTestId("history");
    const listed = () =>
      history.locator("[data-checkpoint-id]").evaluateAll((e) => e.map((n) => n.getAttribute("data-checkpoint-id")));
    const fromApi = async () =>
      (
        (await (
          await fetch(`${engine.url}/threads/${threadId}/history`, { headers: { authorization: `Bearer ${KEY}` } })
        ).json()) as { checkpoints: { checkpoint_id: string; parent_checkpoint_id: string | null; step: number }[] }
      ).checkpoints;
    const before = await fromApi();
    assert.deepEqual(
      await listed(),
      before.map((c) => c.checkpoint_id),
    );
    // The checkpoint after greet (step 1): running from it runs shout alone.
    const afterGreet = before.find((c) => c.step === 1)!;
    const states = await recordStates(page);
    await history.locator(`[data-checkpoint-id="${afterGreet.checkpoint_id}"]`).getByTestId("fork").click();
    await waitForStatus(page, "success");
    const seen = await states();
    order(seen, "shout:running", "shout:done");
    assert.ok(!seen.includes("greet:running"), `greet ran again: ${seen.join(" ")}`);
    const after = await fromApi();
    // The new latest checkpoint descends from the one chosen, not from the first run's latest: a branch.
    const lineage: string[] = [];
    for (let id: string | null | undefined = after[0]?.checkpoint_id; id;) {
      lineage.push(id);
      id = after.find((c) => c.checkpoint_id === id)?.parent_checkpoint_id;
    }
    assert.ok(lineage.includes(afterGreet.checkpoint_id), "the fork does not descend from the chosen checkpoint");
    assert.ok(!lineage.includes(before[0]!.checkpoint_id), "the fork continued the first run instead of branching");
    await history.locator(`[data-checkpoint-id="${after[0]!.checkpoint_id}"]`).waitFor();
    assert.deepEqual(
      await listed(),
      after.map((c) => c.checkpoint_id),
    );
  } finally {
    await page.close();
  }
});

test("an error shows its message, its node lit red, and the program line marked in the editor", async () => {
  const page = await openPlayground();
  try {
    await setProgram(page, { code: programSource("python/09_error.py"), language: "python", inputs: { value: 42 } });
    await graphHas(page, "validate");
    await page.getByTestId("run").click();
    await waitForStatus(page, "error");
    assert.equal(await stateOf(page, "validate"), "error");
    const panel = page.getByTestId("error");
    assert.match((await panel.textContent()) ?? "", /ValueError: value too large: 42/);
    const line =
      programSource("python/09_error.py")
        .split("\n")
        .findIndex((l) => l.includes("raise ValueError")) + 1;
    assert.equal(await panel.getByTestId("error-line").textContent(), `line ${line}`);
    assert.match(
      (await panel.locator(".tb-program").first().textContent()) ?? "",
      new RegExp(`<workflow>", line ${line}`),
    );
    assert.match((await page.locator(".cm-error-line").textContent()) ?? "", /raise ValueError/);
    await shot(page, "6-error-program-line");
  } finally {
    await page.close();
  }
});
