// Allure 3 configuration for tools/allure/render. Paths are absolute (from this file's location or the
// environment the render script sets), so the CLI can be started from any directory.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const resultsDir = process.env.VERIFICATION_ALLURE_RESULTS ?? join(repoRoot, "reports", "allure-results");
// One line per run; the report's trend and per-test history come from here, so it must outlive the report folder.
const historyPath = process.env.VERIFICATION_ALLURE_HISTORY ?? join(repoRoot, "reports", "history.jsonl");

// The harness writes Allure 2's categories.json into the results; Allure 3 takes categories from its config.
const categoriesFile = join(resultsDir, "categories.json");
const categories = existsSync(categoriesFile) ? JSON.parse(readFileSync(categoriesFile, "utf8")) : undefined;

export default {
  name: "Kubernetes verification",
  historyPath,
  ...(categories ? { categories } : {}),
  plugins: {
    // singleFile off: index.html loads data/*.json, so open it through a static server (see README.md).
    awesome: {
      options: {
        singleFile: false,
        reportName: "Kubernetes verification",
        groupBy: ["parentSuite", "suite", "subSuite"],
      },
    },
    // Prints the per-test summary to the console; writes no files.
    log: { options: { groupBy: "none" } },
    // Added by default otherwise; its markdown output is not wanted in the report folder.
    agent: { enabled: false },
  },
};
