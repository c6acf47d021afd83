// A small rule set: what the type checker cannot give. A promise nobody awaits or catches is how one
// execution's failure became the engine's exit (issue 12); unused code and value imports used only
// as types hide what a file really depends on. Formatting is prettier's (`.prettierrc.json`).
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "dist/**",
      "packages/*/dist/**",
      "src/runtimes/js/**",
      ".venv/**",
      ".venv-tools/**",
      ".data/**",
    ],
  },
  {
    files: [
      "src/**/*.ts",
      "test/**/*.ts",
      "bench/**/*.ts",
      "scripts/**/*.ts",
      "packages/*/src/**/*.ts",
      // The playground's page (its own tsconfig: DOM, JSX), found by the project service.
      "packages/playground/src/**/*.tsx",
    ],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        // node:test's test() returns a promise the runner itself awaits.
        {
          ignoreVoid: false,
          allowForKnownSafeCalls: [
            {
              from: "package",
              package: "node:test",
              name: ["test", "describe", "it", "before", "after", "beforeEach", "afterEach"],
            },
          ],
        },
      ],
      "@typescript-eslint/no-misused-promises": [
        "error",
        { checksVoidReturn: { arguments: false, properties: false } },
      ],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-explicit-any": "error",
    },
  },
);
