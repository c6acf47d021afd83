/** A JSON value as text: pretty on its own, one line (cut at 300 characters) inline. */
export function Json({ value, inline = false }: { value: unknown; inline?: boolean }) {
  let text: string;
  try {
    text = value === undefined ? "undefined" : JSON.stringify(value, null, inline ? 0 : 2);
  } catch {
    text = String(value);
  }
  if (inline) return <code className="json-inline">{text.length > 300 ? `${text.slice(0, 300)}…` : text}</code>;
  return <pre className="json">{text}</pre>;
}
