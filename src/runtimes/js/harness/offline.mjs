// @ts-check
// Keeps LangChain.js from reaching the internet on its own.
//
// @langchain/core counts tokens with tiktoken and fetches the encodings from
// https://tiktoken.pages.dev/js/<encoding>.json (ChatOpenAI does so on every streamed call). The
// sandbox has no network, so that fetch would fail, be retried with back-off, and print a stack
// trace per call into the program's logs. The same ranks ship inside the installed js-tiktoken
// package: answer those URLs from it, and hand every other request to the real fetch.
import { moduleHost } from "./modules.mjs";

const TIKTOKEN_URL = /^https:\/\/tiktoken\.pages\.dev\/js\/([a-z0-9_]+)\.json$/;
const ENCODINGS = new Set(["cl100k_base", "gpt2", "o200k_base", "p50k_base", "p50k_edit", "r50k_base"]);

/** @param {string | URL | Request} input */
function urlOf(input) {
  if (typeof input === "string") return input;
  if (input instanceof URL) return input.href;
  return typeof input?.url === "string" ? input.url : "";
}

export function serveTiktokenRanksLocally() {
  const networkFetch = globalThis.fetch;
  /** @type {typeof globalThis.fetch} */
  const localFetch = async function fetch(input, init) {
    const match = TIKTOKEN_URL.exec(urlOf(input));
    if (match?.[1] && ENCODINGS.has(match[1])) {
      const { default: ranks } = /** @type {{ default: unknown }} */ (
        await moduleHost().importModule(`js-tiktoken/ranks/${match[1]}`)
      );
      return new Response(JSON.stringify(ranks), { status: 200, headers: { "content-type": "application/json" } });
    }
    return networkFetch(input, init);
  };
  globalThis.fetch = localFetch;
}
