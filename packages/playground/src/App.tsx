/**
 * The playground: the program and its settings on the left; on the right its graph, lit from the
 * stream as nodes run, and the run's timeline, state, thread history and result. Every call goes
 * through the typed client, with the API key typed into the page (kept in localStorage).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { flushSync } from "react-dom";

import {
  GraphboxClient,
  GraphboxError,
  type Checkpoint,
  type ExecuteRequest,
  type GraphDrawing,
  type Language,
} from "./client.ts";
import { CodeEditor } from "./components/CodeEditor.tsx";
import { ErrorPanel } from "./components/ErrorPanel.tsx";
import { GraphView } from "./components/GraphView.tsx";
import { HistoryPanel } from "./components/HistoryPanel.tsx";
import { Json } from "./components/Json.tsx";
import { ResumeForm } from "./components/ResumeForm.tsx";
import { StatePanel } from "./components/StatePanel.tsx";
import { Timeline } from "./components/Timeline.tsx";
import { EXAMPLES } from "./examples.ts";
import { applyEvent, idleRun, programLine, startRun, type RunView } from "./run-model.ts";
import { breakpointMap, continueRequest, cycleBreakpoint, InputsError, runRequest, type Settings } from "./settings.ts";

const KEY_STORAGE = "graphbox.apiKey";
/** The events that change a node's state or the run's. */
const LIFECYCLE = new Set(["metadata", "node_start", "node_end", "interrupt", "complete", "error"]);
const TABS = ["timeline", "state", "history", "result"] as const;
type Tab = (typeof TABS)[number];

/** The engine that served the page: /playground/ sits at its root. */
const engineUrl = (): string => new URL("..", window.location.href).href;

const messageOf = (err: unknown): string =>
  err instanceof GraphboxError
    ? `${err.message} (${err.status} ${err.code})`
    : err instanceof Error
      ? err.message
      : String(err);

const failedRun = (view: RunView, message: string, errorType: string): RunView => ({
  ...view,
  status: "error",
  error: { message, errorType, node: null, traceback: null },
});

export function App() {
  const first = EXAMPLES[0]!;
  const [apiKey, setApiKey] = useState(() => localStorage.getItem(KEY_STORAGE) ?? "");
  const [settings, setSettings] = useState<Settings>({
    code: first.code,
    language: first.language,
    inputs: first.inputs,
    threadId: "",
    before: "",
    after: "",
    debug: false,
  });
  const [drawing, setDrawing] = useState<GraphDrawing | null>(null);
  const [drawProblem, setDrawProblem] = useState<string | null>(null);
  const [run, setRun] = useState<RunView>(idleRun);
  const [tab, setTab] = useState<Tab>("timeline");
  const [checkpoints, setCheckpoints] = useState<Checkpoint[]>([]);
  const [historyProblem, setHistoryProblem] = useState<string | null>(null);
  const running = run.status === "running";
  const abort = useRef<AbortController | null>(null);

  const client = useMemo(() => new GraphboxClient({ url: engineUrl(), ...(apiKey ? { apiKey } : {}) }), [apiKey]);
  const update = (patch: Partial<Settings>) => setSettings((current) => ({ ...current, ...patch }));

  // The graph follows the code: drawn by the engine a moment after typing stops.
  const drawSeq = useRef(0);
  useEffect(() => {
    const seq = ++drawSeq.current;
    const timer = setTimeout(() => {
      client
        .describe({ code: settings.code, language: settings.language })
        .then((answer) => {
          if (seq !== drawSeq.current) return;
          setDrawing(answer);
          setDrawProblem(null);
        })
        .catch((err: unknown) => {
          if (seq === drawSeq.current) setDrawProblem(`The graph cannot be drawn: ${messageOf(err)}`);
        });
    }, 600);
    return () => clearTimeout(timer);
  }, [client, settings.code, settings.language]);

  const loadHistory = useCallback(
    async (threadId: string | null) => {
      if (threadId === null) return;
      try {
        const answer = await client.threads.history(threadId);
        setCheckpoints(answer.checkpoints);
        setHistoryProblem(null);
      } catch (err: unknown) {
        setHistoryProblem(messageOf(err));
      }
    },
    [client],
  );

  const execute = useCallback(
    async (request: ExecuteRequest) => {
      abort.current?.abort();
      const controller = new AbortController();
      abort.current = controller;
      const started = performance.now();
      let view = startRun(Date.now());
      setRun(view);
      try {
        for await (const event of client.stream(request, { signal: controller.signal })) {
          view = applyEvent(view, event, performance.now() - started);
          // A node's change of state reaches the page before the next event, however fast the node
          // (events arriving together would otherwise be rendered as one): the graph's data-state
          // attributes then replay the stream exactly. Text and updates render when React likes.
          if (LIFECYCLE.has(event.event)) flushSync(() => setRun(view));
          else setRun(view);
        }
        if (view.status === "running") view = failedRun(view, "the stream ended without an answer", "internal_error");
      } catch (err: unknown) {
        view = controller.signal.aborted
          ? failedRun(view, "stopped: the run was cancelled", "cancelled")
          : failedRun(
              view,
              messageOf(err),
              err instanceof GraphboxError ? (err.errorType ?? "invalid_request") : "internal_error",
            );
      }
      setRun(view);
      if (view.status === "error") setTab("timeline");
      await loadHistory(view.threadId);
    },
    [client, loadHistory],
  );

  /** Runs and reports: execute() answers every failure on the page itself, so this only guards a bug. */
  const launch = (request: ExecuteRequest) => {
    execute(request).catch((err: unknown) => setRun((view) => failedRun(view, messageOf(err), "internal_error")));
  };
  const start = () => {
    try {
      launch(runRequest(settings));
    } catch (err: unknown) {
      if (!(err instanceof InputsError)) throw err;
      setRun(failedRun(idleRun(), err.message, "invalid_request"));
    }
  };
  const resume = (value: unknown) => {
    if (run.threadId) launch(continueRequest(settings, { threadId: run.threadId, resume: value }));
  };
  const carryOn = () => {
    if (run.threadId) launch(continueRequest(settings, { threadId: run.threadId }));
  };
  const fork = (checkpointId: string) => {
    if (run.threadId) launch(continueRequest(settings, { threadId: run.threadId, checkpointId }));
  };

  const errorLine = run.error ? programLine(run.error.traceback) : null;
  const marks = useMemo(() => breakpointMap(settings), [settings]);

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark">◆</span> Graphbox <span className="muted">playground</span>
        </div>
        <label className="field inline">
          <span>Example</span>
          <select
            data-testid="example"
            onChange={(event) => {
              const example = EXAMPLES[Number(event.target.value)];
              if (example) update({ code: example.code, language: example.language, inputs: example.inputs });
            }}
          >
            {EXAMPLES.map((example, index) => (
              <option key={example.name} value={index}>
                {example.name}
              </option>
            ))}
          </select>
        </label>
        <div className="spacer" />
        <label className="field inline">
          <span>API key</span>
          <input
            data-testid="api-key"
            type="password"
            placeholder="none"
            value={apiKey}
            onChange={(event) => {
              setApiKey(event.target.value);
              localStorage.setItem(KEY_STORAGE, event.target.value);
            }}
          />
        </label>
        <span className={`status status-${run.status}`} data-testid="status">
          {run.status}
        </span>
      </header>

      <main className="columns">
        <section className="left">
          <div className="editor-bar">
            <label className="field inline">
              <span>Language</span>
              <select
                data-testid="language"
                value={settings.language}
                onChange={(event) => update({ language: event.target.value as Language })}
              >
                <option value="python">Python</option>
                <option value="typescript">TypeScript</option>
                <option value="javascript">JavaScript</option>
              </select>
            </label>
          </div>
          <CodeEditor
            value={settings.code}
            language={settings.language}
            errorLine={errorLine}
            onChange={(code) => update({ code })}
          />
          <div className="form">
            <label className="field">
              <span>Inputs (JSON)</span>
              <textarea
                data-testid="inputs"
                rows={3}
                spellCheck={false}
                value={settings.inputs}
                onChange={(event) => update({ inputs: event.target.value })}
              />
            </label>
            <div className="form-row">
              <label className="field">
                <span>Thread id</span>
                <input
                  data-testid="thread-id"
                  placeholder="new thread each run"
                  value={settings.threadId}
                  onChange={(event) => update({ threadId: event.target.value })}
                />
              </label>
              <label className="field">
                <span>Break before</span>
                <input
                  data-testid="interrupt-before"
                  placeholder="node, node"
                  value={settings.before}
                  onChange={(event) => update({ before: event.target.value })}
                />
              </label>
              <label className="field">
                <span>Break after</span>
                <input
                  data-testid="interrupt-after"
                  placeholder="node, node"
                  value={settings.after}
                  onChange={(event) => update({ after: event.target.value })}
                />
              </label>
            </div>
            <div className="form-row actions">
              <label className="check">
                <input
                  type="checkbox"
                  data-testid="debug"
                  checked={settings.debug}
                  onChange={(event) => update({ debug: event.target.checked })}
                />
                debug (state after each step)
              </label>
              <div className="spacer" />
              {running ? (
                <button type="button" data-testid="stop" onClick={() => abort.current?.abort()}>
                  Stop
                </button>
              ) : null}
              <button type="button" className="primary" data-testid="run" disabled={running} onClick={start}>
                {running ? "Running…" : "Run ▶"}
              </button>
            </div>
          </div>
        </section>

        <section className="right">
          <GraphView
            drawing={drawing}
            states={run.nodes}
            breakpoints={marks}
            problem={drawProblem}
            onNodeClick={(node) => update(cycleBreakpoint(settings, node))}
          />
          <div className="run-info">
            {run.threadId ? (
              <span>
                thread <code data-testid="run-thread">{run.threadId}</code>
              </span>
            ) : null}
            {run.runtime ? <span>runtime {run.runtime}</span> : null}
            {run.executionId ? (
              <span>
                execution <code>{run.executionId}</code>
              </span>
            ) : null}
          </div>
          {run.status === "interrupted" && run.interrupt ? (
            <ResumeForm
              key={run.executionId ?? ""}
              interrupt={run.interrupt}
              busy={running}
              onResume={resume}
              onContinue={carryOn}
            />
          ) : null}
          {run.error ? <ErrorPanel error={run.error} /> : null}
          <nav className="tabs">
            {TABS.map((name) => (
              <button
                type="button"
                key={name}
                data-testid={`tab-${name}`}
                className={tab === name ? "tab active" : "tab"}
                onClick={() => setTab(name)}
              >
                {name}
                {name === "history" && checkpoints.length > 0 ? ` (${checkpoints.length})` : ""}
              </button>
            ))}
          </nav>
          <div className="tab-body">
            <div hidden={tab !== "timeline"}>
              <Timeline run={run} />
            </div>
            <div hidden={tab !== "state"}>
              <StatePanel run={run} />
            </div>
            <div hidden={tab !== "history"}>
              <HistoryPanel
                threadId={run.threadId}
                checkpoints={checkpoints}
                problem={historyProblem}
                busy={running}
                onFork={fork}
                onRefresh={() => {
                  loadHistory(run.threadId).catch(() => undefined);
                }}
              />
            </div>
            <div hidden={tab !== "result"} data-testid="result">
              {run.result ? <Json value={run.result} /> : <p className="muted">No result yet.</p>}
            </div>
          </div>
        </section>
      </main>
    </div>
  );
}
