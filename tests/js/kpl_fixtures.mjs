// KPL aggregation fixtures (docs/kinesis.md, "KPL aggregation"), built and read
// with the real aws-kinesis-agg package (pinned in package.json).
//
//   node kpl_fixtures.mjs                 rewrites tests/fixtures/kpl/: cases.json
//                                         (every case's user records) and, for the
//                                         cases built by aws-kinesis-agg, NAME.bin
//   node kpl_fixtures.mjs deaggregate F   prints F's user records, de-aggregated by
//                                         aws-kinesis-agg with checksums verified, as
//                                         JSON lines (tests/integration/test_kpl_format.py)
//
// The cases whose "built_by" is "hydrant" have their NAME.bin written by
// hydrant's own Aggregate: after rewriting cases.json, run
//   HYDRANT_KPL_WRITE_FIXTURES=1 build/hydrant_kinesis_test --gtest_filter='Kpl*Fixture*'
// Everything is deterministic (a seeded generator), so a rebuild gives the same bytes.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const agg = require('aws-kinesis-agg');

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(here, '..', 'fixtures', 'kpl');

// mulberry32: a small seeded generator, so the fixtures never change by chance.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(next, n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}

const MAX_HASH_KEY = '340282366920938463463374607431768211455';

// Each case: its name, who builds its bytes, and its user records
// ({partitionKey, explicitHashKey?, data: Buffer}).
function cases() {
  const list = [];
  list.push({ name: 'single', builtBy: 'aws-kinesis-agg',
              records: [{ partitionKey: 'a', data: Buffer.from('hello') }] });

  list.push({ name: 'explicit_hash_keys', builtBy: 'aws-kinesis-agg', records: [
    { partitionKey: 'p1', explicitHashKey: '0', data: Buffer.from('one') },
    { partitionKey: 'p2', explicitHashKey: MAX_HASH_KEY, data: Buffer.from('two') },
    { partitionKey: 'p1', explicitHashKey: '170141183460469231731687303715884105728', data: Buffer.from('three') },
    { partitionKey: 'p3', explicitHashKey: '0', data: Buffer.from('four') },
    { partitionKey: 'p2', explicitHashKey: MAX_HASH_KEY, data: Buffer.from('five') },
  ] });

  // Two thirds with an explicit hash key. (aws-kinesis-agg's reader reports the
  // table's first key for a record without one: test_kpl_format.py compares
  // explicit hash keys only where a record has one.)
  {
    const next = rng(16);
    const records = [];
    for (let i = 0; i < 400; i++) {
      const r = {
        partitionKey: `pk-${Math.floor(next() * 200)}`,  // indexes past 127: two-byte varints
        data: randomBytes(next, Math.floor(next() * 300)),
      };
      if (i % 3 !== 2) r.explicitHashKey = String(Math.floor(next() * 1e15)) + String(i % 150);
      records.push(r);
    }
    list.push({ name: 'many', builtBy: 'aws-kinesis-agg', records });
  }
  {
    const next = rng(7);
    const records = [];
    for (let i = 0; i < 300; i++) {
      records.push({ partitionKey: `k${i % 180}`, data: randomBytes(next, 1 + Math.floor(next() * 200)) });
    }
    list.push({ name: 'many_without_hash_keys', builtBy: 'aws-kinesis-agg', records });
  }

  const all = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  list.push({ name: 'binary', builtBy: 'aws-kinesis-agg', records: [
    { partitionKey: 'ключ-🔑', data: all },
    { partitionKey: 'zeros', data: Buffer.alloc(64) },
    { partitionKey: 'empty', data: Buffer.alloc(0) },
    // An aggregate as a user record's data stays data: nothing de-aggregates twice.
    { partitionKey: 'nested', data: Buffer.concat([Buffer.from('f3899ac2', 'hex'), Buffer.alloc(20, 1)]) },
  ] });

  // Built by hydrant's Aggregate, read here by aws-kinesis-agg.
  {
    const next = rng(42);
    const records = [];
    for (let i = 0; i < 200; i++) {
      const r = { partitionKey: `user-${Math.floor(next() * 150)}`, data: randomBytes(next, 200) };
      if (i % 4 === 0) r.explicitHashKey = String(Math.floor(next() * 1e12)) + String(i);
      records.push(r);
    }
    list.push({ name: 'hydrant_many', builtBy: 'hydrant', records });
  }
  list.push({ name: 'hydrant_binary', builtBy: 'hydrant', records: [
    { partitionKey: 'ключ-🔑', data: all },
    { partitionKey: 'x'.repeat(256), explicitHashKey: MAX_HASH_KEY, data: Buffer.from('long key') },
    { partitionKey: 'empty', data: Buffer.alloc(0) },
    { partitionKey: 'ключ-🔑', explicitHashKey: '0', data: Buffer.from('again') },
  ] });
  return list;
}

function toJson(r) {
  const o = { partition_key: r.partitionKey, data: r.data.toString('base64') };
  if (r.explicitHashKey !== undefined) o.explicit_hash_key = r.explicitHashKey;
  return o;
}

function build() {
  fs.mkdirSync(outDir, { recursive: true });
  const manifest = [];
  for (const c of cases()) {
    manifest.push({ name: c.name, built_by: c.builtBy, records: c.records.map(toJson) });
    if (c.builtBy !== 'aws-kinesis-agg') continue;
    const a = new agg.RecordAggregator();
    for (const r of c.records) a.addUserRecord({ ...r, data: Buffer.from(r.data) });
    const encoded = a.build();
    fs.writeFileSync(path.join(outDir, `${c.name}.bin`), encoded.data);
    const back = deaggregate(encoded.data);
    if (back.length !== c.records.length) throw new Error(`${c.name}: ${back.length} records back`);
  }
  // One record a line, so a rebuild's diff stays readable.
  const text = manifest.map((c) => `{"name": ${JSON.stringify(c.name)}, "built_by": ${JSON.stringify(c.built_by)}, "records": [\n` +
                                   c.records.map((r) => JSON.stringify(r)).join(',\n') + ']}');
  fs.writeFileSync(path.join(outDir, 'cases.json'), `[\n${text.join(',\n')}\n]\n`);
}

function deaggregate(bytes) {
  let out, error;
  agg.deaggregateSync({ data: bytes.toString('base64'), partitionKey: 'outer', sequenceNumber: '1' }, true,
                      (err, records) => { error = err; out = records; });
  if (error) throw error;
  return out;
}

if (process.argv[2] === 'deaggregate') {
  let records;
  try {
    records = deaggregate(fs.readFileSync(process.argv[3]));
  } catch (e) {
    console.error(`aws-kinesis-agg: ${e.message}`);
    process.exit(1);
  }
  for (const r of records) {
    console.log(JSON.stringify({ partition_key: r.partitionKey, explicit_hash_key: r.explicitPartitionKey ?? null,
                                 sub_sequence_number: r.subSequenceNumber, data: r.data }));
  }
} else {
  build();
}
