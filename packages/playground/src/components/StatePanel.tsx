/**
 * The state step by step: each node's update as it streamed, and, with `debug`, the whole state
 * after each step (the answer's `metadata.debug`); then the final state.
 */
import type { RunView } from "../run-model.ts";
import { Json } from "./Json.tsx";

interface DebugStep {
  step: number;
  nodes: string[];
  state: unknown;
}

function debugSteps(metadata: Record<string, unknown> | null): DebugStep[] {
  if (!metadata || !Array.isArray(metadata.debug)) return [];
  return metadata.debug.flatMap((raw: unknown) => {
    if (typeof raw !== "object" || raw === null) return [];
    const entry = raw as Record<string, unknown>;
    const tasks = Array.isArray(entry.tasks) ? entry.tasks : [];
    const nodes = tasks.map((t: unknown) => String((t as Record<string, unknown> | null)?.node ?? "?"));
    return [{ step: Number(entry.step ?? 0), nodes, state: entry.state }];
  });
}

export function StatePanel({ run }: { run: RunView }) {
  const steps = debugSteps(run.metadata);
  return (
    <div className="state-panel" data-testid="state">
      {run.updates.length === 0 && !run.result ? <p className="muted">No state yet.</p> : null}
      {steps.length > 0 ? (
        <section>
          <h4>State after each step</h4>
          {steps.map((step, index) => (
            <details key={index} className="step" open={index === steps.length - 1} data-step={step.step}>
              <summary>
                step {step.step} {step.nodes.length > 0 ? `· ${step.nodes.join(", ")}` : "· input"}
              </summary>
              <Json value={step.state} />
            </details>
          ))}
        </section>
      ) : null}
      {run.updates.length > 0 ? (
        <section>
          <h4>Updates{steps.length === 0 ? " (turn on debug for the whole state after each step)" : ""}</h4>
          {run.updates.map((update, index) => (
            <details key={index} className="step" data-node={update.node}>
              <summary>
                {update.step === null ? "" : `step ${update.step} · `}
                {update.node}
              </summary>
              <Json value={update.update} />
            </details>
          ))}
        </section>
      ) : null}
      {run.result ? (
        <section>
          <h4>Final state</h4>
          <Json value={run.result.state} />
        </section>
      ) : null}
    </div>
  );
}
