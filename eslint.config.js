// Only the rules the type checker cannot give: a promise nobody awaits or catches is how one
// execution's failure became the engine's exit (issue 12). tsc checks the rest.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "src/runtimes/js/**", ".venv/**", ".data/**"] },
  {
    files: ["src/**/*.ts"],
    languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: {
      "@typescript-eslint/no-floating-promises": ["error", { ignoreVoid: false }],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false, properties: false } }],
    },
  },
);
