/**
 * The run as it happened: node starts and ends with durations and tokens, streamed LLM text, custom
 * events, interrupts, errors and the program's logs; then the totals, tokens per model and cost.
 */
import type { RunView, TimelineEntry } from "../run-model.ts";
import { Json } from "./Json.tsx";

const ms = (value: number | null): string =>
  value === null ? "…" : value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
const at = (value: number): string => `+${(value / 1000).toFixed(2)}s`;

function Entry({ entry }: { entry: TimelineEntry }) {
  switch (entry.kind) {
    case "node":
      return (
        <li className={`tl tl-node tl-${entry.status}`} data-kind="node" data-node={entry.node}>
          <span className="tl-at">{at(entry.at)}</span>
          <span className="tl-badge">step {entry.step}</span>
          <span className="tl-title">{entry.node}</span>
          <span className="tl-status">{entry.status === "ok" ? "done" : entry.status}</span>
          <span className="tl-duration">{ms(entry.duration_ms)}</span>
          {entry.tokens ? <span className="tl-tokens">{entry.tokens} tokens</span> : null}
        </li>
      );
    case "llm":
      return (
        <li className="tl tl-llm" data-kind="llm">
          <span className="tl-at">{at(entry.at)}</span>
          <span className="tl-badge">LLM{entry.node ? ` · ${entry.node}` : ""}</span>
          <span className="tl-text">{entry.text}</span>
        </li>
      );
    case "custom":
      return (
        <li className="tl tl-custom" data-kind="custom">
          <span className="tl-at">{at(entry.at)}</span>
          <span className="tl-badge">custom</span>
          <Json value={entry.data} inline />
        </li>
      );
    case "interrupt":
      return (
        <li className="tl tl-interrupt" data-kind="interrupt">
          <span className="tl-at">{at(entry.at)}</span>
          <span className="tl-badge">paused</span>
          <span className="tl-title">before {entry.next.join(", ") || "the end"}</span>
          {entry.values.length > 0 ? (
            <Json value={entry.values.length === 1 ? entry.values[0] : entry.values} inline />
          ) : null}
        </li>
      );
    case "error":
      return (
        <li className="tl tl-error" data-kind="error">
          <span className="tl-at">{at(entry.at)}</span>
          <span className="tl-badge">error</span>
          <span className="tl-text">{entry.message}</span>
        </li>
      );
    case "logs":
      return (
        <li className="tl tl-logs" data-kind="logs">
          <span className="tl-at">{at(entry.at)}</span>
          <span className="tl-badge">logs</span>
          <pre className="tl-pre">{entry.text}</pre>
        </li>
      );
  }
}

interface ModelRow {
  model: string;
  calls: number;
  input: number;
  output: number;
  total: number;
  cost: number | null;
}

function modelRows(metadata: Record<string, unknown>): ModelRow[] {
  const usage = metadata.token_usage as { by_model?: Record<string, Record<string, unknown>> } | undefined;
  const cost = metadata.cost as { by_model?: Record<string, unknown> } | undefined;
  return Object.entries(usage?.by_model ?? {}).map(([model, u]) => ({
    model,
    calls: Number(u.calls ?? 0),
    input: Number(u.input_tokens ?? 0),
    output: Number(u.output_tokens ?? 0),
    total: Number(u.total_tokens ?? 0),
    cost: typeof cost?.by_model?.[model] === "number" ? (cost.by_model[model] as number) : null,
  }));
}

function Totals({ metadata }: { metadata: Record<string, unknown> }) {
  const rows = modelRows(metadata);
  const cost = metadata.cost as { total?: number; currency?: string } | undefined;
  return (
    <div className="tl-totals" data-testid="totals">
      <div className="tl-figures">
        <span>
          <b>{String(metadata.duration_ms ?? "?")}</b> ms
        </span>
        <span>
          <b>{String(metadata.tokens_used ?? 0)}</b> tokens
        </span>
        {typeof cost?.total === "number" ? (
          <span>
            <b>{cost.total.toFixed(6)}</b> {cost.currency ?? "USD"}
          </span>
        ) : null}
        <span>
          nodes: <b>{Array.isArray(metadata.nodes_executed) ? metadata.nodes_executed.join(" → ") : ""}</b>
        </span>
      </div>
      {rows.length > 0 ? (
        <table className="tl-models">
          <thead>
            <tr>
              <th>model</th>
              <th>calls</th>
              <th>input</th>
              <th>output</th>
              <th>total</th>
              <th>cost</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.model}>
                <td>{row.model}</td>
                <td>{row.calls}</td>
                <td>{row.input}</td>
                <td>{row.output}</td>
                <td>{row.total}</td>
                <td>{row.cost === null ? "–" : row.cost.toFixed(6)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

export function Timeline({ run }: { run: RunView }) {
  return (
    <div className="timeline" data-testid="timeline">
      {run.timeline.length === 0 ? <p className="muted">Run the program to see its timeline.</p> : null}
      <ol>
        {run.timeline.map((entry, index) => (
          <Entry key={index} entry={entry} />
        ))}
      </ol>
      {run.metadata ? <Totals metadata={run.metadata} /> : null}
    </div>
  );
}
