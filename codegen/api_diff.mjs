// Raw structural diff of two OpenAPI documents with api-smart-diff (pinned in package.json).
//
// Usage: node codegen/api_diff.mjs BEFORE.json AFTER.json
// Prints one JSON object: {"tool": "api-smart-diff@<version>", "diffs": [...]}, each diff with
// its JSON path (array), action (add | remove | replace | rename), the tool's own label and the
// values before/after, cut to MAX_DEPTH levels. codegen/api_diff.py classifies the diffs for SDK
// users; the tool's label is kept for reference only (it judges wire compatibility, not SDKs).
// Exit codes: 0 ok, 2 bad usage or unreadable input (one line on stderr).

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { apiCompare } from "api-smart-diff";

const MAX_DEPTH = 4; // enough for an operation's id, a parameter's schema type, a property's type
const TRUNCATED = "…";

function shallow(value, depth = 0) {
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return TRUNCATED;
  if (Array.isArray(value)) return value.map((item) => shallow(item, depth + 1));
  const out = {};
  for (const [key, item] of Object.entries(value)) out[key] = shallow(item, depth + 1);
  return out;
}

function load(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    process.stderr.write(`api_diff.mjs: cannot read ${path} as JSON (${err.message})\n`);
    process.exit(2);
  }
}

const args = process.argv.slice(2);
if (args.length !== 2) {
  process.stderr.write("usage: node codegen/api_diff.mjs BEFORE.json AFTER.json\n");
  process.exit(2);
}
const [before, after] = args.map(load);
const entry = createRequire(import.meta.url).resolve("api-smart-diff"); // <pkg>/dist/index.cjs
const { version } = JSON.parse(readFileSync(join(dirname(dirname(entry)), "package.json"), "utf8"));
const { diffs } = apiCompare(before, after);
const out = diffs.map((d) => ({
  path: d.path,
  action: d.action,
  tool_type: d.type,
  before: shallow(d.before),
  after: shallow(d.after),
}));
process.stdout.write(JSON.stringify({ tool: `api-smart-diff@${version}`, diffs: out }) + "\n");
