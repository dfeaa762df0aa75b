"""Firehose delivery streams that read a Kinesis data stream (DeliveryStreamType
KinesisStreamAsSource, docs/kinesis.md), with the real binary: records put with
the AWS CLI v2 and boto3 (plain, and KPL aggregates built by the npm package
aws-kinesis-agg) reach the bucket de-aggregated; the Lambda event carries
sourceKinesisStreamArn and kinesisRecordMetadata; a shard split while the
stream is read keeps each parent's records before its children's; SIGKILL under
load loses no acknowledged record and duplicates none."""
import base64
import json
import os
import random
import subprocess
import threading
import time

import botocore
import pytest

from conftest import (ROOT, aws, ensure_bucket, lambda_arn, lambda_function_toml,
                      metric, read_objects, start_with_config, wait_for, write_handlers)

KINESIS_ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/%s"
ROLE = "arn:aws:iam::000000000000:role/firehose"

# Records each event's source ARN and every record's Kinesis metadata (one JSON
# line per invocation, in the order the invocations ran), then passes the data on.
HANDLERS = {
    "kmeta.py": '''
import json, os
def lambda_handler(event, context):
    with open(os.environ["EVENTS_FILE"], "a") as f:
        f.write(json.dumps({"source": event.get("sourceKinesisStreamArn"),
                            "stream": event["deliveryStreamArn"],
                            "records": [r.get("kinesisRecordMetadata") for r in event["records"]]}) + "\\n")
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]}
                        for r in event["records"]]}
''',
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("ksource")
    hdir = write_handlers(root / "handlers", HANDLERS)
    events = root / "events.jsonl"
    toml = lambda_function_toml("kmeta", runtime="python3", handler=hdir / "kmeta.py",
                                environment={"EVENTS_FILE": str(events)})
    with start_with_config(root, toml) as h:
        h.events_file = events
        yield h


def kinesis_sourced(h, name, kinesis_stream, bucket, processing=None, interval=1):
    ensure_bucket(h, bucket)
    dest = {"BucketARN": "arn:aws:s3:::" + bucket, "RoleARN": ROLE, "Prefix": name + "/",
            "ErrorOutputPrefix": name + "-errors/",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": interval}}
    if processing:
        dest["ProcessingConfiguration"] = processing
    h.client("firehose", validate=False).create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": KINESIS_ARN % kinesis_stream, "RoleARN": ROLE},
        ExtendedS3DestinationConfiguration=dest)


def delivered(h, bucket, prefix):
    return b"".join(read_objects(h.client("s3"), bucket, prefix).values())


def aggregate(records):
    """A KPL aggregate of [(partition key, bytes)], built by aws-kinesis-agg; base64."""
    script = ("const agg=require('aws-kinesis-agg');const a=new agg.RecordAggregator();"
              "for(const r of JSON.parse(process.argv[1]))a.addUserRecord({partitionKey:r[0],"
              "data:Buffer.from(r[1],'base64')});process.stdout.write(a.build().data.toString('base64'));")
    arg = json.dumps([[k, base64.b64encode(d).decode()] for k, d in records])
    return subprocess.run(["node", "-e", script, arg], cwd=os.path.join(ROOT, "tests", "js"),
                          check=True, capture_output=True, text=True).stdout


def test_plain_records_and_kpl_aggregates_reach_the_bucket(server):
    aws(server, "kinesis", "create-stream", "--stream-name", "plain-src", "--shard-count", "2")
    kinesis_sourced(server, "from-kinesis", "plain-src", "ks-out")
    d = server.client("firehose").describe_delivery_stream(
        DeliveryStreamName="from-kinesis")["DeliveryStreamDescription"]
    assert d["DeliveryStreamType"] == "KinesisStreamAsSource"
    src = d["Source"]["KinesisStreamSourceDescription"]
    assert src["KinesisStreamARN"] == KINESIS_ARN % "plain-src" and src["RoleARN"] == ROLE
    assert "DeliveryStartTimestamp" in src
    # Plain records with the CLI, an aggregate of 50 user records with boto3.
    for i in range(20):
        aws(server, "kinesis", "put-record", "--stream-name", "plain-src", "--partition-key", "p%d" % i,
            "--data", base64.b64encode(b"plain-%d\n" % i).decode())
    users = [("user-%d" % i, b"agg-%d\n" % i) for i in range(50)]
    server.client("kinesis").put_record(StreamName="plain-src", PartitionKey="kpl",
                                        Data=base64.b64decode(aggregate(users)))
    want = sorted([b"plain-%d" % i for i in range(20)] + [b"agg-%d" % i for i in range(50)])
    wait_for(lambda: sorted(delivered(server, "ks-out", "from-kinesis/").split()) == want,
             timeout=30, what="every record, de-aggregated, in the bucket")
    # Kinesis records read: 21 (the aggregate counts once), and its bytes.
    assert metric(server, "hydrant_firehose_data_read_from_kinesis_stream_records_total",
                  "from-kinesis") == 21
    # Firehose refuses puts to a stream that reads Kinesis.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        server.client("firehose").put_record(DeliveryStreamName="from-kinesis", Record={"Data": b"x"})
    assert e.value.response["Error"]["Message"] == \
        "This operation is not permitted on KinesisStreamAsSource delivery stream type."
    # A source that does not exist is refused at creation.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kinesis_sourced(server, "from-nothing", "no-such-stream", "ks-out")
    assert e.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert "no-such-stream" in e.value.response["Error"]["Message"]


def test_the_lambda_event_carries_the_kinesis_metadata(server):
    k = server.client("kinesis")
    k.create_stream(StreamName="meta-src", ShardCount=1)
    processing = {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
        {"ParameterName": "LambdaArn", "ParameterValue": lambda_arn("kmeta")},
        {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "1"}]}]}
    kinesis_sourced(server, "meta", "meta-src", "ks-meta", processing)
    plain = k.put_record(StreamName="meta-src", PartitionKey="pk-plain", Data=b"plain\n")
    agg = k.put_record(StreamName="meta-src", PartitionKey="pk-outer",
                       Data=base64.b64decode(aggregate([("u0", b"first\n"), ("u1", b"second\n")])))
    wait_for(lambda: sorted(delivered(server, "ks-meta", "meta/").split()) == [b"first", b"plain", b"second"],
             timeout=30, what="the transformed records")
    events = [json.loads(l) for l in server.events_file.read_text().splitlines()]
    mine = [e for e in events if e["stream"].endswith("/meta")]
    assert mine and all(e["source"] == KINESIS_ARN % "meta-src" for e in mine)
    metas = [m for e in mine for m in e["records"]]
    assert [(m["partitionKey"], m["sequenceNumber"], m["subsequenceNumber"]) for m in metas] == [
        ("pk-plain", plain["SequenceNumber"], 0),
        ("u0", agg["SequenceNumber"], 0), ("u1", agg["SequenceNumber"], 1)]
    assert all(m["shardId"] == "shardId-000000000000" for m in metas)
    assert all(isinstance(m["approximateArrivalTimestamp"], int) and
               abs(m["approximateArrivalTimestamp"] / 1000 - time.time()) < 120 for m in metas)


def test_a_split_while_reading_keeps_parents_before_children(server):
    k = server.client("kinesis")
    k.create_stream(StreamName="split-src", ShardCount=1)
    processing = {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
        {"ParameterName": "LambdaArn", "ParameterValue": lambda_arn("kmeta")},
        {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "1"}]}]}
    kinesis_sourced(server, "split", "split-src", "ks-split", processing)
    for i in range(100):
        k.put_record(StreamName="split-src", PartitionKey="k%d" % i, Data=b"before-%d\n" % i)
    k.split_shard(StreamName="split-src", ShardToSplit="shardId-000000000000",
                  NewStartingHashKey=str(2**127))
    for i in range(100):
        k.put_record(StreamName="split-src", PartitionKey="k%d" % i, Data=b"after-%d\n" % i)
    want = sorted([b"before-%d" % i for i in range(100)] + [b"after-%d" % i for i in range(100)])
    wait_for(lambda: sorted(delivered(server, "ks-split", "split/").split()) == want,
             timeout=40, what="every record before and after the split")
    events = [json.loads(l) for l in server.events_file.read_text().splitlines()]
    order = [m["shardId"] for e in events if e["stream"].endswith("/split") for m in e["records"]]
    assert order.count("shardId-000000000000") == 100
    last_parent = max(i for i, s in enumerate(order) if s == "shardId-000000000000")
    first_child = min(i for i, s in enumerate(order) if s != "shardId-000000000000")
    assert last_parent < first_child


def test_sigkill_under_load_loses_and_duplicates_nothing(tmp_path):
    from conftest import Hydrant
    h = Hydrant(str(tmp_path / "data")).start()
    try:
        k = h.client("kinesis")
        k.create_stream(StreamName="load-src", ShardCount=4)
        kinesis_sourced(h, "load", "load-src", "ks-load")
        acked, lock, stop = set(), threading.Lock(), threading.Event()

        def producer(tid):
            n = 0
            client = h.client("kinesis", connect_timeout=2, read_timeout=10)
            while not stop.is_set():
                ids = ["t%d-%d" % (tid, n + i) for i in range(50)]
                n += 50
                try:
                    r = client.put_records(StreamName="load-src", Records=[
                        {"Data": (i + "\n").encode(), "PartitionKey": i} for i in ids])
                except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
                    time.sleep(0.05)
                    client = h.client("kinesis", connect_timeout=2, read_timeout=10)
                    continue
                with lock:
                    acked.update(i for i, rr in zip(ids, r["Records"]) if "ErrorCode" not in rr)

        threads = [threading.Thread(target=producer, args=(t,), daemon=True) for t in range(3)]
        for t in threads:
            t.start()
        rnd = random.Random(16)
        for _ in range(3):
            time.sleep(rnd.uniform(0.5, 1.5))
            h.kill()
            h.start(h.port)
        time.sleep(1)
        stop.set()
        for t in threads:
            t.join(30)
        assert len(acked) > 1000

        def lines():
            return delivered(h, "ks-load", "load/").split()
        wait_for(lambda: acked <= {l.decode() for l in lines()}, timeout=60,
                 what="every acknowledged Kinesis record in the bucket")
        got = lines()
        assert len(got) == len(set(got)), "a record was delivered twice"
    finally:
        h.stop()


def test_an_external_stream_on_kinesalite_is_read_with_signed_calls(tmp_path):
    """kinesalite plays a Kinesis endpoint elsewhere ([[kinesis.sources]] in the
    TOML); the delivery stream reads it with signed ListShards, GetShardIterator
    and GetRecords calls."""
    import socket
    from conftest import free_port, stop_process_group
    port = free_port()
    kl = subprocess.Popen(["node", os.path.join(ROOT, "tests", "js", "node_modules", "kinesalite", "cli.js"),
                           "--port", str(port), "--createStreamMs", "0"], start_new_session=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def listening():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return True
            except OSError:
                return False
        wait_for(listening, timeout=20, what="kinesalite listening")
        import boto3
        ext = boto3.client("kinesis", endpoint_url="http://127.0.0.1:%d" % port, region_name="eu-west-1",
                           aws_access_key_id="ext", aws_secret_access_key="ext-secret")
        ext.create_stream(StreamName="ext", ShardCount=2)
        arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/ext"
        toml = ('[[kinesis.sources]]\nstream_arn = "%s"\nendpoint = "http://127.0.0.1:%d"\n'
                'access_key_id = "ext"\nsecret_access_key = "ext-secret"\n' % (arn, port))
        with start_with_config(tmp_path, toml) as h:
            ensure_bucket(h, "ks-ext")
            h.client("firehose", validate=False).create_delivery_stream(
                DeliveryStreamName="from-ext", DeliveryStreamType="KinesisStreamAsSource",
                KinesisStreamSourceConfiguration={"KinesisStreamARN": arn, "RoleARN": ROLE},
                ExtendedS3DestinationConfiguration={
                    "BucketARN": "arn:aws:s3:::ks-ext", "RoleARN": ROLE, "Prefix": "ext/",
                    "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1}})
            time.sleep(0.2)
            ext.put_records(StreamName="ext", Records=[
                {"Data": b"ext-%d\n" % i, "PartitionKey": "p%d" % i} for i in range(30)])
            want = sorted(b"ext-%d" % i for i in range(30))
            wait_for(lambda: sorted(delivered(h, "ks-ext", "ext/").split()) == want, timeout=30,
                     what="kinesalite's records in the bucket")
            # A stream ARN no entry names (and not hydrant's own) is refused.
            with pytest.raises(botocore.exceptions.ClientError) as e:
                h.client("firehose", validate=False).create_delivery_stream(
                    DeliveryStreamName="from-unknown", DeliveryStreamType="KinesisStreamAsSource",
                    KinesisStreamSourceConfiguration={
                        "KinesisStreamARN": "arn:aws:kinesis:ap-south-1:123456789012:stream/x",
                        "RoleARN": ROLE},
                    ExtendedS3DestinationConfiguration={"BucketARN": "arn:aws:s3:::ks-ext", "RoleARN": ROLE})
            assert e.value.response["Error"]["Code"] == "InvalidArgumentException"
    finally:
        stop_process_group(kl)


def blueprint_processing(name):
    return {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
        {"ParameterName": "LambdaArn", "ParameterValue": lambda_arn(name)},
        {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "1"}]}]}


def test_blueprints_behind_a_kinesis_source(server):
    """hydrant-kinesis-streams-processing reads the metadata and passes records on;
    the CloudWatch Logs processor puts a record whose output would pass 6 MB back
    into the source Kinesis stream, split in halves, as the AWS blueprint does."""
    import gzip
    k = server.client("kinesis")
    k.create_stream(StreamName="bp-src", ShardCount=1)
    kinesis_sourced(server, "bp-ident", "bp-src", "ks-bp",
                    blueprint_processing("hydrant-kinesis-streams-processing"))
    k.create_stream(StreamName="cwl-src", ShardCount=1)
    kinesis_sourced(server, "bp-cwl", "cwl-src", "ks-bp",
                    blueprint_processing("hydrant-cloudwatch-logs-processor"))
    k.put_record(StreamName="bp-src", PartitionKey="a", Data=b"kept as is\n")
    big = [{"id": str(i), "timestamp": 1700000000000 + i, "message": c * 3_500_000}
           for i, c in enumerate("xy")]
    envelope = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/f",
                "logStream": "s", "subscriptionFilters": ["f"], "logEvents": big}
    k.put_record(StreamName="cwl-src", PartitionKey="logs-pk",
                 Data=gzip.compress(json.dumps(envelope).encode()))
    wait_for(lambda: delivered(server, "ks-bp", "bp-ident/") == b"kept as is\n", timeout=30,
             what="the identity blueprint's output")
    # The halves went back into cwl-src with the original's partition key ...
    def cwl_records():
        it = k.get_shard_iterator(StreamName="cwl-src", ShardId="shardId-000000000000",
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        return k.get_records(ShardIterator=it)["Records"]
    wait_for(lambda: len(cwl_records()) == 3, timeout=30, what="two halves put back into cwl-src")
    assert [r["PartitionKey"] for r in cwl_records()] == ["logs-pk"] * 3
    # ... and came through again, each small enough now: one message a line.
    wait_for(lambda: sorted(len(l) for l in delivered(server, "ks-bp", "bp-cwl/").split(b"\n") if l)
             == [3_500_000, 3_500_000], timeout=60, what="both log events delivered")
