"""[auth] mode = "sigv4": every request's AWS Signature Version 4 verified as AWS does.

hydrant runs with a TOML config holding a root user and a temporary key (a key with
a session token); the clients are the real ones (boto3, the AWS CLI, curl
--aws-sigv4) plus hand-built aws-chunked uploads whose chunk signatures follow the
AWS documentation. Every refused request must get AWS's exact error and write
nothing (checked by reading the bucket or the stream afterwards).
"""
import datetime
import hashlib
import hmac
import http.client
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from unittest import mock

import boto3
import botocore
import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import make_delivery_role, s3_dest, start_with_config, wait_for

KEY = "AKIAHYDRANTADMIN0001"
SECRET = "adminSecretKey/0123456789abcdefghijklmn"
TEMP_KEY = "ASIAHYDRANTTEMP00001"
TEMP_SECRET = "tempSecretKey/0123456789abcdefghijklmno"
TEMP_TOKEN = "FwoGZXIvYXdzEXAMPLEsessiontoken0123456789"

CONFIG = """
[auth]
mode = "sigv4"

[[auth.users]]
name = "admin"
access_key_id = "%s"
secret_access_key = "%s"
root = true

[[auth.users]]
name = "temporary"
access_key_id = "%s"
secret_access_key = "%s"
session_token = "%s"
policy = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
""" % (KEY, SECRET, TEMP_KEY, TEMP_SECRET, TEMP_TOKEN)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    h = start_with_config(tmp_path_factory.mktemp("sigv4"), CONFIG)
    make_delivery_role(client(h, "iam"))  # roles are enforced in sigv4 mode
    yield h
    h.stop()


def client(h, service, key=KEY, secret=SECRET, token=None):
    return boto3.client(
        service, endpoint_url=h.endpoint, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
        config=Config(parameter_validation=False,
                      retries={"total_max_attempts": 1, "mode": "standard"},
                      s3={"addressing_style": "path"}))


def error_of(fn, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    return e.value.response


def ensure_bucket(h, name):
    s3 = client(h, "s3")
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as e:
        assert e.response["Error"]["Code"] == "BucketAlreadyOwnedByYou"
    return s3


def keys_in(h, bucket):
    return [o["Key"] for o in client(h, "s3").list_objects_v2(Bucket=bucket).get("Contents", [])]


# ---------------------------------------------------------------- the right keys work


def test_boto3_with_the_right_keys_firehose_s3_logs(server):
    s3 = ensure_bucket(server, "right")
    s3.put_object(Bucket="right", Key="a.txt", Body=b"hello")
    assert s3.get_object(Bucket="right", Key="a.txt")["Body"].read() == b"hello"
    fh = client(server, "firehose")
    fh.create_delivery_stream(DeliveryStreamName="right", DeliveryStreamType="DirectPut",
                              ExtendedS3DestinationConfiguration=s3_dest(
                                  "right", Prefix="fh/",
                                  BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 1}))
    wait_for(lambda: fh.describe_delivery_stream(DeliveryStreamName="right")
             ["DeliveryStreamDescription"]["DeliveryStreamStatus"] == "ACTIVE")
    r = fh.put_record_batch(DeliveryStreamName="right",
                            Records=[{"Data": b"r%d\n" % i} for i in range(10)])
    assert r["FailedPutCount"] == 0
    wait_for(lambda: [k for k in keys_in(server, "right") if k.startswith("fh/")],
             what="delivery")
    logs = client(server, "logs")
    logs.create_log_group(logGroupName="right")
    assert [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]] == ["right"]
    # Temporary credentials with their token.
    tmp = client(server, "s3", TEMP_KEY, TEMP_SECRET, TEMP_TOKEN)
    tmp.put_object(Bucket="right", Key="temp.txt", Body=b"t")
    assert client(server, "firehose", TEMP_KEY, TEMP_SECRET, TEMP_TOKEN) \
        .list_delivery_streams()["DeliveryStreamNames"] == ["right"]


def test_multipart_and_big_uploads(server):
    s3 = ensure_bucket(server, "big")
    data = os.urandom(20 << 20)
    cfg = boto3.s3.transfer.TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20)
    import io
    s3.upload_fileobj(io.BytesIO(data), "big", "multi.bin", Config=cfg)
    head = s3.head_object(Bucket="big", Key="multi.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-3"')  # three parts
    assert s3.get_object(Bucket="big", Key="multi.bin")["Body"].read() == data
    s3.put_object(Bucket="big", Key="single.bin", Body=data[: 9 << 20])
    assert s3.get_object(Bucket="big", Key="single.bin")["Body"].read() == data[: 9 << 20]


def test_aws_cli(server, tmp_path):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_DEFAULT_REGION="us-east-1")
    ensure_bucket(server, "cli")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 << 20))
    def aws(*args, env=env):
        return subprocess.run(["aws", "--endpoint-url", server.endpoint, *args],
                              env=env, capture_output=True, text=True, timeout=120)
    r = aws("s3", "cp", str(big), "s3://cli/big.bin")
    assert r.returncode == 0, r.stderr
    assert client(server, "s3").head_object(Bucket="cli", Key="big.bin")["ContentLength"] == 12 << 20
    r = aws("firehose", "list-delivery-streams")
    assert r.returncode == 0, r.stderr
    r = aws("logs", "describe-log-groups")
    assert r.returncode == 0, r.stderr
    wrong = dict(env, AWS_SECRET_ACCESS_KEY="not-the-secret-at-all-0000000000")
    r = aws("s3", "cp", str(big), "s3://cli/wrong.bin", env=wrong)
    assert r.returncode != 0
    assert "SignatureDoesNotMatch" in r.stderr or "403" in r.stderr, r.stderr
    r = aws("firehose", "list-delivery-streams", env=wrong)
    assert r.returncode != 0 and "InvalidSignatureException" in r.stderr, r.stderr
    assert "wrong.bin" not in keys_in(server, "cli")


def curl(*args):
    r = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", *args],
                       capture_output=True, text=True, timeout=30)
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body


def test_curl_aws_sigv4(server):
    code, body = curl("--aws-sigv4", "aws:amz:us-east-1:firehose", "--user", KEY + ":" + SECRET,
                      "-H", "X-Amz-Target: Firehose_20150804.ListDeliveryStreams",
                      "-H", "Content-Type: application/x-amz-json-1.1", "-d", "{}",
                      server.endpoint + "/")
    assert code == 200, body
    assert "DeliveryStreamNames" in body
    code, body = curl("--aws-sigv4", "aws:amz:us-east-1:firehose", "--user", KEY + ":wrong",
                      "-H", "X-Amz-Target: Firehose_20150804.ListDeliveryStreams",
                      "-H", "Content-Type: application/x-amz-json-1.1", "-d", "{}",
                      server.endpoint + "/")
    assert code == 400
    assert '"__type":"InvalidSignatureException"' in body


# ---------------------------------------------------------------- refused requests


def test_wrong_secret_and_unknown_key(server):
    ensure_bucket(server, "refused")
    bad = client(server, "s3", secret="wrong-secret-wrong-secret-000000")
    e = error_of(bad.put_object, Bucket="refused", Key="w.txt", Body=b"x")
    assert e["Error"]["Code"] == "SignatureDoesNotMatch"
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e["Error"]["Message"] == ("The request signature we calculated does not match the "
                                     "signature you provided. Check your key and signing method.")
    assert e["Error"]["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert "wrong-secret" not in str(e) and SECRET not in str(e)
    e = error_of(client(server, "s3", key="AKIANOSUCHKEY0000000").list_buckets)
    assert e["Error"]["Code"] == "InvalidAccessKeyId"
    assert e["Error"]["Message"] == "The AWS Access Key Id you provided does not exist in our records."
    assert e["Error"]["AWSAccessKeyId"] == "AKIANOSUCHKEY0000000"
    e = error_of(client(server, "firehose", secret="wrong").list_delivery_streams)
    assert e["Error"]["Code"] == "InvalidSignatureException"
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 400
    e = error_of(client(server, "firehose", key="AKIANOSUCHKEY0000000").list_delivery_streams)
    assert e["Error"]["Code"] == "UnrecognizedClientException"
    assert e["Error"]["Message"] == "The security token included in the request is invalid."
    e = error_of(client(server, "logs", secret="wrong").describe_log_groups)
    assert e["Error"]["Code"] == "InvalidSignatureException"
    fh = client(server, "firehose", secret="wrong")
    error_of(fh.create_delivery_stream, DeliveryStreamName="never", DeliveryStreamType="DirectPut",
             ExtendedS3DestinationConfiguration=s3_dest("refused"))
    assert "never" not in client(server, "firehose").list_delivery_streams()["DeliveryStreamNames"]
    assert keys_in(server, "refused") == []


def test_unsigned_requests(server):
    with urllib.request.urlopen(server.endpoint + "/health") as r:
        assert r.status == 200
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(server.endpoint + "/")
    assert e.value.code == 403
    assert b"<Code>AccessDenied</Code>" in e.value.read()
    req = urllib.request.Request(server.endpoint + "/", data=b"{}", headers={
        "X-Amz-Target": "Firehose_20150804.ListDeliveryStreams",
        "Content-Type": "application/x-amz-json-1.1"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 400
    assert e.value.read() == (b'{"__type":"MissingAuthenticationTokenException",'
                              b'"message":"Missing Authentication Token"}')
    req = urllib.request.Request(server.endpoint + "/",
                                 data=b"Action=GetCallerIdentity&Version=2011-06-15",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 403
    body = e.value.read().decode()
    assert "<Error><Type>Sender</Type><Code>MissingAuthenticationToken</Code>" in body


def send(h, method, path, headers, body):
    conn = http.client.HTTPConnection("127.0.0.1", h.port, timeout=60)
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    out = r.status, r.read()
    conn.close()
    return out


def signed(h, service, method, path, body, headers, key=KEY, secret=SECRET, token=None):
    req = AWSRequest(method=method, url=h.endpoint + path, data=body, headers=dict(headers))
    SigV4Auth(Credentials(key, secret, token), service, "us-east-1").add_auth(req)
    return dict(req.headers.items())


def test_tampered_bodies(server):
    ensure_bucket(server, "tamper")
    body = b'{"DeliveryStreamName":"none"}'
    headers = signed(server, "firehose", "POST", "/", body, {
        "X-Amz-Target": "Firehose_20150804.DescribeDeliveryStream",
        "Content-Type": "application/x-amz-json-1.1"})
    status, out = send(server, "POST", "/", headers, body)
    assert status == 400 and b"ResourceNotFoundException" in out  # the original is fine
    status, out = send(server, "POST", "/", headers, body.replace(b"none", b"nope"))
    assert status == 400 and b'"__type":"InvalidSignatureException"' in out
    # S3: the body no longer matches its signed x-amz-content-sha256.
    data = b"original object"
    sha = hashlib.sha256(data).hexdigest()
    headers = signed(server, "s3", "PUT", "/tamper/obj", data, {"X-Amz-Content-SHA256": sha})
    status, out = send(server, "PUT", "/tamper/obj", headers, b"tampered object")
    assert status == 400, out
    assert b"<Code>XAmzContentSHA256Mismatch</Code>" in out
    assert ("<ClientComputedContentSHA256>%s</ClientComputedContentSHA256>" % sha).encode() in out
    assert keys_in(server, "tamper") == []
    status, out = send(server, "PUT", "/tamper/obj", headers, data)
    assert status == 200, out
    assert keys_in(server, "tamper") == ["obj"]


class _TwentyMinutesAgo(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - \
            datetime.timedelta(minutes=20)


def test_clock_skew(server):
    ensure_bucket(server, "skew")
    with mock.patch.object(botocore.auth.datetime, "datetime", _TwentyMinutesAgo):
        e = error_of(client(server, "s3").put_object, Bucket="skew", Key="k", Body=b"x")
        f = error_of(client(server, "firehose").list_delivery_streams)
    assert e["Error"]["Code"] == "RequestTimeTooSkewed"
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert e["Error"]["MaxAllowedSkewMilliseconds"] == "900000"
    assert f["Error"]["Code"] == "InvalidSignatureException"
    assert re.fullmatch(r"Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z "
                        r"\(\d{8}T\d{6}Z - 15 min\.\)", f["Error"]["Message"]), f["Error"]["Message"]
    assert keys_in(server, "skew") == []


def test_presigned_urls_expire(server):
    ensure_bucket(server, "presign")
    client(server, "s3").put_object(Bucket="presign", Key="doc.txt", Body=b"presigned body")
    # botocore presigns S3 URLs with SigV2 unless told otherwise: refused as AWS does.
    v2 = client(server, "s3").generate_presigned_url(
        "get_object", Params={"Bucket": "presign", "Key": "doc.txt"}, ExpiresIn=60)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(v2)
    assert e.value.code == 400
    assert b"<Code>InvalidRequest</Code>" in e.value.read()
    s3 = boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                      aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "doc.txt"},
                                    ExpiresIn=60)
    with urllib.request.urlopen(url) as r:
        assert r.read() == b"presigned body"
    short = s3.generate_presigned_url("get_object", Params={"Bucket": "presign", "Key": "doc.txt"},
                                      ExpiresIn=1)
    put = s3.generate_presigned_url("put_object", Params={"Bucket": "presign", "Key": "late.txt"},
                                    ExpiresIn=1)
    time.sleep(2.5)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(short)
    assert e.value.code == 403
    body = e.value.read().decode()
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in body
    assert "<X-Amz-Expires>1</X-Amz-Expires>" in body
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(urllib.request.Request(put, data=b"late", method="PUT"))
    assert e.value.code == 403
    assert "late.txt" not in keys_in(server, "presign")
    # Tampered: another key under the same signature.
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url.replace("doc.txt", "other.txt"))
    assert e.value.code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in e.value.read()


def test_temporary_credentials_need_their_token(server):
    ensure_bucket(server, "temp")
    e = error_of(client(server, "s3", TEMP_KEY, TEMP_SECRET).put_object, Bucket="temp", Key="k",
                 Body=b"x")
    assert e["Error"]["Code"] == "InvalidAccessKeyId"
    e = error_of(client(server, "s3", TEMP_KEY, TEMP_SECRET, "not-the-token").put_object,
                 Bucket="temp", Key="k", Body=b"x")
    assert e["Error"]["Code"] == "InvalidToken"
    assert e["Error"]["Message"] == "The provided token is malformed or otherwise invalid."
    e = error_of(client(server, "firehose", TEMP_KEY, TEMP_SECRET).list_delivery_streams)
    assert e["Error"]["Code"] == "UnrecognizedClientException"
    assert keys_in(server, "temp") == []


# ---------------------------------------------------------------- signed aws-chunked uploads


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def chunked_put(h, path, data, chunk=64 * 1024, corrupt=None, trailer=False):
    """PUT with x-amz-content-sha256 STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: the seed
    signature from botocore's signer, each chunk signed as the AWS documentation says.
    `corrupt` = index of a chunk whose bytes change after signing."""
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    sizes = [len(p) for p in pieces] + [0]
    framing = sum(len("%x;chunk-signature=" % s) + 64 + 4 + s for s in sizes)
    trailer_text = ""
    if trailer:
        import base64, zlib
        crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        trailer_text = "x-amz-checksum-crc32:%s" % crc
        framing += len(trailer_text) + 2 + len("x-amz-trailer-signature:") + 64 + 2
    headers = {
        "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer else ""),
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(len(data)),
        "Content-Length": str(framing),
    }
    if trailer:
        headers["X-Amz-Trailer"] = "x-amz-checksum-crc32"
    headers = signed(h, "s3", "PUT", path, None, headers)
    amz_date = headers["X-Amz-Date"]
    seed = re.search(r"Signature=([0-9a-f]{64})", headers["Authorization"]).group(1)
    scope = "%s/us-east-1/s3/aws4_request" % amz_date[:8]
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + SECRET).encode(), amz_date[:8]), "us-east-1"), "s3"),
                "aws4_request")
    empty = hashlib.sha256(b"").hexdigest()
    body, prev = b"", seed
    for i, piece in enumerate(pieces + [b""]):
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, empty,
                         hashlib.sha256(piece).hexdigest()])
        prev = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        if corrupt == i:
            piece = b"X" + piece[1:]
        body += b"%x;chunk-signature=%s\r\n" % (len(piece), prev.encode()) + piece
        if piece or not trailer:  # trailing headers follow the final chunk's line directly
            body += b"\r\n"
    if trailer:
        sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, prev,
                         hashlib.sha256((trailer_text + "\n").encode()).hexdigest()])
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        body += ("%s\r\nx-amz-trailer-signature:%s\r\n\r\n" % (trailer_text, sig)).encode()
    assert len(body) == framing
    return send(h, "PUT", path, headers, body)


def test_signed_chunked_uploads(server):
    ensure_bucket(server, "chunks")
    s3 = client(server, "s3")
    data = os.urandom((9 << 20) + 12345)  # over 8 MiB, streamed
    status, out = chunked_put(server, "/chunks/good.bin", data)
    assert status == 200, out
    assert s3.get_object(Bucket="chunks", Key="good.bin")["Body"].read() == data
    status, out = chunked_put(server, "/chunks/trailer.bin", data[:100000], trailer=True)
    assert status == 200, out
    assert s3.get_object(Bucket="chunks", Key="trailer.bin")["Body"].read() == data[:100000]
    # One chunk changed after signing (the 100th of 145): nothing is written.
    status, out = chunked_put(server, "/chunks/bad.bin", data, corrupt=100)
    assert status == 403, out
    assert b"<Code>SignatureDoesNotMatch</Code>" in out
    status, out = chunked_put(server, "/chunks/bad-last.bin", data[:5000], corrupt=0)
    assert status == 403, out
    assert sorted(keys_in(server, "chunks")) == ["good.bin", "trailer.bin"]


def test_unsigned_trailer_uploads_still_work_when_signed(server):
    """STREAMING-UNSIGNED-PAYLOAD-TRAILER (newer SDKs): the headers are signed, the
    chunks are not; the trailing checksum is still checked."""
    ensure_bucket(server, "trail")
    body = (b"5\r\n12345\r\n4\r\n6789\r\n0\r\n"
            b"x-amz-checksum-crc32:y/Q5Jg==\r\n\r\n")
    headers = {"X-Amz-Content-SHA256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
               "Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": "9",
               "X-Amz-Trailer": "x-amz-checksum-crc32", "Content-Length": str(len(body))}
    status, out = send(server, "PUT", "/trail/ok", signed(server, "s3", "PUT", "/trail/ok", None,
                                                          headers), body)
    assert status == 200, out
    assert client(server, "s3").get_object(Bucket="trail", Key="ok")["Body"].read() == b"123456789"
    bad = body.replace(b"y/Q5Jg==", b"AAAAAA==")
    status, out = send(server, "PUT", "/trail/bad", signed(server, "s3", "PUT", "/trail/bad", None,
                                                           headers), bad)
    assert status == 400, out
    assert keys_in(server, "trail") == ["ok"]
