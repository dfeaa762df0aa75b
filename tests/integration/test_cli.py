"""The README walk-through, driven only with the AWS CLI v2 (/usr/bin/aws): what a user
types, what they see (exit codes, JSON output, error names, object bytes)."""
import base64
import json
import os
import re
import time

from conftest import aws, aws_json, s3_cat, s3_dest, s3_ls, wait_for

KEY_RE = re.compile(
    r"^(\d{4})/(\d{2})/(\d{2})/(\d{2})/(?P<stream>[A-Za-z0-9_.-]+)-(?P<version>\d+)-"
    r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def create_stream(h, name, bucket, *extra, **kw):
    return aws(h, "firehose", "create-delivery-stream", "--delivery-stream-name", name,
               "--extended-s3-destination-configuration", json.dumps(s3_dest(bucket, **kw)), *extra,
               check=False)


def test_readme_walkthrough(hydrant, tmp_path):
    h = hydrant
    assert aws(h, "s3", "mb", "s3://events").stdout.strip() == "make_bucket: events"
    assert "events" in aws(h, "s3", "ls").stdout

    p = create_stream(h, "clicks", "events",
                      BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60})
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["DeliveryStreamARN"] == \
        "arn:aws:firehose:us-east-1:000000000000:deliverystream/clicks"

    d = aws_json(h, "firehose", "describe-delivery-stream",
                 "--delivery-stream-name", "clicks")["DeliveryStreamDescription"]
    assert d["DeliveryStreamStatus"] == "ACTIVE"
    assert d["VersionId"] == "1"
    assert d["DeliveryStreamType"] == "DirectPut"
    ext = d["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert ext["BucketARN"] == "arn:aws:s3:::events"
    assert ext["BufferingHints"] == {"SizeInMBs": 1, "IntervalInSeconds": 60}
    assert ext["CompressionFormat"] == "UNCOMPRESSED"
    assert ext["EncryptionConfiguration"] == {"NoEncryptionConfig": "NoEncryption"}
    assert ext["CloudWatchLoggingOptions"] == {"Enabled": False}

    lst = aws_json(h, "firehose", "list-delivery-streams")
    assert lst["DeliveryStreamNames"] == ["clicks"]
    assert lst["HasMoreDeliveryStreams"] is False

    sent = []
    # put-record with base64 data (the CLI v2 default).
    rec1 = b'{"user":1,"page":"/"}\n'
    r = aws_json(h, "firehose", "put-record", "--delivery-stream-name", "clicks",
                 "--record", json.dumps({"Data": base64.b64encode(rec1).decode()}))
    assert r["RecordId"]
    sent.append(rec1)
    # put-record with raw text, which the CLI base64-encodes itself.
    rec2 = '{"user":2,"page":"/caf\u00e9"}\n'
    r = aws_json(h, "firehose", "put-record", "--cli-binary-format", "raw-in-base64-out",
                 "--delivery-stream-name", "clicks", "--record", json.dumps({"Data": rec2}))
    assert r["RecordId"]
    sent.append(rec2.encode())
    # put-record-batch: ten 100,000-byte records keep the buffer under 1 MiB, the
    # eleventh crosses it, so the size hint (not the 60 s interval) delivers everything.
    batch = [(b"%02d" % i) + bytes([65 + i]) * 99997 + b"\n" for i in range(11)]
    recfile = tmp_path / "records.json"
    recfile.write_text(json.dumps([{"Data": base64.b64encode(b).decode()} for b in batch]))
    t0 = time.time()
    r = aws_json(h, "firehose", "put-record-batch", "--delivery-stream-name", "clicks",
                 "--records", "file://%s" % recfile)
    assert r["FailedPutCount"] == 0
    assert len(r["RequestResponses"]) == 11
    assert all(x.get("RecordId") and "ErrorCode" not in x for x in r["RequestResponses"])
    sent += batch
    want = b"".join(sent)

    objs = wait_for(lambda: (lambda o: o if sum(o.values()) >= len(want) else None)(s3_ls(h, "events")),
                    timeout=40, interval=1, what="size-triggered delivery seen by `aws s3 ls`")
    assert time.time() - t0 < 40  # well before the 60 s interval
    assert len(objs) == 1, objs
    key, size = next(iter(objs.items()))
    assert size == len(want)
    m = KEY_RE.match(key)
    assert m, key
    assert m.group("stream") == "clicks" and m.group("version") == "1"
    body = s3_cat(h, "events", key)
    assert body == want

    # Any file goes up and comes back byte for byte.
    local = tmp_path / "upload me.bin"
    payload = os.urandom(300000) + b"end"
    local.write_bytes(payload)
    aws(h, "s3", "cp", str(local), "s3://events/uploads/upload me.bin")
    assert s3_ls(h, "events")["uploads/upload me.bin"] == len(payload)
    back = tmp_path / "back.bin"
    aws(h, "s3", "cp", "s3://events/uploads/upload me.bin", str(back))
    assert back.read_bytes() == payload

    # A bucket with objects cannot be removed.
    p = aws(h, "s3", "rb", "s3://events", check=False)
    assert p.returncode != 0 and "BucketNotEmpty" in p.stderr, p.stderr
    aws(h, "s3", "rm", "s3://events/uploads/upload me.bin")
    aws(h, "s3", "rm", "s3://events/" + key)
    assert s3_ls(h, "events") == {}
    p = aws(h, "s3", "cp", "s3://events/" + key, "-", check=False)
    assert p.returncode != 0 and ("404" in p.stderr or "Not Found" in p.stderr), p.stderr
    aws(h, "s3", "rb", "s3://events")
    assert "events" not in aws(h, "s3", "ls").stdout


def test_error_exit_codes_and_messages(hydrant):
    h = hydrant
    aws(h, "s3", "mb", "s3://errs")
    # Put to a stream that does not exist: a service error, exit 254.
    p = aws(h, "firehose", "put-record", "--delivery-stream-name", "missing",
            "--record", "Data=aGVsbG8=", check=False)
    assert p.returncode == 254, (p.returncode, p.stderr)
    assert "ResourceNotFoundException" in p.stderr and "PutRecord" in p.stderr
    assert "missing" in p.stderr
    p = aws(h, "firehose", "put-record-batch", "--delivery-stream-name", "missing",
            "--records", "Data=aGVsbG8=", check=False)
    assert p.returncode == 254 and "ResourceNotFoundException" in p.stderr, p.stderr

    # A name outside [a-zA-Z0-9_.-] is refused by the server (the CLI checks only length).
    p = create_stream(h, "bad name!", "errs")
    assert p.returncode == 254, (p.returncode, p.stderr)
    assert "ValidationException" in p.stderr and "deliveryStreamName" in p.stderr, p.stderr
    assert aws_json(h, "firehose", "list-delivery-streams")["DeliveryStreamNames"] == []

    assert create_stream(h, "dup", "errs").returncode == 0
    p = create_stream(h, "dup", "errs")
    assert p.returncode == 254 and "ResourceInUseException" in p.stderr, p.stderr

    # UpdateDestination with a stale version id.
    upd = json.dumps({"Prefix": "v2/"})
    aws(h, "firehose", "update-destination", "--delivery-stream-name", "dup",
        "--current-delivery-stream-version-id", "1", "--destination-id", "destinationId-000000000001",
        "--extended-s3-destination-update", upd)
    d = aws_json(h, "firehose", "describe-delivery-stream", "--delivery-stream-name", "dup")
    d = d["DeliveryStreamDescription"]
    assert d["VersionId"] == "2"
    assert d["Destinations"][0]["ExtendedS3DestinationDescription"]["Prefix"] == "v2/"
    p = aws(h, "firehose", "update-destination", "--delivery-stream-name", "dup",
            "--current-delivery-stream-version-id", "1", "--destination-id", "destinationId-000000000001",
            "--extended-s3-destination-update", json.dumps({"Prefix": "v3/"}), check=False)
    assert p.returncode == 254 and "ConcurrentModificationException" in p.stderr, p.stderr
    d = aws_json(h, "firehose", "describe-delivery-stream", "--delivery-stream-name", "dup")
    d = d["DeliveryStreamDescription"]
    assert d["VersionId"] == "2"
    assert d["Destinations"][0]["ExtendedS3DestinationDescription"]["Prefix"] == "v2/"

    # Client-side refusal (the CLI's model minimum of 60 s) never reaches the server.
    p = create_stream(h, "fast", "errs", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 1})
    assert p.returncode == 252, (p.returncode, p.stderr)
    assert aws_json(h, "firehose", "list-delivery-streams")["DeliveryStreamNames"] == ["dup"]


def test_tags(hydrant):
    h = hydrant
    p = create_stream(h, "tagged", "b", "--tags", "Key=team,Value=data")
    assert p.returncode == 0, p.stderr

    def tags():
        r = aws_json(h, "firehose", "list-tags-for-delivery-stream", "--delivery-stream-name", "tagged")
        assert r["HasMoreTags"] is False
        return {t["Key"]: t.get("Value", "") for t in r["Tags"]}
    assert tags() == {"team": "data"}
    aws(h, "firehose", "tag-delivery-stream", "--delivery-stream-name", "tagged",
        "--tags", "Key=env,Value=prod", "Key=team,Value=platform")
    assert tags() == {"team": "platform", "env": "prod"}
    aws(h, "firehose", "untag-delivery-stream", "--delivery-stream-name", "tagged",
        "--tag-keys", "team", "absent")
    assert tags() == {"env": "prod"}
    p = aws(h, "firehose", "tag-delivery-stream", "--delivery-stream-name", "nope",
            "--tags", "Key=a,Value=b", check=False)
    assert p.returncode == 254 and "ResourceNotFoundException" in p.stderr, p.stderr


def test_delete_delivery_stream(hydrant):
    h = hydrant
    for name in ("keep", "gone"):
        assert create_stream(h, name, "b").returncode == 0
    assert aws_json(h, "firehose", "list-delivery-streams")["DeliveryStreamNames"] == ["gone", "keep"]
    aws(h, "firehose", "delete-delivery-stream", "--delivery-stream-name", "gone")

    def gone():
        p = aws(h, "firehose", "describe-delivery-stream", "--delivery-stream-name", "gone", check=False)
        return p.returncode == 254 and "ResourceNotFoundException" in p.stderr
    wait_for(gone, timeout=20, interval=0.5, what="the deleted stream to disappear")
    assert aws_json(h, "firehose", "list-delivery-streams")["DeliveryStreamNames"] == ["keep"]
    p = aws(h, "firehose", "put-record", "--delivery-stream-name", "gone",
            "--record", "Data=aGVsbG8=", check=False)
    assert p.returncode == 254 and "ResourceNotFoundException" in p.stderr, p.stderr
    p = aws(h, "firehose", "delete-delivery-stream", "--delivery-stream-name", "gone", check=False)
    assert p.returncode == 254 and "ResourceNotFoundException" in p.stderr, p.stderr
    # The name can be used again once its files are gone (in the background).
    wait_for(lambda: create_stream(h, "gone", "b").returncode == 0, timeout=10, interval=0.2,
             what="the name to be free again")
