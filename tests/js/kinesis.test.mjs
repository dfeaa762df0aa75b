// hydrant's Kinesis Data Streams API and a Kinesis-sourced delivery stream, driven
// with the AWS SDK for JavaScript v3 (client-kinesis, client-firehose, client-s3).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  CreateStreamCommand, DescribeStreamSummaryCommand, ListShardsCommand, PutRecordCommand,
  PutRecordsCommand, GetShardIteratorCommand, GetRecordsCommand, SplitShardCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { CreateDeliveryStreamCommand } from '@aws-sdk/client-firehose';
import { CreateBucketCommand } from '@aws-sdk/client-s3';

import { startHydrant, waitFor, listKeys, getBytes } from './helpers.mjs';

const ROLE = 'arn:aws:iam::000000000000:role/firehose';
const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => new TextDecoder().decode(b);

describe('Kinesis with the JavaScript SDK v3', () => {
  let h;
  before(async () => { h = await startHydrant(); });
  after(async () => { await h.stop(); });

  async function readShard(k, stream, shardId) {
    let it = (await k.send(new GetShardIteratorCommand({
      StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    const out = [];
    let r;
    while (it) {
      r = await k.send(new GetRecordsCommand({ ShardIterator: it }));
      out.push(...r.Records);
      if (r.Records.length === 0) break;
      it = r.NextShardIterator;
    }
    return { records: out, last: r };
  }

  test('puts and reads back, with timestamps and binary data intact', async () => {
    const k = h.kinesis();
    await k.send(new CreateStreamCommand({ StreamName: 'js', ShardCount: 2 }));
    const summary = (await k.send(new DescribeStreamSummaryCommand({ StreamName: 'js' }))).StreamDescriptionSummary;
    assert.equal(summary.StreamStatus, 'ACTIVE');
    assert.equal(summary.OpenShardCount, 2);
    assert.ok(summary.StreamCreationTimestamp instanceof Date);
    const binary = Uint8Array.from([0, 255, 1, 254, 10]);
    const one = await k.send(new PutRecordCommand({ StreamName: 'js', PartitionKey: 'a', Data: binary }));
    const many = await k.send(new PutRecordsCommand({ StreamName: 'js', Records: Array.from({ length: 20 },
      (_, i) => ({ PartitionKey: `p${i}`, Data: enc(`r${i}`) })) }));
    assert.equal(many.FailedRecordCount, 0);
    assert.equal(many.Records.length, 20);
    const shards = (await k.send(new ListShardsCommand({ StreamName: 'js' }))).Shards;
    assert.deepEqual(shards.map((s) => s.ShardId), ['shardId-000000000000', 'shardId-000000000001']);
    const all = [];
    for (const s of shards) all.push(...(await readShard(k, 'js', s.ShardId)).records);
    assert.equal(all.length, 21);
    const first = all.find((r) => r.SequenceNumber === one.SequenceNumber);
    assert.deepEqual([...first.Data], [...binary]);
    assert.ok(first.ApproximateArrivalTimestamp instanceof Date);
    assert.ok(Math.abs(first.ApproximateArrivalTimestamp.getTime() - Date.now()) < 60000);
    assert.deepEqual(all.filter((r) => r !== first).map((r) => dec(r.Data)).sort(),
      Array.from({ length: 20 }, (_, i) => `r${i}`).sort());
  });

  test('a split ends the parent with its children named', async () => {
    const k = h.kinesis();
    await k.send(new CreateStreamCommand({ StreamName: 'js-split', ShardCount: 1 }));
    await k.send(new PutRecordCommand({ StreamName: 'js-split', PartitionKey: 'a', Data: enc('before') }));
    await k.send(new SplitShardCommand({ StreamName: 'js-split', ShardToSplit: 'shardId-000000000000',
      NewStartingHashKey: (2n ** 127n).toString() }));
    const { records, last } = await readShard(k, 'js-split', 'shardId-000000000000');
    assert.deepEqual(records.map((r) => dec(r.Data)), ['before']);
    assert.equal(last.NextShardIterator, undefined);
    assert.deepEqual(last.ChildShards.map((c) => c.ShardId).sort(),
      ['shardId-000000000001', 'shardId-000000000002']);
  });

  test('errors come back as the SDK\'s exception classes', async () => {
    const k = h.kinesis();
    await assert.rejects(k.send(new DescribeStreamSummaryCommand({ StreamName: 'missing' })),
      (e) => e instanceof ResourceNotFoundException &&
        e.message === 'Stream missing under account 000000000000 not found.');
  });

  test('a delivery stream reads the Kinesis stream into the bucket', async () => {
    const k = h.kinesis();
    await k.send(new CreateStreamCommand({ StreamName: 'js-src', ShardCount: 2 }));
    await h.s3().send(new CreateBucketCommand({ Bucket: 'js-kinesis' }));
    await h.firehose().send(new CreateDeliveryStreamCommand({
      DeliveryStreamName: 'js-from-kinesis', DeliveryStreamType: 'KinesisStreamAsSource',
      KinesisStreamSourceConfiguration: {
        KinesisStreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/js-src', RoleARN: ROLE },
      ExtendedS3DestinationConfiguration: { BucketARN: 'arn:aws:s3:::js-kinesis', RoleARN: ROLE,
        BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 1 } } }));
    await k.send(new PutRecordsCommand({ StreamName: 'js-src', Records: Array.from({ length: 30 },
      (_, i) => ({ PartitionKey: `k${i}`, Data: enc(`line-${i}\n`) })) }));
    const want = Array.from({ length: 30 }, (_, i) => `line-${i}`).sort();
    await waitFor(async () => {
      const s3 = h.s3();
      let text = '';
      for (const key of await listKeys(s3, 'js-kinesis')) text += (await getBytes(s3, 'js-kinesis', key)).body;
      return JSON.stringify(text.split('\n').filter(Boolean).sort()) === JSON.stringify(want);
    }, { what: 'every record in the bucket' });
  });
});
