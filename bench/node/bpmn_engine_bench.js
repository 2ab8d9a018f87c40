#!/usr/bin/env node
// Runs flowd's benchmark reference process (bench/reference-bpmn-engine.bpmn: start, three
// user tasks, an exclusive gateway on `amount`, two ends) on npm's bpmn-engine, in memory,
// N times, completing each user task by signal as soon as it waits. Prints one JSON line:
// {"bench":"bpmn_engine","instances_per_s":...,"peak_rss_mb":...}; progress goes to stderr.
// The XML is parsed and serialized once (the engine's documented `sourceContext` option), so
// the figure is the engine's execution cost, not its XML parser's.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { EventEmitter } = require('node:events');
const { Engine } = require('bpmn-engine');

function usage() {
  process.stderr.write(
    'usage: bpmn_engine_bench.js [--instances N] [--concurrency C] [--bpmn FILE] [--reparse]\n' +
      '  --instances N    instances to run (default 2000)\n' +
      '  --concurrency C  instances running at once (default 1)\n' +
      '  --bpmn FILE      process to run (default ../reference-bpmn-engine.bpmn)\n' +
      '  --reparse        give the engine the XML for every instance (no shared parse)\n'
  );
  process.exit(1);
}

function parseArgs(argv) {
  const opt = {
    instances: 2000,
    concurrency: 1,
    bpmn: path.join(__dirname, '..', 'reference-bpmn-engine.bpmn'),
    reparse: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage();
      return argv[++i];
    };
    if (a === '--instances') opt.instances = Number(next());
    else if (a === '--concurrency') opt.concurrency = Number(next());
    else if (a === '--bpmn') opt.bpmn = next();
    else if (a === '--reparse') opt.reparse = true;
    else usage();
  }
  if (!Number.isInteger(opt.instances) || opt.instances < 1) usage();
  if (!Number.isInteger(opt.concurrency) || opt.concurrency < 1) usage();
  return opt;
}

// Parse and serialize the model once, the way the engine itself does for `source`.
async function serializedContext(xml) {
  const engine = new Engine({ name: 'prepare', source: xml });
  const [definition] = await engine.getDefinitions();
  return definition.context.definitionContext ?? null;
}

// The installed bpmn-engine's version (its package.json is not an exported subpath).
function engineVersion() {
  const file = path.join(__dirname, 'node_modules', 'bpmn-engine', 'package.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).version;
}

// Run one instance to its end; resolves with the id of the end event reached.
function runInstance(engineOptions, amount) {
  return new Promise((resolve, reject) => {
    const engine = new Engine(engineOptions);
    const listener = new EventEmitter();
    let endId = null;
    let tasks = 0;
    listener.on('wait', (api) => {
      tasks++;
      api.signal({ approvedBy: 'bench' });
    });
    listener.on('activity.end', (api) => {
      if (api.type === 'bpmn:EndEvent') endId = api.id;
    });
    engine.once('end', () => {
      if (tasks !== 3) reject(new Error(`expected 3 user tasks, saw ${tasks}`));
      else resolve(endId);
    });
    engine.once('error', reject);
    engine.execute({ listener, variables: { amount } }).catch(reject);
  });
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const xml = fs.readFileSync(opt.bpmn, 'utf8');
  // The gateway's condition calls this (see the comment in reference-bpmn-engine.bpmn).
  const services = { greaterThan: (a, b) => a > b };
  let engineOptions = { name: 'bench', source: xml, services };
  if (!opt.reparse) {
    const ctx = await serializedContext(xml);
    if (ctx) engineOptions = { name: 'bench', sourceContext: ctx, services };
  }

  // Same variable pattern as flowd_bench.c: every other instance takes the large branch.
  const amountOf = (i) => (i % 2 === 0 ? 5000 : 500);
  const expectEnd = (i) => (i % 2 === 0 ? 'End_large' : 'End_small');

  // Warm up (JIT, module caches) outside the measured loop.
  for (let i = 0; i < Math.min(50, opt.instances); i++) {
    const end = await runInstance(engineOptions, amountOf(i));
    if (end !== expectEnd(i)) throw new Error(`instance ${i} ended at ${end}, expected ${expectEnd(i)}`);
  }

  let next = 0;
  let done = 0;
  const t0 = process.hrtime.bigint();
  async function worker() {
    while (next < opt.instances) {
      const i = next++;
      const end = await runInstance(engineOptions, amountOf(i));
      if (end !== expectEnd(i)) throw new Error(`instance ${i} ended at ${end}, expected ${expectEnd(i)}`);
      done++;
      if (done % 1000 === 0) process.stderr.write(`bpmn-engine: ${done}/${opt.instances}\n`);
    }
  }
  await Promise.all(Array.from({ length: opt.concurrency }, worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;

  const rssMb = process.resourceUsage().maxRSS / 1024; // maxRSS is in kilobytes
  const out = {
    bench: 'bpmn_engine',
    instances_per_s: Number((done / secs).toFixed(1)),
    commands_per_s: Number(((done * 4) / secs).toFixed(1)),
    peak_rss_mb: Number(rssMb.toFixed(1)),
    instances: done,
    concurrency: opt.concurrency,
    seconds: Number(secs.toFixed(3)),
    engine: 'bpmn-engine@' + engineVersion(),
    node: process.version,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  process.stderr.write(`bpmn_engine_bench: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
