/**
 * The OpenTelemetry GenAI semantic-convention attributes the LLM call spans carry
 * (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/). They are still
 * "development" status, so @opentelemetry/semantic-conventions only has them in its
 * `incubating` entry point, which may rename them in a minor release; its README asks users
 * to copy the ones they need, as here.
 */
export const GEN_AI = {
  /** Deprecated in favour of gen_ai.provider.name; still what many backends read. */
  SYSTEM: "gen_ai.system",
  PROVIDER_NAME: "gen_ai.provider.name",
  OPERATION_NAME: "gen_ai.operation.name",
  REQUEST_MODEL: "gen_ai.request.model",
  REQUEST_STREAM: "gen_ai.request.stream",
  RESPONSE_TIME_TO_FIRST_CHUNK: "gen_ai.response.time_to_first_chunk",
  USAGE_INPUT_TOKENS: "gen_ai.usage.input_tokens",
  USAGE_OUTPUT_TOKENS: "gen_ai.usage.output_tokens",
} as const;
