"""Server-side encryption in the embedded store (issue 15, item 3): SSE-KMS and
SSE-S3 on PutObject, multipart uploads and CopyObject with the AWS CLI v2 and
boto3, bucket default encryption, the x-amz-server-side-encryption* headers,
reads refused while the key is disabled, bytes on disk that are not the
plaintext, and a stream whose KMSEncryptionConfig makes its objects SSE-KMS:
a disabled key or a role without kms:GenerateDataKey fails delivery with an
S3.KMS.* code in the error log, and everything is delivered once fixed. A
bucket's default encryption applies to delivery as to any PutObject without
SSE headers; an object delivered as a multipart upload (over 8 MiB) needs
kms:Decrypt too, and an abort the role may not do leaves the upload."""
import base64
import json
import os

import botocore.exceptions
import pytest

from conftest import (aws, cli_role, list_keys, metric, put_role_policy, read_objects, s3_dest,
                      start_with_config, wait_for)

ACCOUNT = "000000000000"
ROLE = "arn:aws:iam::%s:role/delivery" % ACCOUNT
WRITE = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["s3:PutObject", "s3:ListBucket", "s3:GetBucketLocation",
                                  "logs:PutLogEvents"],
    "Resource": ["arn:aws:s3:::vault", "arn:aws:s3:::vault/*",
                 "arn:aws:logs:us-east-1:%s:log-group:/aws/kinesisfirehose/*" % ACCOUNT]}]}
USE_KEYS = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"}]}


def cli(h, *args):
    out = aws(h, *args).stdout
    return json.loads(out) if out.strip() else {}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("sse")
    h = start_with_config(root, "[auth]\nenforce_roles = true\n")
    h.root = root
    aws(h, "s3api", "create-bucket", "--bucket", "vault")
    cli_role(h, "delivery", write=WRITE, keys=USE_KEYS)
    yield h
    h.stop()


def new_key(h, alias=None):
    meta = cli(h, "kms", "create-key", "--description", "sse test")["KeyMetadata"]
    if alias:
        aws(h, "kms", "create-alias", "--alias-name", alias, "--target-key-id", meta["KeyId"])
    return meta


def create_encrypted(h, name, key_arn):
    h.client("firehose", validate=False).create_delivery_stream(
        DeliveryStreamName=name, ExtendedS3DestinationConfiguration=s3_dest(
            "vault", RoleARN=ROLE, Prefix=name + "/",
            BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 1},
            EncryptionConfiguration={"KMSEncryptionConfig": {"AWSKMSKeyARN": key_arn}},
            CloudWatchLoggingOptions={"Enabled": True, "LogGroupName": "/aws/kinesisfirehose/" + name,
                                      "LogStreamName": "DestinationDelivery"}))


def error_events(h, name, prefix):
    """The stream's error events whose code starts with prefix ([] before its log group exists)."""
    p = aws(h, "logs", "filter-log-events", "--log-group-name", "/aws/kinesisfirehose/" + name,
            check=False)
    if p.returncode != 0:
        return []
    events = [json.loads(e["message"]) for e in json.loads(p.stdout).get("events", [])]
    return [e for e in events if e["errorCode"].startswith(prefix)]


def files_containing(root, needle):
    hits = []
    for d, _, names in os.walk(str(root)):
        for n in names:
            p = os.path.join(d, n)
            try:
                with open(p, "rb") as f:
                    if needle in f.read():
                        hits.append(p)
            except OSError:
                pass
    return hits


def test_cli_sse_kms_put_head_get_and_disabled_key(server, tmp_path):
    h = server
    key = new_key(h, "alias/vault-cli")
    secret = b"TOP-SECRET-CLI-" + os.urandom(8).hex().encode() + b"\n"
    body = tmp_path / "body"
    body.write_bytes(secret * 5000)  # ~135 KiB: three chunks
    put = cli(h, "s3api", "put-object", "--bucket", "vault", "--key", "cli/a", "--body", str(body),
              "--server-side-encryption", "aws:kms", "--ssekms-key-id", "alias/vault-cli")
    assert put["ServerSideEncryption"] == "aws:kms"
    assert put["SSEKMSKeyId"] == key["Arn"]
    head = cli(h, "s3api", "head-object", "--bucket", "vault", "--key", "cli/a")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key["Arn"]
    assert head["ContentLength"] == len(secret) * 5000
    out = tmp_path / "out"
    got = cli(h, "s3api", "get-object", "--bucket", "vault", "--key", "cli/a", str(out))
    assert got["ServerSideEncryption"] == "aws:kms"
    assert out.read_bytes() == secret * 5000
    # The bytes on disk are not the plaintext.
    assert files_containing(h.root, secret) == []
    # Listed with its plaintext size.
    lst = cli(h, "s3api", "list-objects-v2", "--bucket", "vault", "--prefix", "cli/")
    assert [o["Size"] for o in lst["Contents"]] == [len(secret) * 5000]

    aws(h, "kms", "disable-key", "--key-id", key["KeyId"])
    p = aws(h, "s3api", "get-object", "--bucket", "vault", "--key", "cli/a", str(out), check=False)
    assert p.returncode != 0 and "KMS.DisabledException" in p.stderr, p.stderr
    p = aws(h, "s3api", "put-object", "--bucket", "vault", "--key", "cli/b", "--body", str(body),
            "--server-side-encryption", "aws:kms", "--ssekms-key-id", key["KeyId"], check=False)
    assert p.returncode != 0 and "KMS.DisabledException" in p.stderr, p.stderr
    aws(h, "kms", "enable-key", "--key-id", key["KeyId"])
    cli(h, "s3api", "get-object", "--bucket", "vault", "--key", "cli/a", str(out))
    assert out.read_bytes() == secret * 5000
    aws(h, "kms", "schedule-key-deletion", "--key-id", key["KeyId"], "--pending-window-in-days", "7")
    p = aws(h, "s3api", "head-object", "--bucket", "vault", "--key", "cli/a", check=False)
    assert p.returncode != 0 and "400" in p.stderr, p.stderr  # HEAD answers without a body
    p = aws(h, "s3api", "get-object", "--bucket", "vault", "--key", "cli/a", str(out), check=False)
    assert p.returncode != 0 and "KMS.KMSInvalidStateException" in p.stderr, p.stderr
    assert "pending deletion" in p.stderr, p.stderr
    aws(h, "kms", "cancel-key-deletion", "--key-id", key["KeyId"])
    aws(h, "kms", "enable-key", "--key-id", key["KeyId"])
    cli(h, "s3api", "get-object", "--bucket", "vault", "--key", "cli/a", str(out))

    p = aws(h, "s3api", "put-object", "--bucket", "vault", "--key", "cli/c", "--body", str(body),
            "--server-side-encryption", "aws:kms", "--ssekms-key-id", "alias/none", check=False)
    assert p.returncode != 0 and "KMS.NotFoundException" in p.stderr, p.stderr


def test_bucket_default_encryption(server, tmp_path):
    h = server
    aws(h, "s3api", "create-bucket", "--bucket", "defaulted")
    p = aws(h, "s3api", "get-bucket-encryption", "--bucket", "defaulted", check=False)
    assert "ServerSideEncryptionConfigurationNotFoundError" in p.stderr, p.stderr
    key = new_key(h)
    cfg = {"Rules": [{"ApplyServerSideEncryptionByDefault": {
        "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}, "BucketKeyEnabled": False}]}
    aws(h, "s3api", "put-bucket-encryption", "--bucket", "defaulted",
        "--server-side-encryption-configuration", json.dumps(cfg))
    got = cli(h, "s3api", "get-bucket-encryption", "--bucket", "defaulted")
    rule = got["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                          "KMSMasterKeyID": key["Arn"]}
    body = tmp_path / "b"
    body.write_bytes(b"defaulted body")
    put = cli(h, "s3api", "put-object", "--bucket", "defaulted", "--key", "k", "--body", str(body))
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == key["Arn"]
    # Explicit headers win over the default.
    put = cli(h, "s3api", "put-object", "--bucket", "defaulted", "--key", "k2", "--body", str(body),
              "--server-side-encryption", "AES256")
    assert put["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in put
    aws(h, "s3api", "delete-bucket-encryption", "--bucket", "defaulted")
    p = aws(h, "s3api", "get-bucket-encryption", "--bucket", "defaulted", check=False)
    assert "ServerSideEncryptionConfigurationNotFoundError" in p.stderr
    put = cli(h, "s3api", "put-object", "--bucket", "defaulted", "--key", "k3", "--body", str(body))
    assert "ServerSideEncryption" not in put


def test_boto3_ranges_multipart_copy_and_context(server):
    h = server
    s3 = h.client("s3")
    key = new_key(h)
    data = os.urandom(300 * 1024)
    ctx = base64.b64encode(json.dumps({"team": "blue"}).encode()).decode()
    r = s3.put_object(Bucket="vault", Key="py/a", Body=data, ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=key["KeyId"], SSEKMSEncryptionContext=ctx)
    assert r["ServerSideEncryption"] == "aws:kms" and r["SSEKMSKeyId"] == key["Arn"]
    for first, last in ((0, 0), (65535, 65537), (100000, 299999), (307199, 307199)):
        got = s3.get_object(Bucket="vault", Key="py/a", Range="bytes=%d-%d" % (first, last))
        assert got["Body"].read() == data[first:last + 1], (first, last)
        assert got["ContentRange"] == "bytes %d-%d/%d" % (first, last, len(data))
    # SSE-S3.
    r = s3.put_object(Bucket="vault", Key="py/s3", Body=b"sse-s3 body", ServerSideEncryption="AES256")
    assert r["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket="vault", Key="py/s3")["Body"].read() == b"sse-s3 body"
    # A multipart upload: every part encrypted with the upload's data key.
    up = s3.create_multipart_upload(Bucket="vault", Key="py/mp", ServerSideEncryption="aws:kms",
                                    SSEKMSKeyId=key["Arn"])
    assert up["ServerSideEncryption"] == "aws:kms"
    p1, p2 = os.urandom(5 * 1024 * 1024), os.urandom(1000)
    parts = []
    for n, body in ((1, p1), (2, p2)):
        pr = s3.upload_part(Bucket="vault", Key="py/mp", UploadId=up["UploadId"], PartNumber=n, Body=body)
        assert pr["ServerSideEncryption"] == "aws:kms"
        parts.append({"PartNumber": n, "ETag": pr["ETag"]})
    listed = s3.list_parts(Bucket="vault", Key="py/mp", UploadId=up["UploadId"])["Parts"]
    assert [p["Size"] for p in listed] == [len(p1), len(p2)]
    done = s3.complete_multipart_upload(Bucket="vault", Key="py/mp", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": parts})
    assert done["ServerSideEncryption"] == "aws:kms" and done["SSEKMSKeyId"] == key["Arn"]
    assert s3.get_object(Bucket="vault", Key="py/mp")["Body"].read() == p1 + p2
    assert s3.head_object(Bucket="vault", Key="py/mp")["ContentLength"] == len(p1) + len(p2)
    got = s3.get_object(Bucket="vault", Key="py/mp", Range="bytes=%d-%d" % (len(p1) - 5, len(p1) + 5))
    assert got["Body"].read() == (p1 + p2)[len(p1) - 5:len(p1) + 6]
    assert s3.get_object(Bucket="vault", Key="py/mp", PartNumber=2)["Body"].read() == p2
    # CopyObject: decrypted from the source, encrypted as the request says.
    c = s3.copy_object(Bucket="vault", Key="py/copy", CopySource={"Bucket": "vault", "Key": "py/a"},
                       ServerSideEncryption="AES256")
    assert c["ServerSideEncryption"] == "AES256"
    head = s3.head_object(Bucket="vault", Key="py/copy")
    assert head["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in head
    assert s3.get_object(Bucket="vault", Key="py/copy")["Body"].read() == data
    # Errors: an unknown algorithm, a key id without aws:kms.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        h.client("s3", validate=False).put_object(Bucket="vault", Key="bad", Body=b"x",
                                                  ServerSideEncryption="DES")
    assert e.value.response["Error"]["Code"] == "InvalidArgument"


def deliver_through_a_disabled_key(h, stream, bucket, key, marker, while_disabled=None):
    """The stream's objects in `bucket` are SSE-KMS under `key` (head-object, AWS
    CLI v2); with the key disabled, delivery fails with S3.KMS.DisabledException
    in the error log and writes nothing (`while_disabled(first object key)` checks
    more then); enabled again, every record arrives, none as plaintext on disk."""
    fh, s3 = h.client("firehose"), h.client("s3")
    first = marker + b"-first\n"
    fh.put_record(DeliveryStreamName=stream, Record={"Data": first})
    objs = wait_for(lambda: read_objects(s3, bucket, stream + "/"), what="an SSE-KMS object")
    k = next(iter(objs))
    assert b"".join(objs.values()) == first

    aws(h, "kms", "disable-key", "--key-id", key["KeyId"])
    held = [marker + b"-held-%d\n" % i for i in range(5)]
    fh.put_record_batch(DeliveryStreamName=stream, Records=[{"Data": d} for d in held])
    events = wait_for(lambda: error_events(h, stream, "S3.KMS."), timeout=30,
                      what="an S3.KMS.* error event")
    assert events[0]["errorCode"] == "S3.KMS.DisabledException", events[0]
    assert "is disabled" in events[0]["message"]
    assert list_keys(s3, bucket, stream + "/") == [k]
    if while_disabled:
        while_disabled(k)

    aws(h, "kms", "enable-key", "--key-id", key["KeyId"])
    want = first + b"".join(held)
    wait_for(lambda: b"".join(read_objects(s3, bucket, stream + "/").values()) == want, timeout=40,
             what="the held records, once the key is enabled")
    for k in list_keys(s3, bucket, stream + "/"):
        head = cli(h, "s3api", "head-object", "--bucket", bucket, "--key", k)
        assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key["Arn"], head
    assert files_containing(h.root / "data" / "s3", marker) == []


def test_delivery_with_sse_kms_fails_while_the_key_is_disabled(server):
    h = server
    key = new_key(h, "alias/stream-key")
    create_encrypted(h, "enc", key["Arn"])
    s3 = h.client("s3")

    def unreadable(k):
        assert metric(h, "hydrant_delivery_failures_total", "enc") >= 1
        # The object there cannot be read while the key is disabled.
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.get_object(Bucket="vault", Key=k)
        assert e.value.response["Error"]["Code"] == "KMS.DisabledException"

    deliver_through_a_disabled_key(h, "enc", "vault", key, b"STREAMSECRET", unreadable)


def test_delivery_role_without_kms_permission(server):
    h = server
    key = new_key(h)
    aws(h, "iam", "delete-role-policy", "--role-name", "delivery", "--policy-name", "keys")
    try:
        create_encrypted(h, "nokms", key["Arn"])
        h.client("firehose").put_record(DeliveryStreamName="nokms", Record={"Data": b"x\n"})
        events = wait_for(lambda: error_events(h, "nokms", "S3.KMS.AccessDeniedException"),
                          timeout=30, what="S3.KMS.AccessDeniedException")
        assert "kms:GenerateDataKey" in events[0]["message"], events[0]
    finally:
        aws(h, "iam", "put-role-policy", "--role-name", "delivery", "--policy-name", "keys",
            "--policy-document", json.dumps(USE_KEYS))
    wait_for(lambda: b"".join(read_objects(h.client("s3"), "vault", "nokms/").values()) == b"x\n",
             timeout=40, what="delivery once the role may use the key")


def bucket_role(h, name, bucket, kms_actions, s3_actions=("s3:PutObject",)):
    """A delivery role writing to `bucket` and its streams' error logs, allowed
    `kms_actions` on every key."""
    return cli_role(h, name, write={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": list(s3_actions),
         "Resource": ["arn:aws:s3:::" + bucket, "arn:aws:s3:::%s/*" % bucket]},
        {"Effect": "Allow", "Action": "logs:PutLogEvents",
         "Resource": "arn:aws:logs:us-east-1:%s:log-group:/aws/kinesisfirehose/*" % ACCOUNT}]},
        keys={"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": list(kms_actions), "Resource": "*"}]})


def create_stream(h, name, bucket, role, size_mb=1, interval=1, **extra):
    h.client("firehose", validate=False).create_delivery_stream(
        DeliveryStreamName=name, ExtendedS3DestinationConfiguration=s3_dest(
            bucket, RoleARN=role, Prefix=name + "/",
            BufferingHints={"SizeInMBs": size_mb, "IntervalInSeconds": interval},
            CloudWatchLoggingOptions={"Enabled": True, "LogGroupName": "/aws/kinesisfirehose/" + name,
                                      "LogStreamName": "DestinationDelivery"}, **extra))


def test_delivery_applies_the_buckets_default_encryption(server):
    """A stream without KMSEncryptionConfig writes into a bucket whose default
    (put-bucket-encryption) is SSE-KMS: its objects are SSE-KMS under the
    default's key, and a disabled default key fails delivery until enabled."""
    h = server
    aws(h, "s3api", "create-bucket", "--bucket", "kmsdefault")
    key = new_key(h)
    aws(h, "s3api", "put-bucket-encryption", "--bucket", "kmsdefault",
        "--server-side-encryption-configuration", json.dumps({"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                   "KMSMasterKeyID": key["Arn"]}}]}))
    role = bucket_role(h, "default-delivery", "kmsdefault", ["kms:GenerateDataKey", "kms:Decrypt"])
    create_stream(h, "dflt", "kmsdefault", role)
    deliver_through_a_disabled_key(h, "dflt", "kmsdefault", key, b"DEFAULTSECRET")


def test_multipart_delivery_needs_kms_decrypt_and_a_denied_abort_leaves_the_upload(server):
    """An object over 8 MiB is delivered as a multipart upload: a role allowed
    kms:GenerateDataKey but not kms:Decrypt fails it with
    S3.KMS.AccessDeniedException; the role may not s3:AbortMultipartUpload
    either, so the upload stays (list-multipart-uploads). With kms:Decrypt the
    object arrives."""
    h = server
    aws(h, "s3api", "create-bucket", "--bucket", "bigvault")
    key = new_key(h)
    role = bucket_role(h, "big-delivery", "bigvault", ["kms:GenerateDataKey"])
    create_stream(h, "big", "bigvault", role, size_mb=9, interval=900,
                  EncryptionConfiguration={"KMSEncryptionConfig": {"AWSKMSKeyARN": key["Arn"]}})
    fh, s3 = h.client("firehose"), h.client("s3")
    record = b"B" * (100 * 1024 - 1) + b"\n"
    for _ in range(10):  # ~9.8 MiB: one object of at least 9 MiB
        r = fh.put_record_batch(DeliveryStreamName="big", Records=[{"Data": record}] * 10)
        assert r["FailedPutCount"] == 0
    events = wait_for(lambda: error_events(h, "big", "S3.KMS."), timeout=30,
                      what="an S3.KMS.* error event")
    assert events[0]["errorCode"] == "S3.KMS.AccessDeniedException", events[0]
    assert "kms:Decrypt" in events[0]["message"], events[0]
    uploads = wait_for(lambda: cli(h, "s3api", "list-multipart-uploads", "--bucket", "bigvault")
                       .get("Uploads"), what="the upload the role could not abort")
    assert all(u["Key"].startswith("big/") for u in uploads), uploads
    assert list_keys(s3, "bigvault", "big/") == []

    put_role_policy(h, "big-delivery", "keys", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"}]})
    keys = wait_for(lambda: list_keys(s3, "bigvault", "big/"), timeout=40,
                    what="the multipart object, once the role may kms:Decrypt")
    head = cli(h, "s3api", "head-object", "--bucket", "bigvault", "--key", keys[0])
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key["Arn"], head
    assert head["ContentLength"] >= 9 << 20
    body = s3.get_object(Bucket="bigvault", Key=keys[0])["Body"].read()
    assert body == record * (len(body) // len(record))


def test_sigv4_reads_need_kms_decrypt_and_writes_generate_data_key(tmp_path):
    """A signed caller allowed s3:* but not kms:Decrypt on the key cannot read an
    SSE-KMS object (S3's AccessDenied with KMS's message), nor write one without
    kms:GenerateDataKey; SSE-S3 objects (hydrant's own key) need S3 permissions only."""
    import boto3
    from botocore.config import Config
    from test_auth_iam_flow import CONFIG, ROOT_KEY, ROOT_SECRET

    h = start_with_config(tmp_path, CONFIG)
    try:
        def client(service, creds):
            return boto3.client(service, endpoint_url=h.endpoint, region_name="us-east-1",
                                aws_access_key_id=creds[0], aws_secret_access_key=creds[1],
                                config=Config(retries={"total_max_attempts": 1},
                                              s3={"addressing_style": "path"}))
        root = (ROOT_KEY, ROOT_SECRET)
        iam, s3_root = client("iam", root), client("s3", root)
        key = client("kms", root).create_key()["KeyMetadata"]
        s3_root.create_bucket(Bucket="locked")
        s3_root.put_object(Bucket="locked", Key="k", Body=b"kms body", ServerSideEncryption="aws:kms",
                           SSEKMSKeyId=key["KeyId"])
        s3_root.put_object(Bucket="locked", Key="s3", Body=b"s3 body", ServerSideEncryption="AES256")
        iam.create_user(UserName="reader")
        ak = iam.create_access_key(UserName="reader")["AccessKey"]
        iam.put_user_policy(UserName="reader", PolicyName="s3", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        reader = client("s3", (ak["AccessKeyId"], ak["SecretAccessKey"]))
        assert reader.get_object(Bucket="locked", Key="s3")["Body"].read() == b"s3 body"
        for call in (lambda: reader.get_object(Bucket="locked", Key="k"),
                     lambda: reader.put_object(Bucket="locked", Key="k2", Body=b"x",
                                               ServerSideEncryption="aws:kms", SSEKMSKeyId=key["Arn"])):
            with pytest.raises(botocore.exceptions.ClientError) as e:
                call()
            err = e.value.response["Error"]
            assert err["Code"] == "AccessDenied", err
            assert "user/reader is not authorized to perform: kms:" in err["Message"], err
        iam.put_user_policy(UserName="reader", PolicyName="kms", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt",
                                                   "Resource": key["Arn"]}]}))
        assert reader.get_object(Bucket="locked", Key="k")["Body"].read() == b"kms body"
    finally:
        h.stop()
