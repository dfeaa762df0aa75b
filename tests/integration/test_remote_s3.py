"""Delivery to remote S3-compatible stores: the real hydrant binary, configured with
[[s3.buckets]] entries, writes to moto_server's S3 and to s3rver (tests/s3peers), and
boto3 reads what arrived. Covers PutObject and multipart objects, GZIP, a store
stopped and restarted mid-stream, a bucket created late, wrong credentials and an
identity policy that denies PutObject (moto does not evaluate bucket policies:
docs/remote-s3.md)."""
import gzip
import json
import os
import re
import shutil

import boto3
import pytest

from conftest import Peer, make_stream, metric, put_records, start_with_buckets, wait_for

MOTO = shutil.which("moto_server")


def moto_peer(tmp_path_factory, env_extra=None):
    if not MOTO:
        pytest.skip("moto_server is not installed")
    env = dict(os.environ)
    env.update(env_extra or {})
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    return Peer(lambda port: [MOTO, "-H", "127.0.0.1", "-p", str(port)], "moto_server", log, env=env).start()


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    p = moto_peer(tmp_path_factory)
    yield p
    p.stop()


def remote_objects(s3, bucket, prefix=""):
    out = {}
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for o in page.get("Contents", []):
                out[o["Key"]] = o
    except s3.exceptions.NoSuchBucket:
        return {}
    return out


def delivered_lines(s3, bucket, gz=False):
    lines = []
    for key in sorted(remote_objects(s3, bucket)):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if gz:
            body = gzip.decompress(body)
        lines += body.split(b"\n")[:-1]
    return lines


def expect_lines(s3, bucket, recs, what, timeout=60, gz=False):
    """Waits for as many lines as recs in bucket, then checks they are recs, once each
    in any order."""
    wait_for(lambda: len(delivered_lines(s3, bucket, gz)) >= len(recs), timeout=timeout, what=what)
    assert sorted(delivered_lines(s3, bucket, gz)) == sorted(r[:-1] for r in recs)


def records(tag, n, pad=0):
    return [b"%s-%06d%s\n" % (tag.encode(), i, b"x" * pad) for i in range(n)]


def test_moto_small_and_multipart_gzip_objects(moto, tmp_path):
    s3 = moto.client()
    s3.create_bucket(Bucket="dest-small")
    s3.create_bucket(Bucket="dest-big")
    with start_with_buckets(tmp_path, [
        ("dest-small", moto.endpoint, "test", "test"),
        ("dest-big", moto.endpoint, "test", "test", "part_size_mb = 5"),
    ]) as h:
        make_stream(h, "small", "dest-small", CompressionFormat="GZIP")
        small = records("s", 300)
        put_records(h, "small", small)
        # Random payload so GZIP cannot shrink 14 MiB below two 5 MiB parts.
        make_stream(h, "big", "dest-big", CompressionFormat="GZIP",
                    BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 5})
        big = [b"%06d:%s\n" % (i, os.urandom(75_000).hex().encode()) for i in range(100)]
        put_records(h, "big", big)

        expect_lines(s3, "dest-small", small, "small records on moto", gz=True)
        objs = remote_objects(s3, "dest-small")
        for key in objs:
            head = s3.head_object(Bucket="dest-small", Key=key)
            assert head["ContentEncoding"] == "gzip"
            assert key.endswith(".gz")
            assert "-" not in head["ETag"].strip('"')  # one PutObject

        expect_lines(s3, "dest-big", big, "big records on moto", timeout=120, gz=True)
        objs = remote_objects(s3, "dest-big")
        multipart = [o for o in objs.values() if re.match(r'^"?[0-9a-f]{32}-\d+"?$', o["ETag"])]
        assert multipart, objs
        assert all(o["Size"] > 5 << 20 for o in multipart)
        # No upload was left behind.
        assert not s3.list_multipart_uploads(Bucket="dest-big").get("Uploads")


def test_moto_bucket_created_late(moto, tmp_path):
    s3 = moto.client()
    with start_with_buckets(tmp_path, [("late-bucket", moto.endpoint, "test", "test")]) as h:
        make_stream(h, "late", "late-bucket")
        recs = records("late", 50)
        put_records(h, "late", recs)
        wait_for(lambda: "S3.NoSuchBucket" in h.log(), timeout=30, what="NoSuchBucket logged")
        assert metric(h, "hydrant_delivery_failures_total", "late") >= 1
        s3.create_bucket(Bucket="late-bucket")
        expect_lines(s3, "late-bucket", recs, "delivery once the bucket exists")


def test_s3rver_restart_mid_stream_loses_and_duplicates_nothing(s3rver, tmp_path):
    s3 = s3rver.client("S3RVER", "S3RVER")
    s3.create_bucket(Bucket="restart-bucket")
    with start_with_buckets(tmp_path, [("restart-bucket", s3rver.endpoint, "S3RVER", "S3RVER")]) as h:
        make_stream(h, "rs", "restart-bucket")
        first = records("first", 100)
        put_records(h, "rs", first)
        wait_for(lambda: len(delivered_lines(s3, "restart-bucket")) >= len(first), timeout=60,
                 what="first batch on s3rver")
        s3rver.stop()
        second = records("second", 100)
        put_records(h, "rs", second)
        wait_for(lambda: re.search(r"event=(?:destination|delivery)_failed errorCode=InternalError .*cannot reach the endpoint",
                                   h.log()), timeout=30, what="failure while s3rver is down")
        failures = metric(h, "hydrant_delivery_failures_total", "rs")
        assert failures >= 1
        wait_for(lambda: metric(h, "hydrant_delivery_failures_total", "rs") > failures, timeout=30,
                 what="a retry while s3rver is down")
        s3rver.start()
        wait_for(lambda: len(delivered_lines(s3, "restart-bucket")) >= len(first) + len(second),
                 timeout=60, what="delivery resumed after the restart")
        # Nothing more should arrive: records put now bound the wait, since whatever
        # else came of the first two batches would be delivered before them.
        third = records("third", 1)
        put_records(h, "rs", third)
        wait_for(lambda: len(delivered_lines(s3, "restart-bucket")) >= len(first) + len(second) + len(third),
                 timeout=60, what="the later record")
        got = delivered_lines(s3, "restart-bucket")
        assert sorted(got) == sorted(r[:-1] for r in first + second + third)
        assert len(got) == len(set(got))


def test_s3rver_wrong_key_is_access_denied_and_data_is_kept(s3rver, tmp_path):
    s3 = s3rver.client("S3RVER", "S3RVER")
    s3.create_bucket(Bucket="guarded")
    # s3rver checks the access key id (not the secret): a wrong id is InvalidAccessKeyId.
    recs = records("kept", 40)
    with start_with_buckets(tmp_path, [("guarded", s3rver.endpoint, "WRONGKEY", "S3RVER")]) as h:
        make_stream(h, "wk", "guarded")
        put_records(h, "wk", recs)
        wait_for(lambda: re.search(r"level=warning stream=wk event=(?:destination|delivery)_failed .*S3\.AccessDenied", h.log()),
                 timeout=30, what="S3.AccessDenied in hydrant's log")
        wait_for(lambda: (metric(h, "hydrant_delivery_failures_total", "wk") or 0) >= 2,
                 timeout=30, what="failures counted in /metrics")
        assert re.search(r"guarded.*HTTP 403 InvalidAccessKeyId", h.log()), h.log()[-2000:]
        assert not remote_objects(s3, "guarded")
    # With the right key the kept records are delivered.
    (tmp_path / "hydrant.toml").write_text(
        (tmp_path / "hydrant.toml").read_text().replace("WRONGKEY", "S3RVER"))
    with h.start():
        expect_lines(s3, "guarded", recs, "delivery with the right key")


@pytest.fixture(scope="module")
def moto_auth(tmp_path_factory):
    """moto with IAM authentication on: the first 8 requests set up users, then every
    request must be signed by a known key and allowed by its policies."""
    p = moto_peer(tmp_path_factory, {"INITIAL_NO_AUTH_ACTION_COUNT": "8"})
    iam = boto3.client("iam", endpoint_url=p.endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    keys = {}
    for user, deny in (("writer", False), ("denied", True)):
        iam.create_user(UserName=user)
        stmts = [{"Effect": "Allow", "Action": ["s3:*", "iam:*"], "Resource": "*"}]
        if deny:
            stmts.append({"Effect": "Deny", "Action": "s3:PutObject",
                          "Resource": "arn:aws:s3:::policy-bucket/*"})
        iam.put_user_policy(UserName=user, PolicyName="p",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": stmts}))
        k = iam.create_access_key(UserName=user)["AccessKey"]
        keys[user] = (k["AccessKeyId"], k["SecretAccessKey"])
    p.keys = keys
    yield p
    p.stop()


def test_moto_denying_policy_and_unknown_key_are_access_denied(moto_auth, tmp_path):
    wk, ws = moto_auth.keys["writer"]
    dk, ds = moto_auth.keys["denied"]
    s3 = moto_auth.client(wk, ws)
    s3.create_bucket(Bucket="policy-bucket")
    s3.create_bucket(Bucket="unknown-key-bucket")
    # The writer's key works (the peer really checks signatures).
    s3.put_object(Bucket="policy-bucket", Key="probe", Body=b"x")
    s3.delete_object(Bucket="policy-bucket", Key="probe")
    with start_with_buckets(tmp_path, [
        ("policy-bucket", moto_auth.endpoint, dk, ds),
        ("unknown-key-bucket", moto_auth.endpoint, "AKIANOTAKEY000000000", "nope"),
    ]) as h:
        make_stream(h, "pol", "policy-bucket")
        make_stream(h, "unk", "unknown-key-bucket")
        recs = records("pol", 30)
        put_records(h, "pol", recs)
        put_records(h, "unk", records("unk", 5))
        for stream in ("pol", "unk"):
            wait_for(lambda: re.search(r"stream=%s event=(?:destination|delivery)_failed .*S3\.AccessDenied" % stream, h.log()),
                     timeout=30, what="S3.AccessDenied for " + stream)
            assert metric(h, "hydrant_delivery_failures_total", stream) >= 1
        assert re.search(r"policy-bucket.*HTTP 403 AccessDenied", h.log())
        assert re.search(r"unknown-key-bucket.*HTTP 403 InvalidAccessKeyId", h.log())
        assert not remote_objects(s3, "policy-bucket")
        # Lifting the denial lets the kept records through, without a restart.
        iam = boto3.client("iam", endpoint_url=moto_auth.endpoint, region_name="us-east-1",
                           aws_access_key_id=wk, aws_secret_access_key=ws)
        iam.put_user_policy(UserName="denied", PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        expect_lines(s3, "policy-bucket", recs, "delivery once the policy allows it")


def test_moto_virtual_hosted_addressing(moto, tmp_path):
    """bucket.localhost:PORT (libcurl resolves *.localhost to the loopback address)."""
    s3 = moto.client()
    s3.create_bucket(Bucket="vhost-bucket")
    endpoint = "http://localhost:%d" % moto.port
    with start_with_buckets(tmp_path, [("vhost-bucket", endpoint, "test", "test",
                                        'addressing = "virtual"')]) as h:
        make_stream(h, "vh", "vhost-bucket")
        recs = records("vh", 20)
        put_records(h, "vh", recs)
        expect_lines(s3, "vhost-bucket", recs, "delivery with virtual-hosted addressing")
        assert "addressing=virtual" in h.log()


def test_s3rver_multipart_object(s3rver, tmp_path):
    s3 = s3rver.client("S3RVER", "S3RVER")
    s3.create_bucket(Bucket="s3rver-big")
    with start_with_buckets(tmp_path, [("s3rver-big", s3rver.endpoint, "S3RVER", "S3RVER",
                                        "part_size_mb = 5")]) as h:
        make_stream(h, "sb", "s3rver-big", BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 3})
        big = [b"%06d:%s\n" % (i, b"%032x" % i * 3000) for i in range(120)]  # ~11 MiB
        put_records(h, "sb", big)
        expect_lines(s3, "s3rver-big", big, "multipart object on s3rver", timeout=120)
        assert any(o["Size"] > 5 << 20 for o in remote_objects(s3, "s3rver-big").values())
        assert "multipart_abort_failed" not in h.log()


def test_moto_kms_encryption_config_sets_sse_headers(moto, tmp_path):
    """EncryptionConfiguration.KMSEncryptionConfig: objects are written with
    SSE-KMS (aws:kms and the key ARN), as Firehose asks S3 to."""
    s3 = moto.client()
    s3.create_bucket(Bucket="kms-bucket")
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012"
    with start_with_buckets(tmp_path, [("kms-bucket", moto.endpoint, "test", "test")]) as h:
        make_stream(h, "kms", "kms-bucket",
                    EncryptionConfiguration={"KMSEncryptionConfig": {"AWSKMSKeyARN": key_arn}})
        recs = records("kms", 10)
        put_records(h, "kms", recs)
        wait_for(lambda: len(delivered_lines(s3, "kms-bucket")) >= len(recs), timeout=60,
                 what="delivery with SSE-KMS")
        for key in remote_objects(s3, "kms-bucket"):
            head = s3.head_object(Bucket="kms-bucket", Key=key)
            assert head["ServerSideEncryption"] == "aws:kms", head
            assert head["SSEKMSKeyId"] == key_arn, head


def test_moto_assume_role_of_the_role_arn(moto_auth, tmp_path):
    """assume_role = true: hydrant's own key may only call sts:AssumeRole; the
    destination's RoleARN (allowed s3:*) is what writes. Without assume_role the same
    key is refused."""
    wk, ws = moto_auth.keys["writer"]
    iam = boto3.client("iam", endpoint_url=moto_auth.endpoint, region_name="us-east-1",
                       aws_access_key_id=wk, aws_secret_access_key=ws)
    role = iam.create_role(RoleName="firehose-role", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                                                  "Action": "sts:AssumeRole"}]}))["Role"]
    iam.put_role_policy(RoleName="firehose-role", PolicyName="s3", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    iam.create_user(UserName="roleonly")
    iam.put_user_policy(UserName="roleonly", PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                  "Resource": "*"}]}))
    k = iam.create_access_key(UserName="roleonly")["AccessKey"]
    rk, rs = k["AccessKeyId"], k["SecretAccessKey"]
    s3 = moto_auth.client(wk, ws)
    s3.create_bucket(Bucket="role-bucket")
    s3.create_bucket(Bucket="norole-bucket")
    with start_with_buckets(tmp_path, [
        ("role-bucket", moto_auth.endpoint, rk, rs,
         'assume_role = true\nsts_endpoint = "%s"' % moto_auth.endpoint),
        ("norole-bucket", moto_auth.endpoint, rk, rs),
    ]) as h:
        make_stream(h, "role", "role-bucket", RoleARN=role["Arn"])
        make_stream(h, "norole", "norole-bucket", RoleARN=role["Arn"])
        recs = records("role", 20)
        put_records(h, "role", recs)
        put_records(h, "norole", records("norole", 3))
        expect_lines(s3, "role-bucket", recs, "delivery as the assumed role")
        wait_for(lambda: re.search(r"stream=norole event=(?:destination|delivery)_failed .*S3\.AccessDenied",
                                   h.log()), timeout=30, what="S3.AccessDenied without the role")
        assert not remote_objects(s3, "norole-bucket")
