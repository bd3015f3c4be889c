// ESLint for the browser extension (extension/) and its build script (scripts/*.mjs).
// Formatting is Prettier's job (.prettierrc.json); ESLint looks for mistakes only.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["build/", "node_modules/"] },
  js.configs.recommended,
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { ecmaVersion: "latest", sourceType: "module" },
    rules: {
      // A leading underscore marks what is taken apart only to be left out.
      "no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["extension/**/*.js"],
    languageOptions: { globals: { ...globals.browser, ...globals.webextensions } },
  },
  {
    // Content scripts cannot be modules: the loader is a classic script that imports the rest.
    files: ["extension/content/loader.js"],
    languageOptions: { sourceType: "script" },
  },
  {
    files: ["extension/tests/**/*.js", "scripts/**/*.mjs", "eslint.config.js"],
    languageOptions: { globals: globals.node },
  },
];
