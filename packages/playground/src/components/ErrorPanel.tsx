/** A failed run: its message, type, node, and the traceback with the program's own lines marked. */
import { programLine, type RunError } from "../run-model.ts";

const PROGRAM_FRAME = /<workflow>/;
/** A program frame's line, and in Python the source line printed under it. */
const marked = (lines: string[], index: number): boolean =>
  PROGRAM_FRAME.test(lines[index]!) || (index > 0 && /^\s*File "<workflow>"/.test(lines[index - 1]!));

export function ErrorPanel({ error }: { error: RunError }) {
  const line = programLine(error.traceback);
  return (
    <div className="error-panel" data-testid="error">
      <div className="error-head">
        <b className="error-message">{error.message}</b>
        <span className="tl-badge">{error.errorType}</span>
        {error.node ? <span className="tl-badge">node {error.node}</span> : null}
        {line !== null ? (
          <span className="tl-badge error-line" data-testid="error-line">
            line {line}
          </span>
        ) : null}
      </div>
      {error.traceback ? (
        <pre className="traceback">
          {error.traceback.split("\n").map((text, index, lines) => (
            <span key={index} className={marked(lines, index) ? "tb-program" : undefined}>
              {text}
              {"\n"}
            </span>
          ))}
        </pre>
      ) : null}
    </div>
  );
}
