// hydrant driven with the AWS SDK for JavaScript v3 (client-firehose, client-s3): streams
// with every CompressionFormat, delivered objects read back through the S3 API and
// decoded with independent decoders (Node's zlib, unzip, python3-snappy).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';

import {
  CreateDeliveryStreamCommand, DescribeDeliveryStreamCommand, PutRecordCommand, PutRecordBatchCommand,
  ResourceNotFoundException, InvalidArgumentException,
} from '@aws-sdk/client-firehose';
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';

import { startHydrant, waitFor, listKeys, getBytes, unzipP, snappyDecode } from './helpers.mjs';

const ROLE = 'arn:aws:iam::000000000000:role/firehose';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

function keyRegex(stream, ext) {
  const e = ext.replace(/\./g, '\\.');
  return new RegExp(`^(\\d{4}/\\d{2}/\\d{2}/\\d{2}/)${stream}-1-\\d{4}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-${UUID}${e}$`);
}

function utcHourPrefix(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())}/${p(d.getUTCHours())}/`;
}

// Orders decoded object bodies by where they occur in `want` (records are unique, so
// each object's content is found at exactly one place) and joins them.
function reassemble(bodies, want) {
  const placed = bodies.map((b) => ({ at: want.indexOf(b), b }));
  for (const p of placed) assert.notEqual(p.at, -1, 'an object holds bytes that were never sent in this order');
  placed.sort((x, y) => x.at - y.at);
  return Buffer.concat(placed.map((p) => p.b));
}

async function expectError(promise, name) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.name, name, `expected ${name}, got ${e.name}: ${e.message}`);
    assert.equal(e.$metadata?.httpStatusCode, 400);
    return e;
  }
  assert.fail(`expected ${name}, the call succeeded`);
}

const FORMATS = [
  { fmt: 'UNCOMPRESSED', ext: '', interval: 0, decode: (b) => b },
  { fmt: 'GZIP', ext: '.gz', interval: 1, decode: (b) => zlib.gunzipSync(b) },
  {
    fmt: 'ZIP', ext: '.zip', interval: 0, decode: (b) => {
      const z = unzipP(b);
      assert.equal(z.entries.length, 1, `ZIP object must hold one entry, has ${z.entries}`);
      return z.data;
    },
  },
  { fmt: 'Snappy', ext: '.snappy', interval: 1, decode: (b) => snappyDecode(b, false) },
  { fmt: 'HADOOP_SNAPPY', ext: '.snappy', interval: 0, decode: (b) => snappyDecode(b, true) },
];

describe('hydrant with the AWS SDK for JavaScript v3', () => {
  let h;
  let fh;
  let s3;

  before(async () => {
    h = await startHydrant();
    fh = h.firehose();
    s3 = h.s3();
  });

  after(async () => {
    fh?.destroy();
    s3?.destroy();
    await h?.stop();
  });

  async function makeStream(name, bucket, dest = {}) {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const r = await fh.send(new CreateDeliveryStreamCommand({
      DeliveryStreamName: name,
      ExtendedS3DestinationConfiguration: { RoleARN: ROLE, BucketARN: `arn:aws:s3:::${bucket}`, ...dest },
    }));
    assert.equal(r.DeliveryStreamARN, `arn:aws:firehose:us-east-1:000000000000:deliverystream/${name}`);
  }

  for (const { fmt, ext, interval, decode } of FORMATS) {
    test(`${fmt} objects decode to exactly the records sent (IntervalInSeconds ${interval})`, async () => {
      const name = `js-${fmt.toLowerCase().replace('_', '-')}`;
      const bucket = `bucket-${name}`;
      await makeStream(name, bucket, {
        CompressionFormat: fmt, BufferingHints: { SizeInMBs: 1, IntervalInSeconds: interval },
      });
      const d = await fh.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: name }));
      const ext3 = d.DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription;
      assert.equal(ext3.CompressionFormat, fmt);
      assert.deepEqual(ext3.BufferingHints, { SizeInMBs: 1, IntervalInSeconds: interval });

      const N = 400;
      const records = [Buffer.from(Array.from({ length: 256 }, (_, i) => i))];  // every byte value
      for (let i = 1; i < N; i++) {
        records.push(Buffer.from(JSON.stringify({ i, fmt, pad: 'abc'.repeat(i % 41) }) + '\n'));
      }
      const t0 = Date.now();
      const r = await fh.send(new PutRecordBatchCommand({
        DeliveryStreamName: name, Records: records.map((Data) => ({ Data })),
      }));
      assert.equal(r.FailedPutCount, 0);
      assert.equal(r.RequestResponses.length, N);
      for (const rr of r.RequestResponses) {
        assert.ok(typeof rr.RecordId === 'string' && rr.RecordId.length > 0);
        assert.equal(rr.ErrorCode, undefined);
      }
      assert.equal(new Set(r.RequestResponses.map((x) => x.RecordId)).size, N);
      const last = Buffer.from(`last record for ${fmt}\n`);
      const pr = await fh.send(new PutRecordCommand({ DeliveryStreamName: name, Record: { Data: last } }));
      assert.ok(typeof pr.RecordId === 'string' && pr.RecordId.length > 0);
      assert.equal(pr.Encrypted, false);
      records.push(last);
      const want = Buffer.concat(records);

      const objects = new Map();  // key → decoded bytes
      const got = await waitFor(async () => {
        for (const key of await listKeys(s3, bucket)) {
          if (!objects.has(key)) objects.set(key, decode((await getBytes(s3, bucket, key)).body));
        }
        const total = [...objects.values()].reduce((n, b) => n + b.length, 0);
        return total >= want.length ? reassemble([...objects.values()], want) : null;
      }, { timeoutMs: 30000, intervalMs: 200, what: `${fmt} objects holding all ${want.length} bytes` });
      assert.ok(got.equals(want), `decoded ${got.length} bytes differ from the ${want.length} sent`);

      for (const key of objects.keys()) {
        const m = keyRegex(name, ext).exec(key);
        assert.ok(m, `key ${key} does not match the Firehose naming pattern for ${fmt}`);
        assert.ok([utcHourPrefix(t0), utcHourPrefix(Date.now())].includes(m[1]), `prefix of ${key}`);
      }
      if (fmt === 'GZIP') {
        const key = objects.keys().next().value;
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        assert.equal(head.ContentEncoding, 'gzip');
      }
    });
  }

  test('records of one batch are delivered in request order, in one object', async () => {
    await makeStream('js-order', 'bucket-js-order', { BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 1 } });
    const records = Array.from({ length: 500 }, (_, i) => Buffer.from(`${String(i).padStart(3, '0')};`));
    const r = await fh.send(new PutRecordBatchCommand({
      DeliveryStreamName: 'js-order', Records: records.map((Data) => ({ Data })),
    }));
    assert.equal(r.FailedPutCount, 0);
    assert.equal(r.RequestResponses.length, 500);
    const keys = await waitFor(() => listKeys(s3, 'bucket-js-order').then((k) => k.length && k),
      { what: 'the object' });
    assert.equal(keys.length, 1);
    const { body } = await getBytes(s3, 'bucket-js-order', keys[0]);
    assert.equal(body.toString(), records.map(String).join(''));
  });

  test('error types and messages', async () => {
    await makeStream('js-errors', 'bucket-js-errors', { BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 } });
    let e = await expectError(fh.send(new PutRecordCommand({
      DeliveryStreamName: 'nope', Record: { Data: Buffer.from('x') },
    })), 'ResourceNotFoundException');
    assert.ok(e instanceof ResourceNotFoundException);
    assert.equal(e.message, 'Firehose nope under account 000000000000 not found.');
    e = await expectError(fh.send(new PutRecordBatchCommand({
      DeliveryStreamName: 'nope', Records: [{ Data: Buffer.from('x') }],
    })), 'ResourceNotFoundException');
    e = await expectError(fh.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'nope' })),
      'ResourceNotFoundException');
    assert.match(e.message, /nope/);

    // 501 records: the JS SDK does not check the model's limit; the server must.
    e = await expectError(fh.send(new PutRecordBatchCommand({
      DeliveryStreamName: 'js-errors', Records: Array.from({ length: 501 }, () => ({ Data: Buffer.from('r') })),
    })), 'ValidationException');
    assert.match(e.message, /less than or equal to 500/);

    // Five 1,000,000-byte records: every record is legal, the batch exceeds 4 MiB.
    e = await expectError(fh.send(new PutRecordBatchCommand({
      DeliveryStreamName: 'js-errors', Records: Array.from({ length: 5 }, () => ({ Data: Buffer.alloc(1000000, 0x61) })),
    })), 'InvalidArgumentException');
    assert.ok(e instanceof InvalidArgumentException);

    // A record over 1,000 KiB.
    await expectError(fh.send(new PutRecordCommand({
      DeliveryStreamName: 'js-errors', Record: { Data: Buffer.alloc(1024001, 0x62) },
    })), 'ValidationException');

    // IntervalInSeconds above 900 (the JS SDK sends it; the server refuses it).
    await expectError(fh.send(new CreateDeliveryStreamCommand({
      DeliveryStreamName: 'js-bad-interval',
      ExtendedS3DestinationConfiguration: {
        RoleARN: ROLE, BucketARN: 'arn:aws:s3:::bucket-js-errors',
        BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 901 },
      },
    })), 'ValidationException');

    // Nothing of the refused puts was delivered.
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(await listKeys(s3, 'bucket-js-errors'), []);
  });
});
