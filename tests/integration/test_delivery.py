"""Buffered delivery into the embedded store: buffering hints, naming, compression
(decoded with independent libraries), retries, restarts and the disk quota."""
import gzip
import io
import re
import time
import zipfile

import pytest
import snappy
import snappy.hadoop_snappy
import snappy.snappy as _snappy_impl

from conftest import Hydrant, list_keys, make_stream, metrics_text, read_objects, s3_dest, wait_for

# Debian's python3-snappy 0.5.3 cannot compute CRC-32C on Python 3.11 (its C helper
# raises SystemError); give its framing reader the python3-crc32c implementation.
try:
    _snappy_impl._crc32c(b"a")
except SystemError:
    import crc32c
    _snappy_impl._crc32c = crc32c.crc32c

KEY_RE = re.compile(
    r"^(?P<prefix>.*)(?P<stream>[A-Za-z0-9_.-]+)-(?P<version>\d+)-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?P<ext>.*)$")


def test_interval_delivery_concatenates_without_delimiter(hydrant):
    make_stream(hydrant, "s", "bkt", create_bucket=True)
    fh = hydrant.client("firehose", validate=False)
    fh.put_record_batch(DeliveryStreamName="s", Records=[{"Data": b"a1"}, {"Data": b"b2"}])
    fh.put_record(DeliveryStreamName="s", Record={"Data": b"c3"})
    s3 = hydrant.client("s3")
    wait_for(lambda: read_objects(s3, "bkt"), what="an object")
    # Nothing else should follow: a record put now bounds the wait, since whatever
    # else came of the first three would be delivered before it.
    fh.put_record(DeliveryStreamName="s", Record={"Data": b"d4"})
    objs = wait_for(lambda: (lambda o: o if b"d4" in b"".join(o.values()) else None)(read_objects(s3, "bkt")),
                    what="the later record")
    assert b"".join(objs[k] for k in sorted(objs)) == b"a1b2c3" + b"d4"
    key = next(iter(objs))
    m = KEY_RE.match(key)
    assert m, key
    assert m.group("stream") == "s" and m.group("version") == "1" and m.group("ext") == ""
    # Default prefix: YYYY/MM/dd/HH/ of the oldest record's arrival, UTC.
    assert re.match(r"^\d{4}/\d{2}/\d{2}/\d{2}/$", m.group("prefix")), key
    now = time.gmtime()
    assert m.group("prefix") in (time.strftime("%Y/%m/%d/%H/", now),
                                 time.strftime("%Y/%m/%d/%H/", time.gmtime(time.time() - 60)))
    head = s3.head_object(Bucket="bkt", Key=key)
    assert head["ContentType"] == "application/octet-stream"


def test_metrics_count_known_traffic(hydrant):
    make_stream(hydrant, "m", "bkt", create_bucket=True)
    fh = hydrant.client("firehose")
    fh.put_record_batch(DeliveryStreamName="m", Records=[{"Data": b"12345"}] * 10)
    fh.put_record(DeliveryStreamName="m", Record={"Data": b"abc"})
    wait_for(lambda: 'hydrant_firehose_delivery_to_s3_records_total{delivery_stream="m"} 11\n'
             in metrics_text(hydrant), what="delivery counted")
    text = metrics_text(hydrant)
    for line in ['hydrant_firehose_incoming_records_total{delivery_stream="m"} 11',
                 'hydrant_firehose_incoming_bytes_total{delivery_stream="m"} 53',
                 'hydrant_firehose_incoming_put_requests_total{delivery_stream="m"} 2',
                 'hydrant_firehose_delivery_to_s3_bytes_total{delivery_stream="m"} 53',
                 'hydrant_backlog_records{delivery_stream="m"} 0']:
        assert line + "\n" in text, line
    assert "# TYPE hydrant_firehose_incoming_records_total counter" in text


def test_size_triggers_before_interval(hydrant):
    make_stream(hydrant, "big", "bkt", create_bucket=True,
                BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 900})
    fh = hydrant.client("firehose", validate=False)
    rec = b"x" * 100000
    for _ in range(3):
        fh.put_record_batch(DeliveryStreamName="big", Records=[{"Data": rec}] * 4)  # 1.2 MB
    s3 = hydrant.client("s3")
    keys = wait_for(lambda: list_keys(s3, "bkt"), timeout=20, what="size-triggered object")
    sizes = [s3.head_object(Bucket="bkt", Key=k)["ContentLength"] for k in keys]
    # The buffer fills at 1 MiB: the first object holds about 1 MiB, not everything.
    assert 1048576 <= sizes[0] <= 1048576 + 100000
    assert sum(sizes) <= 1200000


def test_interval_zero_delivers_at_once(hydrant):
    make_stream(hydrant, "zero", "bkt", create_bucket=True,
                BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0})
    hydrant.client("firehose").put_record(DeliveryStreamName="zero", Record={"Data": b"now"})
    s3 = hydrant.client("s3")
    t0 = time.time()
    wait_for(lambda: list_keys(s3, "bkt"), timeout=5, interval=0.05, what="immediate object")
    assert time.time() - t0 < 2


def test_interval_is_respected(hydrant):
    make_stream(hydrant, "slow", "bkt", create_bucket=True,
                BufferingHints={"SizeInMBs": 5, "IntervalInSeconds": 4})
    hydrant.client("firehose").put_record(DeliveryStreamName="slow", Record={"Data": b"later"})
    s3 = hydrant.client("s3")
    t0 = time.time()
    last_empty = [t0]  # when a listing last started that found the bucket empty

    def listing():
        t = time.time()
        keys = list_keys(s3, "bkt")
        if not keys:
            last_empty[0] = t
        return keys
    wait_for(listing, timeout=12, what="interval object")
    assert last_empty[0] - t0 >= 2, "delivered %.1f s after the put" % (last_empty[0] - t0)


@pytest.mark.parametrize("fmt,ext", [("GZIP", ".gz"), ("ZIP", ".zip"), ("Snappy", ".snappy"),
                                     ("HADOOP_SNAPPY", ".snappy"), ("UNCOMPRESSED", "")])
def test_compression_readable_by_standard_libraries(hydrant, fmt, ext):
    make_stream(hydrant, "c", "bkt", create_bucket=True, CompressionFormat=fmt)
    records = [("line %d %s\n" % (i, "z" * (i % 50))).encode() for i in range(2000)]
    fh = hydrant.client("firehose", validate=False)
    for i in range(0, len(records), 500):
        fh.put_record_batch(DeliveryStreamName="c", Records=[{"Data": r} for r in records[i:i + 500]])
    s3 = hydrant.client("s3")
    want = b"".join(records)

    def decoded():
        out = b""
        for k, body in sorted(read_objects(s3, "bkt").items()):
            assert k.endswith(ext) if ext else KEY_RE.match(k).group("ext") == ""
            if fmt == "GZIP":
                out += gzip.decompress(body)
            elif fmt == "ZIP":
                z = zipfile.ZipFile(io.BytesIO(body))
                assert len(z.namelist()) == 1
                out += z.read(z.namelist()[0])
            elif fmt == "Snappy":
                out += snappy.StreamDecompressor().decompress(body)
            elif fmt == "HADOOP_SNAPPY":
                out += snappy.hadoop_snappy.StreamDecompressor().decompress(body)
            else:
                out += body
        return out if len(out) >= len(want) else None
    assert wait_for(decoded, what="all records decoded") == want
    if fmt == "GZIP":
        k = list_keys(s3, "bkt")[0]
        assert s3.head_object(Bucket="bkt", Key=k).get("ContentEncoding") == "gzip"


def firehose_call(h, op, body):
    """A raw JSON 1.1 call, for members newer than Debian's botocore model (FileExtension)."""
    import json
    import urllib.request
    req = urllib.request.Request(h.endpoint + "/", data=json.dumps(body).encode(), method="POST", headers={
        "X-Amz-Target": "Firehose_20150804." + op, "Content-Type": "application/x-amz-json-1.1"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def test_custom_prefix_and_extension(hydrant):
    hydrant.client("s3").create_bucket(Bucket="bkt")
    firehose_call(hydrant, "CreateDeliveryStream", {
        "DeliveryStreamName": "pfx",
        "ExtendedS3DestinationConfiguration": s3_dest(
            "bkt", Prefix="year=!{timestamp:yyyy}/!{firehose:random-string}/",
            ErrorOutputPrefix="errors/!{firehose:error-output-type}/", FileExtension=".json",
            BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 1})})
    hydrant.client("firehose").put_record(DeliveryStreamName="pfx", Record={"Data": b"{}"})
    s3 = hydrant.client("s3")
    key = wait_for(lambda: list_keys(s3, "bkt"), what="object")[0]
    year = time.strftime("%Y", time.gmtime())
    assert re.match(r"^year=%s/[0-9a-f]{11}/pfx-1-.*\.json$" % year, key), key


def test_static_prefix_gets_timestamp_without_slash(hydrant):
    make_stream(hydrant, "st", "bkt", create_bucket=True, Prefix="logs")
    hydrant.client("firehose").put_record(DeliveryStreamName="st", Record={"Data": b"x"})
    s3 = hydrant.client("s3")
    key = wait_for(lambda: list_keys(s3, "bkt"), what="object")[0]
    assert re.match(r"^logs\d{4}/\d{2}/\d{2}/\d{2}/st-1-", key), key


def test_missing_bucket_is_retried_until_it_exists(hydrant):
    make_stream(hydrant, "late", "late-bucket")
    fh = hydrant.client("firehose")
    fh.put_record(DeliveryStreamName="late", Record={"Data": b"waited"})
    wait_for(lambda: "S3.NoSuchBucket" in hydrant.log(), what="a delivery attempt to fail")
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="late-bucket")
    objs = wait_for(lambda: read_objects(s3, "late-bucket"), timeout=40, what="delivery after bucket creation")
    assert b"".join(objs.values()) == b"waited"
    assert "S3.NoSuchBucket" in hydrant.log()


def test_failing_stream_does_not_stall_others(hydrant):
    make_stream(hydrant, "broken", "no-such-bucket")
    make_stream(hydrant, "fine", "ok-bucket", create_bucket=True)
    fh = hydrant.client("firehose")
    fh.put_record(DeliveryStreamName="broken", Record={"Data": b"stuck"})
    fh.put_record(DeliveryStreamName="fine", Record={"Data": b"flows"})
    s3 = hydrant.client("s3")
    objs = wait_for(lambda: read_objects(s3, "ok-bucket"), what="healthy stream's object")
    assert b"".join(objs.values()) == b"flows"


def test_backlog_delivered_after_restart(hydrant):
    make_stream(hydrant, "r", "bkt", create_bucket=True,
                BufferingHints={"SizeInMBs": 5, "IntervalInSeconds": 900})
    fh = hydrant.client("firehose")
    fh.put_record_batch(DeliveryStreamName="r", Records=[{"Data": b"%04d" % i} for i in range(100)])
    hydrant.kill()
    hydrant.start(hydrant.port)
    s3 = hydrant.client("s3")
    objs = wait_for(lambda: read_objects(s3, "bkt"), timeout=20, what="backlog object")
    assert b"".join(objs[k] for k in sorted(objs)) == b"".join(b"%04d" % i for i in range(100))


def test_update_changes_following_objects(hydrant):
    make_stream(hydrant, "upd", "bkt", create_bucket=True)
    fh = hydrant.client("firehose", validate=False)
    fh.put_record(DeliveryStreamName="upd", Record={"Data": b"v1"})
    s3 = hydrant.client("s3")
    wait_for(lambda: list_keys(s3, "bkt"), what="first object")
    fh.update_destination(DeliveryStreamName="upd", CurrentDeliveryStreamVersionId="1",
                          DestinationId="destinationId-000000000001",
                          ExtendedS3DestinationUpdate={"Prefix": "v2/", "CompressionFormat": "GZIP"})
    fh.put_record(DeliveryStreamName="upd", Record={"Data": b"second"})
    key = wait_for(lambda: list_keys(s3, "bkt", "v2"), what="object after update")[0]
    assert re.match(r"^v2/\d{4}/\d{2}/\d{2}/\d{2}/upd-2-.*\.gz$", key), key
    assert gzip.decompress(s3.get_object(Bucket="bkt", Key=key)["Body"].read()) == b"second"


def test_retention_drops_undeliverable_data(tmp_path):
    with Hydrant(str(tmp_path / "d"), ["--retention-seconds", "3"]).start() as h:
        make_stream(h, "exp", "never")
        fh = h.client("firehose")
        fh.put_record(DeliveryStreamName="exp", Record={"Data": b"lost"})
        wait_for(lambda: "event=records_expired" in h.log(), timeout=30, what="expiry log line")
        assert 'hydrant_expired_records_total{delivery_stream="exp"} 1\n' in metrics_text(h)
        # A record younger than the retention period is kept and delivered once the
        # bucket exists; only the expired one is gone.
        fh.put_record(DeliveryStreamName="exp", Record={"Data": b"kept"})
        h.client("s3").create_bucket(Bucket="never")
        s3 = h.client("s3")
        objs = wait_for(lambda: read_objects(s3, "never"), timeout=30, what="young record delivered")
        assert b"".join(objs.values()) == b"kept"


def test_disk_quota_refuses_with_slow_down(tmp_path):
    with Hydrant(str(tmp_path / "d"), ["--disk-quota-mb", "1"]).start() as h:
        make_stream(h, "q", "bkt")  # nothing drains the log
        fh = h.client("firehose", validate=False)
        acked = 0
        last = None
        for _ in range(20):
            r = fh.put_record_batch(DeliveryStreamName="q", Records=[{"Data": b"q" * 100000}])
            last = r
            if r["FailedPutCount"] == 0:
                acked += 1
            else:
                break
        assert last["FailedPutCount"] == 1
        assert last["RequestResponses"][0]["ErrorCode"] == "ServiceUnavailableException"
        assert last["RequestResponses"][0]["ErrorMessage"] == "Slow down."
        assert 5 <= acked <= 11
        with pytest.raises(Exception) as e:
            fh.put_record(DeliveryStreamName="q", Record={"Data": b"q" * 100000})
        assert e.value.response["Error"]["Code"] == "ServiceUnavailableException"
        # What was acknowledged is delivered once the bucket exists.
        h.client("s3").create_bucket(Bucket="bkt")
        s3 = h.client("s3")
        objs = wait_for(lambda: (lambda o: o if sum(map(len, o.values())) >= acked * 100000 else None)(
            read_objects(s3, "bkt")), timeout=40, what="acknowledged data")
        assert sum(map(len, objs.values())) == acked * 100000
