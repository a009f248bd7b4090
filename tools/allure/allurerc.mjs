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

// The checks a full run has: set by the gate (comma-separated NUnit test method names); otherwise taken from the
// newest "started" run record in reports/metrics.jsonl, which the suite writes first thing.
const metricsPath = process.env.VERIFICATION_METRICS ?? join(repoRoot, "reports", "metrics.jsonl");
const expectedChecks = process.env.VERIFICATION_EXPECTED_CHECKS !== undefined
  ? process.env.VERIFICATION_EXPECTED_CHECKS.split(",").map((name) => name.trim()).filter(Boolean)
  : newestExpectedChecks(metricsPath);
// `allure quality-gate` (run by ./verify gate through tools/allure/quality-gate) must not add a point to the history.
const qualityGateOnly = process.env.VERIFICATION_ALLURE_QUALITY_GATE === "1";

function newestExpectedChecks(path) {
  if (!existsSync(path)) return [];
  const started = readFileSync(path, "utf8").split("\n").flatMap((line) => {
    try {
      const record = JSON.parse(line);
      return record.record === "run" && record.event === "started" && Array.isArray(record.expectedChecks) ? [record] : [];
    } catch {
      return [];
    }
  });
  return started.length ? started[started.length - 1].expectedChecks : [];
}

// Only the suite's checks count (a result whose testMethod label is one of them): not the gate's own result,
// healing or cluster-health results. Every expected check must have a result, and none may fail or break.
const isCheck = (tr) =>
  (tr.labels ?? []).some((label) => label.name === "testMethod" && (expectedChecks.length === 0 || expectedChecks.includes(label.value)));
// A fleet's merged report (./verify fleet): VERIFICATION_ENVIRONMENTS names its clusters (comma-separated). Each is an
// Allure environment, matched by the label "cluster" that the merge gives every result of that cluster's leg; the rule
// environmentsTested turns the gate red naming a cluster none of whose checks has a result (a leg that did not run or
// whose results were not collected: the gate's own result for it does not count).
const clusters = (process.env.VERIFICATION_ENVIRONMENTS ?? "").split(",").map((name) => name.trim()).filter(Boolean);
const clusterOf = (tr) => (tr.labels ?? []).find((label) => label.name === "cluster")?.value;
const environments = Object.fromEntries(
  clusters.map((cluster) => [cluster, { matcher: ({ labels }) => labels.some((l) => l.name === "cluster" && l.value === cluster) }]),
);
const qualityGate = {
  rules: [
    {
      id: "checks",
      maxFailures: 0,
      ...(expectedChecks.length ? { minTestsCount: expectedChecks.length } : {}),
      filter: isCheck,
    },
    ...(clusters.length ? [{ id: "clusters", environmentsTested: clusters, filter: (tr) => isCheck(tr) && clusters.includes(clusterOf(tr)) }] : []),
  ],
};

export default {
  name: "Kubernetes verification",
  historyPath,
  ...(qualityGateOnly ? { appendHistory: false } : {}),
  qualityGate,
  ...(clusters.length ? { environments } : {}),
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
