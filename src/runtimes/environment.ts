/**
 * Variables every harness gets; nothing of the engine's own environment is passed on. The LLM
 * clients are pointed at the gateway, and their "API key" is the execution's gateway credential:
 * the real keys never enter the program's process.
 */

/** What the LLM clients hold as their key until the job brings the execution's credential. */
export const PENDING_CREDENTIAL = "gbx-pending";

/** Where the LLM clients send their calls: the gateway's provider paths. */
export function llmBaseUrls(gatewayUrl: string): { openai: string; anthropic: string } {
  return { openai: `${gatewayUrl}/openai/v1`, anthropic: `${gatewayUrl}/anthropic` };
}

export function harnessEnvironment(workDir: string, gatewayUrl: string, credential: string): Record<string, string> {
  const { openai, anthropic } = llmBaseUrls(gatewayUrl);
  return {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: workDir,
    TMPDIR: workDir,
    LANG: "C.UTF-8",
    // In a sandbox the harness forwards 127.0.0.1:<this port> (its own loopback) to the gateway's
    // socket (GRAPHBOX_GATEWAY_SOCKET, set by the launcher); unsandboxed, the URL reaches the gateway directly.
    GRAPHBOX_GATEWAY_PORT: new URL(gatewayUrl).port,
    // Both spellings: the SDKs read *_BASE_URL, LangChain Python reads OPENAI_API_BASE / ANTHROPIC_API_URL first.
    OPENAI_BASE_URL: openai,
    OPENAI_API_BASE: openai,
    OPENAI_API_KEY: credential,
    ANTHROPIC_BASE_URL: anthropic,
    ANTHROPIC_API_URL: anthropic,
    ANTHROPIC_API_KEY: credential,
    // `load_dotenv()` and `import "dotenv/config"` at the top of a program are silent no-ops: a program's
    // variables come from here, and python-dotenv would otherwise walk up from the program's directory
    // reading every `.env` on the way. dotenv (JavaScript) has no off switch: it reads the empty /dev/null.
    PYTHON_DOTENV_DISABLED: "1",
    DOTENV_CONFIG_PATH: "/dev/null",
    DOTENV_CONFIG_QUIET: "true",
  };
}
