"""Observability of Kinesis (docs/kinesis.md, "Observability"), with the real
binary: puts (boto3 PutRecords and PutRecord) and reads (GetRecords) show in
GET /metrics as Kinesis Data Streams' stream metrics (hydrant_kinesis_*,
label stream="NAME"), and `hydrant doctor` says why a Kinesis-sourced delivery
stream gets nothing when its source stream was deleted."""
import json
import re
import subprocess
import time

import pytest

from conftest import (HYDRANT, ensure_bucket, metrics_text, start_with_config, wait_for)

KINESIS_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/%s"
ROLE = "arn:aws:iam::000000000000:role/firehose"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("kobs")
    with start_with_config(root, "metrics_period_seconds = 1") as h:
        yield h


def kmetric(text, name, stream):
    """The sample name{stream="STREAM"} of a /metrics text, or None."""
    m = re.search(r"^" + re.escape('%s{stream="%s"}' % (name, stream)) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def test_puts_and_reads_show_in_metrics(server):
    k = server.client("kinesis")
    k.create_stream(StreamName="obs", ShardCount=1)
    text = metrics_text(server)
    # A new stream has its counters at 0, and no success ratio before a call.
    assert kmetric(text, "hydrant_kinesis_incoming_records_total", "obs") == 0
    assert kmetric(text, "hydrant_kinesis_put_records_success_ratio", "obs") is None
    assert "# TYPE hydrant_kinesis_put_records_latency_seconds histogram" in text

    r = k.put_records(StreamName="obs", Records=[
        {"PartitionKey": "a", "Data": b"12345"},
        {"PartitionKey": "b", "Data": b"678"},
        {"PartitionKey": "c", "Data": b"90"}])
    assert r["FailedRecordCount"] == 0
    k.put_records(StreamName="obs", Records=[{"PartitionKey": "d", "Data": b"x" * 100}])
    k.put_record(StreamName="obs", PartitionKey="e", Data=b"single")
    it = k.get_shard_iterator(StreamName="obs", ShardId="shardId-000000000000",
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    time.sleep(0.3)  # the records' age at the read
    got = k.get_records(ShardIterator=it, Limit=100)
    assert len(got["Records"]) == 5
    # Caught up: the next call returns nothing, its iterator age is 0.
    empty = k.get_records(ShardIterator=got["NextShardIterator"])
    assert empty["Records"] == []

    text = metrics_text(server)
    m = lambda name: kmetric(text, name, "obs")  # noqa: E731
    assert m("hydrant_kinesis_incoming_records_total") == 5
    assert m("hydrant_kinesis_incoming_bytes_total") == 5 + 3 + 2 + 100 + 6
    # Two PutRecords calls of 3 and 1 records. (PutRecord is counted apart once
    # the Kinesis API passes kinesis::PutOp::kPutRecord: the sums hold either way.)
    assert m("hydrant_kinesis_put_records_total_records_total") >= 4
    assert m("hydrant_kinesis_put_records_successful_records_total") >= 4
    assert m("hydrant_kinesis_put_records_failed_records_total") == 0
    assert m("hydrant_kinesis_put_records_throttled_records_total") == 0
    assert m("hydrant_kinesis_put_records_success_ratio") == 1
    assert m("hydrant_kinesis_put_records_requests_total") + m("hydrant_kinesis_put_record_requests_total") == 3
    assert m("hydrant_kinesis_put_records_success_total") + m("hydrant_kinesis_put_record_success_total") == 3
    assert m("hydrant_kinesis_put_records_bytes_total") + m("hydrant_kinesis_put_record_bytes_total") == 116
    assert (m("hydrant_kinesis_put_records_latency_seconds_count") +
            m("hydrant_kinesis_put_record_latency_seconds_count")) == 3
    assert m("hydrant_kinesis_put_records_latency_seconds_sum") > 0  # a durable put takes time
    # Reads.
    assert m("hydrant_kinesis_get_records_requests_total") == 2
    assert m("hydrant_kinesis_get_records_success_total") == 2
    assert m("hydrant_kinesis_get_records_success_ratio") == 1
    assert m("hydrant_kinesis_get_records_records_total") == 5
    assert m("hydrant_kinesis_get_records_bytes_total") == 116
    assert m("hydrant_kinesis_get_records_latency_seconds_count") == 2
    assert m("hydrant_kinesis_get_records_iterator_age_milliseconds") == 0  # the latest call: caught up
    assert m("hydrant_kinesis_write_provisioned_throughput_exceeded_total") == 0
    assert m("hydrant_kinesis_read_provisioned_throughput_exceeded_total") == 0


def test_iterator_age_is_the_age_of_the_last_record_returned(server):
    k = server.client("kinesis")
    k.create_stream(StreamName="aged", ShardCount=1)
    k.put_record(StreamName="aged", PartitionKey="a", Data=b"old")
    time.sleep(1.2)
    it = k.get_shard_iterator(StreamName="aged", ShardId="shardId-000000000000",
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert len(k.get_records(ShardIterator=it)["Records"]) == 1
    age = kmetric(metrics_text(server), "hydrant_kinesis_get_records_iterator_age_milliseconds", "aged")
    assert 1000 <= age < 60_000, age


def test_a_deleted_stream_has_no_samples(server):
    k = server.client("kinesis")
    k.create_stream(StreamName="short-lived", ShardCount=1)
    k.put_record(StreamName="short-lived", PartitionKey="a", Data=b"x")
    assert kmetric(metrics_text(server), "hydrant_kinesis_incoming_records_total", "short-lived") == 1
    k.delete_stream(StreamName="short-lived")
    wait_for(lambda: 'stream="short-lived"' not in metrics_text(server), what="the samples gone")


def doctor_report(h, stream):
    p = subprocess.run([HYDRANT, "doctor", stream, "--endpoint", h.endpoint, "--json"],
                       capture_output=True, text=True, timeout=90)
    assert p.returncode in (0, 1), (p.returncode, p.stderr)
    r = json.loads(p.stdout)
    r["rc"] = p.returncode
    r["by_id"] = {c["id"]: c for c in r["checks"]}
    return r


def test_doctor_says_the_source_stream_was_deleted(server):
    k = server.client("kinesis")
    k.create_stream(StreamName="doomed", ShardCount=1)
    ensure_bucket(server, "kobs-out")
    server.client("firehose", validate=False).create_delivery_stream(
        DeliveryStreamName="from-doomed", DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": KINESIS_ARN % "doomed", "RoleARN": ROLE},
        ExtendedS3DestinationConfiguration={
            "BucketARN": "arn:aws:s3:::kobs-out", "RoleARN": ROLE, "Prefix": "from-doomed/",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1},
            "CloudWatchLoggingOptions": {"Enabled": True, "LogGroupName": "/aws/kinesisfirehose/from-doomed",
                                         "LogStreamName": "DestinationDelivery"}})
    k.put_record(StreamName="doomed", PartitionKey="a", Data=b"before\n")
    # Reading works: the check passes (and incoming-data does not apply).
    r = wait_for(lambda: (lambda r: r if "1 records" in r["by_id"]["kinesis-source"]["evidence"] else None)(
        doctor_report(server, "from-doomed")), timeout=30, interval=0.5, what="the record read")
    assert r["by_id"]["kinesis-source"]["status"] == "passed", r["by_id"]["kinesis-source"]
    assert r["by_id"]["incoming-data"]["status"] == "not_applicable"

    k.delete_stream(StreamName="doomed")

    def failing():
        r = doctor_report(server, "from-doomed")
        c = r["by_id"]["kinesis-source"]
        return r if c["status"] == "failed" and "failed reads" in c["evidence"] else None
    r = wait_for(failing, timeout=30, interval=0.5, what="the kinesis-source check failing")
    assert r["rc"] == 1 and r["healthy"] is False
    c = r["by_id"]["kinesis-source"]
    assert c["errorCode"] == "Kinesis.ResourceNotFound", c
    assert (KINESIS_ARN % "doomed") + " cannot be read: Stream doomed under account 000000000000 not found." \
        in c["evidence"], c
    assert "Kinesis.ResourceNotFound x" in c["evidence"], c
    assert "create-stream" in c["fix"]
    # The text report has the failing line with its reason.
    p = subprocess.run([HYDRANT, "doctor", "from-doomed", "--endpoint", server.endpoint],
                       capture_output=True, text=True, timeout=90)
    assert p.returncode == 1
    line = next(l for l in p.stdout.splitlines() if l[6:].startswith("kinesis source "))
    assert line.startswith("FAIL  ") and "cannot be read" in line and "fix: create the Kinesis stream" in line
