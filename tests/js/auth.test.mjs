// [auth] mode = "sigv4" with the AWS SDK for JavaScript v3: the right keys work
// (Firehose and S3, including an upload the SDK streams), wrong and unknown keys
// get AWS's errors and write nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { FirehoseClient, ListDeliveryStreamsCommand, CreateDeliveryStreamCommand } from '@aws-sdk/client-firehose';
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';

import { Hydrant, listKeys } from './helpers.mjs';

const KEY = 'AKIAHYDRANTJSADMIN01';
const SECRET = 'jsAdminSecret/0123456789abcdefghijklmnop';

let h;

function clients(accessKeyId, secretAccessKey) {
  const credentials = { accessKeyId, secretAccessKey };
  return {
    firehose: new FirehoseClient({ endpoint: h.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 }),
    s3: new S3Client({ endpoint: h.endpoint, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1 }),
  };
}

async function rejected(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail('the call succeeded');
}

before(async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'hydrant-js-auth-'));
  const cfg = path.join(base, 'hydrant.toml');
  fs.writeFileSync(cfg, `[auth]\nmode = "sigv4"\n\n[[auth.users]]\nname = "admin"\n` +
    `access_key_id = "${KEY}"\nsecret_access_key = "${SECRET}"\nroot = true\n`);
  h = await new Hydrant(path.join(base, 'data'), ['--config', cfg]).start();
});

after(async () => {
  await h.stop();
});

test('the right keys work for Firehose and S3', async () => {
  const { firehose, s3 } = clients(KEY, SECRET);
  await s3.send(new CreateBucketCommand({ Bucket: 'jsauth' }));
  const body = Buffer.alloc(3 << 20, 7);
  await s3.send(new PutObjectCommand({ Bucket: 'jsauth', Key: 'obj.bin', Body: body }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'jsauth', Key: 'obj.bin' }));
  assert.deepEqual(Buffer.from(await got.Body.transformToByteArray()), body);
  // A stream body, framed as the SDK chooses.
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hydrant-js-')), 'f.bin');
  fs.writeFileSync(file, Buffer.alloc(200000, 3));
  await s3.send(new PutObjectCommand({ Bucket: 'jsauth', Key: 'stream.bin', Body: fs.createReadStream(file),
    ContentLength: 200000 }));
  const s = await s3.send(new GetObjectCommand({ Bucket: 'jsauth', Key: 'stream.bin' }));
  assert.equal(Buffer.from(await s.Body.transformToByteArray()).length, 200000);
  const r = await firehose.send(new ListDeliveryStreamsCommand({}));
  assert.deepEqual(r.DeliveryStreamNames, []);
});

test('a wrong secret and an unknown key are refused as AWS refuses them', async () => {
  const wrong = clients(KEY, 'not-the-secret-not-the-secret-0000');
  let e = await rejected(wrong.firehose.send(new ListDeliveryStreamsCommand({})));
  assert.equal(e.name, 'InvalidSignatureException');
  assert.equal(e.$metadata.httpStatusCode, 400);
  e = await rejected(wrong.firehose.send(new CreateDeliveryStreamCommand({
    DeliveryStreamName: 'never', DeliveryStreamType: 'DirectPut',
    ExtendedS3DestinationConfiguration: { RoleARN: 'arn:aws:iam::000000000000:role/r', BucketARN: 'arn:aws:s3:::jsauth' },
  })));
  assert.equal(e.name, 'InvalidSignatureException');
  e = await rejected(wrong.s3.send(new PutObjectCommand({ Bucket: 'jsauth', Key: 'wrong.txt', Body: 'x' })));
  assert.equal(e.name, 'SignatureDoesNotMatch');
  assert.equal(e.$metadata.httpStatusCode, 403);

  const unknown = clients('AKIANOSUCHKEYJS00000', SECRET);
  e = await rejected(unknown.firehose.send(new ListDeliveryStreamsCommand({})));
  assert.equal(e.name, 'UnrecognizedClientException');
  assert.equal(e.message, 'The security token included in the request is invalid.');
  e = await rejected(unknown.s3.send(new PutObjectCommand({ Bucket: 'jsauth', Key: 'unknown.txt', Body: 'x' })));
  assert.equal(e.name, 'InvalidAccessKeyId');

  const { firehose, s3 } = clients(KEY, SECRET);
  assert.deepEqual((await firehose.send(new ListDeliveryStreamsCommand({}))).DeliveryStreamNames, []);
  const keys = await listKeys(s3, 'jsauth');
  assert.ok(!keys.includes('wrong.txt') && !keys.includes('unknown.txt'), keys.join(','));
});
