/**
 * The thread's checkpoints, newest first (`GET /threads/{id}/history`), each with "Run from here":
 * an execution on the same thread from that checkpoint (`config.checkpoint_id`), a fork.
 */
import type { Checkpoint } from "../client.ts";
import { Json } from "./Json.tsx";

export interface HistoryPanelProps {
  threadId: string | null;
  checkpoints: Checkpoint[];
  problem: string | null;
  busy: boolean;
  onFork(checkpointId: string): void;
  onRefresh(): void;
}

export function HistoryPanel({ threadId, checkpoints, problem, busy, onFork, onRefresh }: HistoryPanelProps) {
  return (
    <div className="history" data-testid="history">
      <div className="panel-bar">
        <span>
          thread <code>{threadId ?? "–"}</code>
        </span>
        <button type="button" className="link" onClick={onRefresh} disabled={threadId === null}>
          refresh
        </button>
      </div>
      {problem ? <p className="muted">{problem}</p> : null}
      {threadId !== null && checkpoints.length === 0 && !problem ? (
        <p className="muted">No checkpoints on this thread.</p>
      ) : null}
      <ol className="checkpoints">
        {checkpoints.map((checkpoint, index) => (
          <li key={checkpoint.checkpoint_id} className="checkpoint" data-checkpoint-id={checkpoint.checkpoint_id}>
            <div className="checkpoint-head">
              <span className="tl-badge">step {checkpoint.step}</span>
              <span className="checkpoint-source">{checkpoint.source}</span>
              {index === 0 ? <span className="checkpoint-latest">latest</span> : null}
              <span className="checkpoint-time">{new Date(checkpoint.created_at).toLocaleTimeString()}</span>
              <button
                type="button"
                className="small"
                data-testid="fork"
                disabled={busy}
                onClick={() => onFork(checkpoint.checkpoint_id)}
              >
                Run from here
              </button>
            </div>
            <details>
              <summary>
                <code>{checkpoint.checkpoint_id}</code>
              </summary>
              <Json value={checkpoint.values} />
            </details>
          </li>
        ))}
      </ol>
    </div>
  );
}
