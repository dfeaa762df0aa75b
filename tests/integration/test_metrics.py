"""Firehose's CloudWatch metrics: exact Prometheus values at GET /metrics and the
recent time series at GET /metrics/series, after known traffic sent with boto3.
The servers here sample every second (metrics_period_seconds = 1)."""
import json
import re
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import make_stream, metric, metric_value, metrics_text, s3_dest, start_with_config, wait_for

PUT_SIZES = [10, 20, 30, 40, 50]   # N = 5 PutRecord
BATCHES, BATCH_RECORDS, BATCH_RECORD_SIZE = 3, 4, 7  # M = 3 PutRecordBatch of K = 4


def start(tmp_path, *args):
    return start_with_config(tmp_path, "metrics_period_seconds = 1\nmetrics_retention_seconds = 600\n", args)


@pytest.fixture
def server(tmp_path):
    with start(tmp_path) as h:
        yield h


def get(h, path):
    with urllib.request.urlopen(h.endpoint + path) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def series(h, query):
    return json.loads(get(h, "/metrics/series?" + query)[2])


def points(doc, stream, metric):
    s = next(s for s in doc["Streams"] if s["DeliveryStreamName"] == stream)
    return next(m for m in s["Metrics"] if m["MetricName"] == metric)["Datapoints"]


def total(h, stream, metric):
    return sum(p["Value"] for p in points(series(h, "stream=" + stream), stream, metric))


def send_known_traffic(h, name):
    fh = h.client("firehose")
    for n in PUT_SIZES:
        fh.put_record(DeliveryStreamName=name, Record={"Data": b"p" * n})
    for _ in range(BATCHES):
        r = fh.put_record_batch(DeliveryStreamName=name,
                                Records=[{"Data": b"b" * BATCH_RECORD_SIZE}] * BATCH_RECORDS)
        assert r["FailedPutCount"] == 0


def test_put_side_metrics_are_exact(server):
    server.client("s3").create_bucket(Bucket="bkt")
    make_stream(server, "met", "bkt")  # IntervalInSeconds 1: below boto3's 60
    fh = server.client("firehose", validate=False)
    fh.create_delivery_stream(DeliveryStreamName="idle", ExtendedS3DestinationConfiguration=s3_dest("bkt"))
    send_known_traffic(server, "met")
    d = fh.describe_delivery_stream(DeliveryStreamName="met")["DeliveryStreamDescription"]
    fh.describe_delivery_stream(DeliveryStreamName="met")
    fh.list_delivery_streams()
    fh.update_destination(DeliveryStreamName="met", CurrentDeliveryStreamVersionId=d["VersionId"],
                          DestinationId=d["Destinations"][0]["DestinationId"],
                          ExtendedS3DestinationUpdate={"Prefix": "p/"})

    put_bytes = sum(PUT_SIZES)
    batch_bytes = BATCHES * BATCH_RECORDS * BATCH_RECORD_SIZE
    records = len(PUT_SIZES) + BATCHES * BATCH_RECORDS
    status, ctype, text = get(server, "/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    expected = {
        "hydrant_firehose_incoming_bytes_total": put_bytes + batch_bytes,
        "hydrant_firehose_incoming_records_total": records,
        "hydrant_firehose_incoming_put_requests_total": len(PUT_SIZES) + BATCHES,
        "hydrant_firehose_throttled_records_total": 0,
        "hydrant_firehose_put_record_bytes_total": put_bytes,
        "hydrant_firehose_put_record_requests_total": len(PUT_SIZES),
        "hydrant_firehose_put_record_latency_seconds_count": len(PUT_SIZES),
        "hydrant_firehose_put_record_batch_bytes_total": batch_bytes,
        "hydrant_firehose_put_record_batch_records_total": BATCHES * BATCH_RECORDS,
        "hydrant_firehose_put_record_batch_requests_total": BATCHES,
        "hydrant_firehose_put_record_batch_latency_seconds_count": BATCHES,
        "hydrant_firehose_describe_delivery_stream_requests_total": 2,
        "hydrant_firehose_describe_delivery_stream_latency_seconds_count": 2,
        "hydrant_firehose_update_delivery_stream_requests_total": 1,
        # One client, one request at a time: each put waits for a flush of its own.
        "hydrant_log_sync_latency_seconds_count": len(PUT_SIZES) + BATCHES,
    }
    for name, want in expected.items():
        assert metric_value(text, name, "met") == want, name
        assert metric_value(text, name, "idle") == 0, name  # per stream: the other one saw nothing
    assert metric_value(text, "hydrant_firehose_list_delivery_streams_requests_total") == 1
    assert metric_value(text, "hydrant_firehose_list_delivery_streams_latency_seconds_count") == 1

    # Latency histograms: cumulative buckets ending in +Inf = _count, a positive sum.
    for op, n in (("put_record", len(PUT_SIZES)), ("put_record_batch", BATCHES)):
        name = "hydrant_firehose_%s_latency_seconds" % op
        assert "# TYPE %s histogram\n" % name in text
        buckets = re.findall(r'^%s_bucket\{delivery_stream="met",le="([^"]+)"\} (\S+)$' % name, text, re.M)
        assert [le for le, _ in buckets] == [
            "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
            "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"], buckets
        counts = [float(c) for _, c in buckets]
        assert counts == sorted(counts) and counts[-1] == n, buckets
        assert 0 < metric_value(text, name + "_sum", "met") < 30
    assert "# HELP hydrant_firehose_put_record_latency_seconds PutRecord.Latency: " in text
    assert "# HELP hydrant_firehose_incoming_bytes_total IncomingBytes: " in text
    assert "# TYPE hydrant_firehose_incoming_bytes_total counter\n" in text
    assert "# TYPE hydrant_firehose_delivery_to_s3_success_ratio gauge\n" in text
    assert "# TYPE hydrant_firehose_execute_processing_duration_seconds summary\n" in text
    # The whole page parses with Prometheus' own parser, every family documented.
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert all(f.documentation for f in families.values())
    latency = families["hydrant_firehose_put_record_batch_latency_seconds"]
    assert latency.type == "histogram"
    assert {s.labels["delivery_stream"] for s in latency.samples} == {"met", "idle"}
    assert families["hydrant_firehose_incoming_records"].type == "counter"  # parser drops _total

    # Delivery side, as far as the delivery loop maintains it today.
    wait_for(lambda: metric(server, "hydrant_firehose_delivery_to_s3_records_total", "met") == records,
             what="delivery counted")
    text = metrics_text(server)
    assert metric_value(text, "hydrant_firehose_delivery_to_s3_bytes_total", "met") == put_bytes + batch_bytes
    objects = metric_value(text, "hydrant_firehose_delivery_to_s3_objects_total", "met")
    assert objects >= 1
    assert metric_value(text, "hydrant_firehose_delivery_to_s3_put_attempts_total", "met") == objects
    assert metric_value(text, "hydrant_firehose_delivery_to_s3_put_successes_total", "met") == objects
    assert metric_value(text, "hydrant_firehose_delivery_to_s3_success_ratio", "met") == 1
    assert metric_value(text, "hydrant_firehose_delivery_to_s3_success_ratio", "idle") is None  # no put yet
    assert metric_value(text, "hydrant_firehose_delivery_to_s3_data_freshness_seconds", "met") == 0
    assert metric_value(text, "hydrant_backlog_records", "met") == 0
    # No processing configured: the ratio has no sample (as CloudWatch has no datapoint).
    assert metric_value(text, "hydrant_firehose_execute_processing_success_ratio", "met") is None
    assert metric_value(text, "hydrant_firehose_execute_processing_duration_seconds_count", "met") == 0

    # The same traffic in the time series, once the sampler has seen it.
    wait_for(lambda: total(server, "met", "DeliveryToS3.Records") == records, what="series caught up")
    doc = series(server, "stream=met")
    assert doc["PeriodSeconds"] == 1
    assert [s["DeliveryStreamName"] for s in doc["Streams"]] == ["met"]

    def sum_of(metric):
        return sum(p["Value"] for p in points(doc, "met", metric))

    assert sum_of("IncomingBytes") == put_bytes + batch_bytes
    assert sum_of("IncomingRecords") == records
    assert sum_of("IncomingPutRequests") == len(PUT_SIZES) + BATCHES
    assert sum_of("PutRecord.Bytes") == put_bytes
    assert sum_of("PutRecord.Requests") == len(PUT_SIZES)
    assert sum_of("PutRecordBatch.Records") == BATCHES * BATCH_RECORDS
    assert sum_of("PutRecordBatch.Requests") == BATCHES
    assert sum_of("DescribeDeliveryStream.Requests") == 2
    assert sum_of("UpdateDeliveryStream.Requests") == 1
    assert sum_of("DeliveryToS3.Bytes") == put_bytes + batch_bytes
    assert sum_of("DeliveryToS3.ObjectCount") == objects
    success = points(doc, "met", "DeliveryToS3.Success")
    assert success and all(p["Value"] == 1 for p in success), success
    assert sum(p["SampleCount"] for p in success) == objects
    assert points(doc, "met", "ExecuteProcessing.Success") == []  # no processing configured
    latency = points(doc, "met", "PutRecord.Latency")
    assert sum(p["SampleCount"] for p in latency) == len(PUT_SIZES)
    assert all(0 < p["Value"] <= p["Maximum"] + 1e-9 for p in latency), latency
    metrics = {m["MetricName"]: m for m in doc["Streams"][0]["Metrics"]}
    assert metrics["PutRecord.Latency"]["Unit"] == "Milliseconds"
    assert metrics["PutRecord.Latency"]["Statistic"] == "Average"
    assert metrics["IncomingBytes"]["Statistic"] == "Sum"
    assert metrics["DeliveryToS3.DataFreshness"]["Statistic"] == "Maximum"
    # Periods are aligned on the second and listed oldest first.
    stamps = [p["Timestamp"] for p in points(doc, "met", "IncomingBytes")]
    assert stamps == sorted(set(stamps)) and all(t % 1000 == 0 for t in stamps), stamps

    # Filters: one metric (comma list or repeated), since (epoch ms), window (s).
    one = series(server, "stream=met&metric=IncomingRecords,PutRecord.Bytes&metric=ThrottledRecords")
    assert [m["MetricName"] for m in one["Streams"][0]["Metrics"]] == [
        "IncomingRecords", "PutRecord.Bytes", "ThrottledRecords"]
    later = series(server, "stream=met&metric=IncomingRecords&since=%d" % (stamps[-1] + 1))
    assert points(later, "met", "IncomingRecords") == []
    both = series(server, "metric=IncomingRecords&window=600")
    assert [s["DeliveryStreamName"] for s in both["Streams"]] == ["idle", "met"]
    assert sum(p["Value"] for p in points(both, "idle", "IncomingRecords")) == 0


def test_series_errors(server):
    for query, code, err in (("stream=nope", 404, "ResourceNotFoundException"),
                             ("metric=IncomingBananas", 400, "InvalidArgumentException"),
                             ("since=yesterday", 400, "InvalidArgumentException"),
                             ("colour=blue", 400, "InvalidArgumentException")):
        with pytest.raises(urllib.error.HTTPError) as e:
            get(server, "/metrics/series?" + query)
        assert e.value.code == code, query
        assert json.loads(e.value.read())["__type"] == err, query
    assert series(server, "") == {"PeriodSeconds": 1, "Streams": []}


def test_freshness_grows_while_the_bucket_is_missing(server):
    make_stream(server, "stuck", "missing", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0})
    fh = server.client("firehose", validate=False)
    fh.put_record(DeliveryStreamName="stuck", Record={"Data": b"waiting"})
    freshness = "hydrant_firehose_delivery_to_s3_data_freshness_seconds"
    wait_for(lambda: (metric(server, freshness, "stuck") or 0) >= 2, what="DataFreshness grows")
    text = metrics_text(server)
    assert metric_value(text, "hydrant_firehose_delivery_to_s3_records_total", "stuck") == 0
    assert metric_value(text, "hydrant_delivery_failures_total", "stuck") >= 1
    assert metric_value(text, "hydrant_backlog_records", "stuck") == 1
    assert metric_value(text, "hydrant_firehose_delivery_to_s3_put_successes_total", "stuck") == 0
    # Every refused put counts as an attempt: DeliveryToS3.Success is 0 meanwhile.
    assert metric_value(text, "hydrant_firehose_delivery_to_s3_put_attempts_total", "stuck") >= 1
    assert metric_value(text, "hydrant_firehose_delivery_to_s3_success_ratio", "stuck") == 0
    fresh = wait_for(lambda: [p for p in points(series(server, "stream=stuck&metric=DeliveryToS3.DataFreshness"),
                                                "stuck", "DeliveryToS3.DataFreshness") if p["Value"] >= 1],
                     what="DataFreshness in the series")
    assert max(p["Value"] for p in fresh) < 120
    # Once the bucket exists the record goes out and freshness falls back to 0.
    server.client("s3").create_bucket(Bucket="missing")
    wait_for(lambda: metric(server, freshness, "stuck") == 0, what="freshness back to 0")
    text = metrics_text(server)
    assert metric_value(text, "hydrant_firehose_delivery_to_s3_records_total", "stuck") == 1
    attempts = metric_value(text, "hydrant_firehose_delivery_to_s3_put_attempts_total", "stuck")
    assert metric_value(text, "hydrant_firehose_delivery_to_s3_put_successes_total", "stuck") == 1
    assert metric_value(text, "hydrant_firehose_delivery_to_s3_success_ratio", "stuck") == 1 / attempts
    wait_for(lambda: total(server, "stuck", "DeliveryToS3.Records") == 1, what="series caught up")
    success = points(series(server, "stream=stuck"), "stuck", "DeliveryToS3.Success")
    assert sum(p["SampleCount"] for p in success) == attempts, success
    assert success[-1]["Value"] > 0, success


def test_throttled_records_counted(tmp_path):
    with start(tmp_path, "--disk-quota-mb", "1") as h:
        h.client("firehose").create_delivery_stream(
            DeliveryStreamName="q", ExtendedS3DestinationConfiguration=s3_dest("none"))  # never drains
        fh = h.client("firehose", validate=False)
        acked = 0
        for _ in range(20):
            r = fh.put_record_batch(DeliveryStreamName="q", Records=[{"Data": b"q" * 100000}] * 2)
            if r["FailedPutCount"]:
                break
            acked += 1
        assert r["FailedPutCount"] == 2
        text = metrics_text(h)
        assert metric_value(text, "hydrant_firehose_throttled_records_total", "q") == 2
        assert metric_value(text, "hydrant_firehose_incoming_put_requests_total", "q") == acked
        assert metric_value(text, "hydrant_firehose_put_record_batch_requests_total", "q") == acked + 1
        assert metric_value(text, "hydrant_firehose_put_record_batch_records_total", "q") == 2 * acked
        assert metric_value(text, "hydrant_firehose_put_record_batch_bytes_total", "q") == 200000 * acked
        assert metric_value(text, "hydrant_firehose_put_record_batch_latency_seconds_count", "q") == acked + 1
        wait_for(lambda: total(h, "q", "ThrottledRecords") == 2, what="ThrottledRecords in the series")
