"""The embedded object store through its S3 REST API, driven with boto3 (path style)."""
import hashlib
import os

import botocore
import pytest

from conftest import list_keys


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def status(excinfo):
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_bucket_lifecycle(hydrant):
    s3 = hydrant.client("s3")
    assert s3.list_buckets()["Buckets"] == []
    s3.create_bucket(Bucket="alpha")
    s3.create_bucket(Bucket="beta.logs-1")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert names == ["alpha", "beta.logs-1"]
    assert all("CreationDate" in b for b in s3.list_buckets()["Buckets"])
    assert s3.head_bucket(Bucket="alpha")["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_bucket(Bucket="missing")
    assert status(e) == 404
    s3.delete_bucket(Bucket="alpha")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["beta.logs-1"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket="alpha")
    assert code(e) == "NoSuchBucket"


@pytest.mark.parametrize("name", ["ab", "UpperCase", "under_score", "-leading", "a" * 64, "192.168.1.1",
                                  "double..dot"])
def test_invalid_bucket_name(hydrant, name):
    s3 = hydrant.client("s3", validate=False)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.create_bucket(Bucket=name)
    assert code(e) == "InvalidBucketName"
    assert status(e) == 400
    assert s3.list_buckets()["Buckets"] == []


def test_object_put_get_head_delete(hydrant):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="bkt")
    data = os.urandom(200000)
    put = s3.put_object(Bucket="bkt", Key="dir/obj.bin", Body=data, ContentType="application/x-test",
                        Metadata={"owner": "itest"})
    md5 = hashlib.md5(data).hexdigest()
    assert put["ETag"] == '"%s"' % md5
    got = s3.get_object(Bucket="bkt", Key="dir/obj.bin")
    assert got["Body"].read() == data
    assert got["ETag"] == '"%s"' % md5
    assert got["ContentLength"] == len(data)
    head = s3.head_object(Bucket="bkt", Key="dir/obj.bin")
    assert head["ContentLength"] == len(data)
    assert head["ContentType"] == "application/x-test"
    assert head["Metadata"] == {"owner": "itest"}
    assert head["ETag"] == '"%s"' % md5
    # Overwrite replaces.
    s3.put_object(Bucket="bkt", Key="dir/obj.bin", Body=b"short")
    assert s3.get_object(Bucket="bkt", Key="dir/obj.bin")["Body"].read() == b"short"
    # Empty objects.
    s3.put_object(Bucket="bkt", Key="empty", Body=b"")
    assert s3.get_object(Bucket="bkt", Key="empty")["Body"].read() == b""
    assert s3.head_object(Bucket="bkt", Key="empty")["ContentLength"] == 0
    s3.delete_object(Bucket="bkt", Key="dir/obj.bin")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="bkt", Key="dir/obj.bin")
    assert code(e) == "NoSuchKey" and status(e) == 404
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="bkt", Key="dir/obj.bin")
    assert status(e) == 404
    # Deleting a missing key succeeds (S3 answers 204).
    assert s3.delete_object(Bucket="bkt", Key="never-there")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert list_keys(s3, "bkt") == ["empty"]


def test_missing_bucket_errors(hydrant):
    s3 = hydrant.client("s3")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="nobucket", Key="k", Body=b"x")
    assert code(e) == "NoSuchBucket" and status(e) == 404
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="nobucket", Key="k")
    assert code(e) == "NoSuchBucket"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_objects_v2(Bucket="nobucket")
    assert code(e) == "NoSuchBucket"


def test_bucket_not_empty(hydrant):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="full")
    s3.put_object(Bucket="full", Key="a", Body=b"1")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket="full")
    assert code(e) == "BucketNotEmpty" and status(e) == 409
    assert s3.get_object(Bucket="full", Key="a")["Body"].read() == b"1"
    s3.delete_object(Bucket="full", Key="a")
    s3.delete_bucket(Bucket="full")
    assert s3.list_buckets()["Buckets"] == []


def test_range_gets(hydrant):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="rng")
    data = bytes(range(256)) * 40  # 10240 bytes
    s3.put_object(Bucket="rng", Key="k", Body=data)
    for rng, want in [("bytes=0-0", data[:1]), ("bytes=10-19", data[10:20]),
                      ("bytes=10000-", data[10000:]), ("bytes=-100", data[-100:]),
                      ("bytes=10200-99999", data[10200:])]:
        r = s3.get_object(Bucket="rng", Key="k", Range=rng)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 206, rng
        assert r["Body"].read() == want, rng
        assert r["ContentLength"] == len(want), rng
        assert r["ContentRange"].endswith("/10240"), (rng, r["ContentRange"])
    r = s3.get_object(Bucket="rng", Key="k", Range="bytes=10-19")
    assert r["ContentRange"] == "bytes 10-19/10240"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="rng", Key="k", Range="bytes=20000-20010")
    assert code(e) == "InvalidRange" and status(e) == 416


def test_list_prefix_delimiter_and_pagination(hydrant):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="lst")
    keys = ["logs/2024/%02d/part-%02d" % (m, i) for m in (1, 2) for i in range(10)]
    keys += ["logs/top-%d" % i for i in range(3)] + ["other/x", "z"]
    for k in keys:
        s3.put_object(Bucket="lst", Key=k, Body=k.encode())
    assert len(keys) == 25

    # Pagination: 25 keys, 7 per page, in UTF-8 byte order, each exactly once.
    seen, token, pages = [], None, 0
    while True:
        kw = {"Bucket": "lst", "MaxKeys": 7}
        if token:
            kw["ContinuationToken"] = token
        r = s3.list_objects_v2(**kw)
        pages += 1
        assert r["KeyCount"] == len(r.get("Contents", []))
        assert len(r.get("Contents", [])) <= 7
        seen += [o["Key"] for o in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    assert pages == 4
    assert seen == sorted(keys)
    sizes = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket="lst", MaxKeys=1000)["Contents"]}
    assert sizes == {k: len(k) for k in keys}

    r = s3.list_objects_v2(Bucket="lst", Prefix="logs/", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["logs/2024/"]
    assert [o["Key"] for o in r["Contents"]] == ["logs/top-0", "logs/top-1", "logs/top-2"]
    r = s3.list_objects_v2(Bucket="lst", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["logs/", "other/"]
    assert [o["Key"] for o in r["Contents"]] == ["z"]
    r = s3.list_objects_v2(Bucket="lst", Prefix="logs/2024/", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["logs/2024/01/", "logs/2024/02/"]
    assert "Contents" not in r
    r = s3.list_objects_v2(Bucket="lst", Prefix="logs/2024/02/part-0")
    assert [o["Key"] for o in r["Contents"]] == ["logs/2024/02/part-%02d" % i for i in range(10)]
    assert s3.list_objects_v2(Bucket="lst", Prefix="nothing")["KeyCount"] == 0
    # Delimiter listing paginates over prefixes and keys together.
    items, token = [], None
    while True:
        kw = {"Bucket": "lst", "Delimiter": "/", "Prefix": "logs/", "MaxKeys": 2}
        if token:
            kw["ContinuationToken"] = token
        r = s3.list_objects_v2(**kw)
        items += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        items += [o["Key"] for o in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    assert sorted(items) == ["logs/2024/", "logs/top-0", "logs/top-1", "logs/top-2"]
    # StartAfter and the v1 listing.
    r = s3.list_objects_v2(Bucket="lst", StartAfter="other/x")
    assert [o["Key"] for o in r["Contents"]] == ["z"]
    r = s3.list_objects(Bucket="lst", Prefix="logs/top")
    assert [o["Key"] for o in r["Contents"]] == ["logs/top-0", "logs/top-1", "logs/top-2"]


@pytest.mark.parametrize("key", ["with space/and more spaces.txt", "unicode/caf\u00e9/\u65e5\u672c\u8a9e/\U0001F600",
                                 "dots/../up/./here", "../leading", "a/./b", "plus+and%25percent&amp?q=1#frag",
                                 "trailing/", "//double//slash", "tab\there"])
def test_unusual_keys_round_trip(hydrant, key):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="keys")
    s3.put_object(Bucket="keys", Key="neighbour", Body=b"n")
    body = ("content of " + key).encode()
    s3.put_object(Bucket="keys", Key=key, Body=body)
    assert s3.get_object(Bucket="keys", Key=key)["Body"].read() == body
    assert s3.head_object(Bucket="keys", Key=key)["ContentLength"] == len(body)
    assert sorted(list_keys(s3, "keys")) == sorted([key, "neighbour"])
    # A '..' key must not have escaped onto another key.
    assert s3.get_object(Bucket="keys", Key="neighbour")["Body"].read() == b"n"
    s3.delete_object(Bucket="keys", Key=key)
    assert list_keys(s3, "keys") == ["neighbour"]


def test_objects_survive_restart(hydrant):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="persist")
    s3.create_bucket(Bucket="empty-one")
    objs = {"a/%d" % i: os.urandom(1000 + i) for i in range(20)}
    objs["caf\u00e9 key"] = b"unicode"
    for k, v in objs.items():
        s3.put_object(Bucket="persist", Key=k, Body=v)
    s3.delete_object(Bucket="persist", Key="a/0")
    del objs["a/0"]
    hydrant.restart()
    s3 = hydrant.client("s3")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["empty-one", "persist"]
    assert sorted(list_keys(s3, "persist")) == sorted(objs)
    for k, v in objs.items():
        assert s3.get_object(Bucket="persist", Key=k)["Body"].read() == v
    # And after a crash too.
    s3.put_object(Bucket="persist", Key="after", Body=b"acked")
    hydrant.kill()
    hydrant.start(hydrant.port)
    s3 = hydrant.client("s3")
    assert s3.get_object(Bucket="persist", Key="after")["Body"].read() == b"acked"
    assert len(list_keys(s3, "persist")) == len(objs) + 1
