// The S3 API end to end through botocore, an independent client: every
// operation a boto3 session makes, parsed as boto3 parses it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "server/s3_api_test_util.h"

namespace hydrant::server {
namespace {

// --- botocore as an independent client ---------------------------------------------------
// boto3 serialises real requests and parses the replies; a before-send hook hands
// each request to this process over a pipe instead of a socket. The endpoint is
// https:// so botocore uses aws-chunked uploads with a CRC32 trailer, as it does
// against AWS.

constexpr char kBotoScript[] = R"PY(
import io, sys, zlib, base64
from urllib.parse import urlsplit
import boto3
from botocore.config import Config
from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.exceptions import ClientError

inp = sys.stdin.buffer
out = sys.stdout.buffer
seen = []

class Raw:
    def __init__(self, b): self._b = io.BytesIO(b)
    def stream(self, amt=65536, decode_content=False):
        while True:
            c = self._b.read(amt)
            if not c: return
            yield c
    def read(self, amt=None, **kw): return self._b.read() if amt is None else self._b.read(amt)
    def close(self): pass

def send(request, **kw):
    u = urlsplit(request.url)
    target = u.path + ('?' + u.query if u.query else '')
    body = request.body
    if body is None: data = b''
    elif isinstance(body, (bytes, bytearray)): data = bytes(body)
    elif isinstance(body, str): data = body.encode()
    else: data = body.read()
    hdrs = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()]
    seen.append((request.method, dict((k.lower(), v) for k, v in hdrs)))
    msg = "%s\n%s\n%d\n" % (request.method, target, len(hdrs)) + "".join("%s\t%s\n" % kv for kv in hdrs) + "%d\n" % len(data)
    out.write(msg.encode('utf-8') + data)
    out.flush()
    status = int(inp.readline())
    headers = HeadersDict()
    for _ in range(int(inp.readline())):
        k, v = inp.readline().decode('utf-8').rstrip('\n').split('\t', 1)
        headers[k] = v
    body = inp.read(int(inp.readline()))
    return AWSResponse(request.url, status, headers, Raw(body))

s3 = boto3.client('s3', endpoint_url='https://s3.hydrant.test', region_name='us-east-1',
                  aws_access_key_id='test', aws_secret_access_key='test',
                  config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
s3.meta.events.register('before-send.s3', send)

def code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']
    raise AssertionError('no error from %s' % fn)

B = 'boto-bucket'
s3.create_bucket(Bucket=B)
assert code(s3.create_bucket, Bucket=B) == ('BucketAlreadyOwnedByYou', 409)
assert code(s3.create_bucket, Bucket='Bad_Name') == ('InvalidBucketName', 400)
s3.head_bucket(Bucket=B)
assert code(s3.head_bucket, Bucket='missing-bucket') == ('404', 404)
assert s3.get_bucket_location(Bucket=B)['LocationConstraint'] is None
assert [b['Name'] for b in s3.list_buckets()['Buckets']] == [B]

keys = ['a b+c/\u00fc.txt', 'dir/one', 'dir/two', 'dir/sub/three', 'top', 'x&y<z>',
        "quote'\"", 'sp ace/', 'pct%20literal', 'plus+', '\u65e5\u672c/\u8a9e']
for k in keys:
    s3.put_object(Bucket=B, Key=k, Body=k.encode() * 3, Metadata={'origin': 'boto'},
                  ContentType='text/plain')
big = bytes(range(256)) * 5000
s3.put_object(Bucket=B, Key='big', Body=io.BytesIO(big))
puts = [h for m, h in seen if m == 'PUT' and 'x-amz-decoded-content-length' in h]
assert puts and all(h.get('x-amz-content-sha256', '').startswith('STREAMING-') for h in puts), seen[-1]

r = s3.get_object(Bucket=B, Key=keys[0])
assert r['Body'].read() == keys[0].encode() * 3
assert r['Metadata'] == {'origin': 'boto'}, r['Metadata']
assert r['ContentType'] == 'text/plain'
assert r['ETag'] == '"%s"' % __import__('hashlib').md5(keys[0].encode() * 3).hexdigest()
assert s3.get_object(Bucket=B, Key='big')['Body'].read() == big
r = s3.get_object(Bucket=B, Key='big', Range='bytes=1000-1999')
assert r['ContentRange'] == 'bytes 1000-1999/%d' % len(big), r['ContentRange']
assert r['Body'].read() == big[1000:2000]
assert code(s3.get_object, Bucket=B, Key='big', Range='bytes=9999999-') == ('InvalidRange', 416)
h = s3.head_object(Bucket=B, Key='big')
assert h['ContentLength'] == len(big), h
assert code(s3.head_object, Bucket=B, Key='nope') == ('404', 404)
assert code(s3.get_object, Bucket=B, Key='nope') == ('NoSuchKey', 404)
assert code(s3.get_object, Bucket='missing-bucket', Key='nope') == ('NoSuchBucket', 404)
assert code(s3.delete_bucket, Bucket=B) == ('BucketNotEmpty', 409)

# Multipart uploads, by hand and through s3transfer.
import hashlib
from boto3.s3.transfer import TransferConfig
MiB = 1024 * 1024
parts = [bytes([i]) * (5 * MiB) + b'x' * i for i in (1, 2)] + [b'the tail']
mp = s3.create_multipart_upload(Bucket=B, Key='mp/obj', ContentType='text/x-mp', Metadata={'m': '1'})
uid = mp['UploadId']
etags = []
for i, p in enumerate(parts):
    r = s3.upload_part(Bucket=B, Key='mp/obj', UploadId=uid, PartNumber=i + 1, Body=p)
    assert r['ETag'] == '"%s"' % hashlib.md5(p).hexdigest(), r
    etags.append(r['ETag'])
chunked = [h for m, h in seen[-3:] if 'x-amz-decoded-content-length' in h]
assert len(chunked) == 3, seen[-1]   # the parts came aws-chunked
lp = s3.list_parts(Bucket=B, Key='mp/obj', UploadId=uid, MaxParts=2)
assert [p['PartNumber'] for p in lp['Parts']] == [1, 2] and lp['IsTruncated'], lp
assert lp['NextPartNumberMarker'] == 2
lp = s3.list_parts(Bucket=B, Key='mp/obj', UploadId=uid, PartNumberMarker=2)
assert [(p['PartNumber'], p['Size'], p['ETag']) for p in lp['Parts']] == [(3, len(parts[2]), etags[2])], lp
ups = s3.list_multipart_uploads(Bucket=B)
assert [(u['Key'], u['UploadId']) for u in ups['Uploads']] == [('mp/obj', uid)], ups
assert code(s3.complete_multipart_upload, Bucket=B, Key='mp/obj', UploadId=uid,
            MultipartUpload={'Parts': [{'PartNumber': 2, 'ETag': etags[1]}, {'PartNumber': 1, 'ETag': etags[0]}]}) == ('InvalidPartOrder', 400)
assert code(s3.complete_multipart_upload, Bucket=B, Key='mp/obj', UploadId=uid,
            MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': etags[1]}]}) == ('InvalidPart', 400)
assert code(s3.complete_multipart_upload, Bucket=B, Key='mp/obj', UploadId=uid,
            MultipartUpload={'Parts': [{'PartNumber': 3, 'ETag': etags[2]}, {'PartNumber': 4, 'ETag': etags[2]}]}) == ('InvalidPart', 400)
r = s3.complete_multipart_upload(Bucket=B, Key='mp/obj', UploadId=uid,
                                 MultipartUpload={'Parts': [{'PartNumber': i + 1, 'ETag': e} for i, e in enumerate(etags)]})
want_etag = '"%s-3"' % hashlib.md5(b''.join(hashlib.md5(p).digest() for p in parts)).hexdigest()
assert r['ETag'] == want_etag, (r['ETag'], want_etag)
assert r['Key'] == 'mp/obj' and r['Bucket'] == B
g = s3.get_object(Bucket=B, Key='mp/obj')
assert g['Body'].read() == b''.join(parts)
assert g['ETag'] == want_etag and g['ContentType'] == 'text/x-mp' and g['Metadata'] == {'m': '1'}, g
g = s3.get_object(Bucket=B, Key='mp/obj', PartNumber=2)
assert g['Body'].read() == parts[1] and g['PartsCount'] == 3, g
assert code(s3.get_object, Bucket=B, Key='mp/obj', PartNumber=4) == ('InvalidPartNumber', 416)
assert code(s3.upload_part, Bucket=B, Key='mp/obj', UploadId=uid, PartNumber=1, Body=b'x') == ('NoSuchUpload', 404)
assert s3.list_multipart_uploads(Bucket=B).get('Uploads', []) == []
small = s3.create_multipart_upload(Bucket=B, Key='small')['UploadId']
e1 = s3.upload_part(Bucket=B, Key='small', UploadId=small, PartNumber=1, Body=b'a' * 100)['ETag']
e2 = s3.upload_part(Bucket=B, Key='small', UploadId=small, PartNumber=2, Body=b'b')['ETag']
assert code(s3.complete_multipart_upload, Bucket=B, Key='small', UploadId=small,
            MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': e1}, {'PartNumber': 2, 'ETag': e2}]}) == ('EntityTooSmall', 400)
s3.abort_multipart_upload(Bucket=B, Key='small', UploadId=small)
assert code(s3.abort_multipart_upload, Bucket=B, Key='small', UploadId=small) == ('NoSuchUpload', 404)
assert code(s3.list_parts, Bucket=B, Key='small', UploadId=small) == ('NoSuchUpload', 404)
assert code(s3.head_object, Bucket=B, Key='small') == ('404', 404)
cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, use_threads=False)
blob = hashlib.sha256(b'seed').digest() * (11 * MiB // 32 + 7)
s3.upload_fileobj(io.BytesIO(blob), B, 'transfer', Config=cfg)
assert s3.head_object(Bucket=B, Key='transfer')['ETag'].endswith('-3"')
out_buf = io.BytesIO()
s3.download_fileobj(B, 'transfer', out_buf, Config=cfg)
assert out_buf.getvalue() == blob
for k in ('mp/obj', 'transfer'):
    s3.delete_object(Bucket=B, Key=k)

want = sorted(keys + ['big'], key=lambda k: k.encode())
got = [o['Key'] for p in s3.get_paginator('list_objects_v2').paginate(Bucket=B, PaginationConfig={'PageSize': 3}) for o in p.get('Contents', [])]
assert got == want, (got, want)
got = [o['Key'] for p in s3.get_paginator('list_objects').paginate(Bucket=B, PaginationConfig={'PageSize': 4}) for o in p.get('Contents', [])]
assert got == want, (got, want)
r = s3.list_objects_v2(Bucket=B, Delimiter='/', Prefix='dir/')
assert [o['Key'] for o in r['Contents']] == ['dir/one', 'dir/two'], r
assert [p['Prefix'] for p in r['CommonPrefixes']] == ['dir/sub/'], r
assert r['KeyCount'] == 3 and r['Prefix'] == 'dir/' and r['Delimiter'] == '/'
r = s3.list_objects_v2(Bucket=B, Delimiter='/')
assert [p['Prefix'] for p in r['CommonPrefixes']] == ['a b+c/', 'dir/', 'sp ace/', '\u65e5\u672c/'], r['CommonPrefixes']
r = s3.list_objects_v2(Bucket=B, StartAfter='top', FetchOwner=True)
assert [o['Key'] for o in r['Contents']] == ['x&y<z>', '\u65e5\u672c/\u8a9e'], r
assert r['Contents'][0]['Owner']['DisplayName'] == 'hydrant'
assert r['Contents'][0]['Size'] == len('x&y<z>') * 3
assert r['Contents'][0]['LastModified'].year >= 2024

c = s3.copy_object(Bucket=B, Key='copied', CopySource={'Bucket': B, 'Key': keys[0]})
assert c['CopyObjectResult']['ETag'] == s3.head_object(Bucket=B, Key=keys[0])['ETag']

r = s3.delete_objects(Bucket=B, Delete={'Objects': [{'Key': k} for k in want + ['copied']]})
assert sorted(d['Key'] for d in r['Deleted']) == sorted(want + ['copied']), r
assert s3.list_objects_v2(Bucket=B)['KeyCount'] == 0
s3.delete_object(Bucket=B, Key='already-gone')
s3.delete_bucket(Bucket=B)
assert s3.list_buckets()['Buckets'] == []
sys.stderr.write('boto3 scenario passed (%d requests)\n' % len(seen))
)PY";

bool HaveBoto3() { return std::system("python3 -c 'import boto3' >/dev/null 2>&1") == 0; }

bool ReadLine(FILE* f, std::string* line) {
  line->clear();
  int ch;
  while ((ch = fgetc(f)) != EOF) {
    if (ch == '\n') return true;
    line->push_back(static_cast<char>(ch));
  }
  return false;
}

TEST_F(S3ApiTest, Boto3RoundTrips) {
  if (!HaveBoto3()) GTEST_SKIP() << "python3 with boto3 is not installed";
  std::string script = dir_.Sub("scenario.py");
  std::ofstream(script) << kBotoScript;
  int to_py[2], from_py[2];
  ASSERT_EQ(::pipe(to_py), 0);
  ASSERT_EQ(::pipe(from_py), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(to_py[0], 0);
    ::dup2(from_py[1], 1);
    ::close(to_py[1]);
    ::close(from_py[0]);
    ::setenv("AWS_CONFIG_FILE", "/dev/null", 1);
    ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
    ::execlp("python3", "python3", script.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(to_py[0]);
  ::close(from_py[1]);
  FILE* in = ::fdopen(from_py[0], "r");
  FILE* out = ::fdopen(to_py[1], "w");
  int requests = 0;
  std::string line;
  while (ReadLine(in, &line)) {
    http::Request req;
    req.method = line;
    ReadLine(in, &req.target);
    ReadLine(in, &line);
    int n = std::stoi(line);
    for (int i = 0; i < n; ++i) {
      ReadLine(in, &line);
      size_t tab = line.find('\t');
      req.headers.emplace_back(line.substr(0, tab), line.substr(tab + 1));
    }
    ReadLine(in, &line);
    req.body.resize(std::stoul(line));
    ASSERT_EQ(fread(req.body.data(), 1, req.body.size(), in), req.body.size());
    http::Response resp;
    api_->Handle(req, &resp);
    ++requests;
    // Do what the listener does: file slices become the body, HEAD has none.
    std::string body = req.method == "HEAD" ? "" : BodyOf(resp);
    uint64_t length = resp.content_length_override ? *resp.content_length_override : body.size();
    resp.headers.emplace_back("Content-Length", std::to_string(length));
    std::string msg =
        std::to_string(resp.status) + "\n" + std::to_string(resp.headers.size()) + "\n";
    for (const auto& [k, v] : resp.headers) msg += k + "\t" + v + "\n";
    msg += std::to_string(body.size()) + "\n";
    msg += body;
    fwrite(msg.data(), 1, msg.size(), out);
    fflush(out);
  }
  fclose(out);
  fclose(in);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the boto3 scenario failed (see its traceback above)";
  EXPECT_GT(requests, 30);
}

}  // namespace
}  // namespace hydrant::server
