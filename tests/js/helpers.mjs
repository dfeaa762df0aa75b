// Shared helpers for the JavaScript integration tests: start the real hydrant binary
// on a free loopback port (as tests/integration/conftest.py does), build AWS SDK v3
// clients pointed at it, and poll for conditions.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

import { FirehoseClient } from '@aws-sdk/client-firehose';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { S3Client, ListObjectsV2Command, GetObjectCommand } from '@aws-sdk/client-s3';

const here = path.dirname(fileURLToPath(import.meta.url));
export const HYDRANT_BIN = process.env.HYDRANT_BIN || path.resolve(here, '..', '..', 'build', 'hydrant');

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export class Hydrant {
  constructor(dataDir, extraArgs = []) {
    this.dataDir = dataDir;
    this.extraArgs = extraArgs;
    this.logPath = path.join(dataDir + '-logs', 'hydrant.log');
    fs.mkdirSync(path.dirname(this.logPath), { recursive: true });
    this.proc = null;
    this.port = null;
  }

  get endpoint() {
    return `http://127.0.0.1:${this.port}`;
  }

  // Resolves once the server printed "listening on http://HOST:PORT".
  start(port = 0) {
    const logFd = fs.openSync(this.logPath, 'a');
    this.proc = spawn(HYDRANT_BIN,
      ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', this.dataDir, ...this.extraArgs],
      { stdio: ['ignore', 'pipe', logFd] });
    fs.closeSync(logFd);
    const proc = this.proc;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('hydrant did not start in 30 s\n' + this.log())), 30000);
      const rl = readline.createInterface({ input: proc.stdout });
      rl.on('line', (line) => {
        const m = /listening on http:\/\/[^:]+:(\d+)/.exec(line);
        if (m) {
          this.port = Number(m[1]);
          clearTimeout(timer);
          resolve(this);
        }
      });
      proc.on('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`hydrant exited (${code ?? sig}) before listening\n` + this.log()));
      });
    });
  }

  log() {
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  // SIGTERM, then SIGKILL after 20 s.
  async stop() {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20000);
    await exited;
    clearTimeout(timer);
  }

  firehose() {
    return new FirehoseClient({ endpoint: this.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  }

  // The Kinesis client speaks HTTP/2 by default; hydrant serves HTTP/1.1.
  kinesis() {
    return new KinesisClient({ endpoint: this.endpoint, region: 'us-east-1', credentials, maxAttempts: 1,
      requestHandler: new NodeHttpHandler() });
  }

  s3() {
    return new S3Client({ endpoint: this.endpoint, region: 'us-east-1', credentials, forcePathStyle: true,
      maxAttempts: 1 });
  }
}

// A fresh data folder under the OS temp dir, and a started server on it.
export async function startHydrant(extraArgs = []) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'hydrant-js-'));
  return new Hydrant(path.join(base, 'data'), extraArgs).start();
}

// Polls fn() until it returns a truthy value; throws after timeoutMs.
export async function waitFor(fn, { timeoutMs = 30000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function listKeys(s3, bucket, prefix = '') {
  const keys = [];
  let token;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of r.Contents ?? []) keys.push(o.Key);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function getBytes(s3, bucket, key) {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { body: Buffer.from(await r.Body.transformToByteArray()), head: r };
}

// Independent decoders outside Node: `unzip -p` for ZIP, Debian's python3-snappy for the
// two Snappy formats (with python3-crc32c standing in for its broken CRC helper on 3.11).
export function unzipP(bytes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hydrant-zip-'));
  const file = path.join(dir, 'o.zip');
  fs.writeFileSync(file, bytes);
  try {
    const list = execFileSync('unzip', ['-Z1', file]).toString().split('\n').filter(Boolean);
    const data = execFileSync('unzip', ['-p', file], { maxBuffer: 1 << 28 });
    return { entries: list, data };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const SNAPPY_PY = `
import sys, snappy, snappy.hadoop_snappy, snappy.snappy as impl
try:
    impl._crc32c(b"a")
except SystemError:
    import crc32c
    impl._crc32c = crc32c.crc32c
data = sys.stdin.buffer.read()
if sys.argv[1] == "hadoop":
    d = snappy.hadoop_snappy.StreamDecompressor()
else:
    d = snappy.StreamDecompressor()
out = d.decompress(data)
d.flush()
sys.stdout.buffer.write(out)
`;

export function snappyDecode(bytes, hadoop) {
  return execFileSync('/usr/bin/python3', ['-c', SNAPPY_PY, hadoop ? 'hadoop' : 'framed'],
    { input: bytes, maxBuffer: 1 << 28 });
}
