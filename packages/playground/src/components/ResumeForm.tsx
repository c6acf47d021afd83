/**
 * A paused run: an `interrupt()` waits for a value (sent as the request's `resume`), a breakpoint for
 * a go-ahead (inputs null on the same thread).
 */
import { useState } from "react";

import type { Interrupt } from "../run-model.ts";
import { Json } from "./Json.tsx";

/** The text typed: JSON when it parses, else the text itself (a plain `yes`). */
export function resumeValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export interface ResumeFormProps {
  interrupt: Interrupt;
  busy: boolean;
  onResume(value: unknown): void;
  onContinue(): void;
}

export function ResumeForm({ interrupt, busy, onResume, onContinue }: ResumeFormProps) {
  const [text, setText] = useState("");
  const asks = interrupt.interrupts.length > 0;
  return (
    <form
      className="resume"
      data-testid="resume"
      onSubmit={(event) => {
        event.preventDefault();
        if (asks) onResume(resumeValue(text));
        else onContinue();
      }}
    >
      <div className="resume-head">
        <b>{asks ? "The program asks:" : "Paused at a breakpoint"}</b>
        <span className="muted">next: {interrupt.next.join(", ") || "–"}</span>
      </div>
      {interrupt.interrupts.map((item) => (
        <Json key={item.id} value={item.value} />
      ))}
      {asks ? (
        <label className="field">
          <span>Answer (JSON, or plain text)</span>
          <textarea
            data-testid="resume-value"
            rows={2}
            value={text}
            placeholder='"yes"'
            onChange={(event) => setText(event.target.value)}
          />
        </label>
      ) : null}
      <button type="submit" className="primary" data-testid="resume-submit" disabled={busy}>
        {asks ? "Resume" : "Continue"}
      </button>
    </form>
  );
}
