"""The Kinesis Data Streams API on hydrant's port (docs/kinesis.md), driven by the
AWS CLI v2 and boto3: the stream's life, puts routed by hash key, every iterator
type, pagination, resharding with its lineage, retention and tags, records that
survive SIGKILL, and the validation answers kinesalite recorded from AWS
(tests/fixtures/kinesis_validation.json) replayed against the real binary."""
import base64
import json
import math
import os
import time
import urllib.request

import botocore
import pytest

from conftest import ROOT, aws, aws_json


def kinesis(h):
    return h.client("kinesis")


def read_all(k, stream, shard_id, kind="TRIM_HORIZON", **kw):
    it = k.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType=kind,
                              **kw)["ShardIterator"]
    out = []
    while it:
        r = k.get_records(ShardIterator=it, Limit=1000)
        out += r["Records"]
        if not r["Records"]:
            return out, r
        it = r.get("NextShardIterator")
    return out, r


def test_the_aws_cli_creates_puts_and_reads_a_stream(hydrant):
    aws(hydrant, "kinesis", "create-stream", "--stream-name", "cli", "--shard-count", "2")
    aws(hydrant, "kinesis", "wait", "stream-exists", "--stream-name", "cli")
    d = aws_json(hydrant, "kinesis", "describe-stream", "--stream-name", "cli")["StreamDescription"]
    assert d["StreamStatus"] == "ACTIVE"
    assert d["StreamARN"] == "arn:aws:kinesis:us-east-1:000000000000:stream/cli"
    assert [s["ShardId"] for s in d["Shards"]] == ["shardId-000000000000", "shardId-000000000001"]
    assert d["Shards"][0]["HashKeyRange"]["EndingHashKey"] == str(2**127 - 1)
    assert d["Shards"][1]["HashKeyRange"]["StartingHashKey"] == str(2**127)
    # MD5("a") starts 0x0cc1: the first shard; an explicit hash key picks the second.
    r = aws_json(hydrant, "kinesis", "put-record", "--stream-name", "cli", "--partition-key", "a",
                 "--data", base64.b64encode(b"hello").decode())
    assert r["ShardId"] == "shardId-000000000000"
    r2 = aws_json(hydrant, "kinesis", "put-records", "--stream-name", "cli", "--records",
                  json.dumps([{"Data": base64.b64encode(b"one").decode(), "PartitionKey": "a"},
                              {"Data": base64.b64encode(b"two").decode(), "PartitionKey": "x",
                               "ExplicitHashKey": str(2**128 - 1)}]))
    assert r2["FailedRecordCount"] == 0
    assert [x["ShardId"] for x in r2["Records"]] == ["shardId-000000000000", "shardId-000000000001"]
    assert int(r2["Records"][0]["SequenceNumber"]) > int(r["SequenceNumber"])
    it = aws_json(hydrant, "kinesis", "get-shard-iterator", "--stream-name", "cli", "--shard-id",
                  "shardId-000000000000", "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
    got = aws_json(hydrant, "kinesis", "get-records", "--shard-iterator", it)
    assert [base64.b64decode(x["Data"]) for x in got["Records"]] == [b"hello", b"one"]
    assert [x["PartitionKey"] for x in got["Records"]] == ["a", "a"]
    assert got["Records"][0]["SequenceNumber"] == r["SequenceNumber"]
    assert got["MillisBehindLatest"] == 0
    assert got["NextShardIterator"]
    aws(hydrant, "kinesis", "delete-stream", "--stream-name", "cli")
    p = aws(hydrant, "kinesis", "describe-stream", "--stream-name", "cli", check=False)
    assert p.returncode != 0
    assert "ResourceNotFoundException" in p.stderr
    assert "Stream cli under account 000000000000 not found." in p.stderr


def test_every_iterator_type_starts_where_aws_starts(hydrant):
    k = kinesis(hydrant)
    k.create_stream(StreamName="it", ShardCount=1)
    seqs = [k.put_record(StreamName="it", Data=b"r%d" % i, PartitionKey="p")["SequenceNumber"]
            for i in range(5)]
    sid = "shardId-000000000000"
    data = lambda recs: [r["Data"] for r in recs]
    assert data(read_all(k, "it", sid)[0]) == [b"r0", b"r1", b"r2", b"r3", b"r4"]
    assert data(read_all(k, "it", sid, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2])[0]) == \
        [b"r2", b"r3", b"r4"]
    assert data(read_all(k, "it", sid, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=seqs[2])[0]) == \
        [b"r3", b"r4"]
    latest = k.get_shard_iterator(StreamName="it", ShardId=sid, ShardIteratorType="LATEST")["ShardIterator"]
    assert k.get_records(ShardIterator=latest)["Records"] == []
    k.put_record(StreamName="it", Data=b"late", PartitionKey="p")
    assert data(k.get_records(ShardIterator=latest)["Records"]) == [b"late"]
    # AT_TIMESTAMP: the first record that arrived at or after the time (botocore
    # sends whole seconds: the next second, and a put after it).
    t = math.ceil(time.time())
    time.sleep(t - time.time() + 0.05)
    k.put_record(StreamName="it", Data=b"after-t", PartitionKey="p")
    assert data(read_all(k, "it", sid, "AT_TIMESTAMP", Timestamp=t)[0]) == [b"after-t"]
    # A number of another shard or another stream, or a future time: AWS's errors.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        k.get_shard_iterator(StreamName="it", ShardId=sid, ShardIteratorType="TRIM_HORIZON",
                             StartingSequenceNumber=seqs[0])
    assert e.value.response["Error"]["Message"].endswith(
        "Request specified TRIM_HORIZON and also a StartingSequenceNumber.")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        k.get_shard_iterator(StreamName="it", ShardId=sid, ShardIteratorType="AT_TIMESTAMP",
                             Timestamp=time.time() + 3600)
    assert "cannot be greater than the currentTimestampInMillis" in e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        k.get_shard_iterator(StreamName="it", ShardId="shardId-000000000009",
                             ShardIteratorType="LATEST")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == \
        "Shard shardId-000000000009 in stream it under account 000000000000 does not exist"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        k.get_records(ShardIterator=base64.b64encode(b"x" * 60).decode())
    assert e.value.response["Error"]["Message"] == "Invalid ShardIterator."
    # A deleted and re-created stream does not take the old numbers.
    k.delete_stream(StreamName="it")
    k.create_stream(StreamName="it", ShardCount=1)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        k.get_shard_iterator(StreamName="it", ShardId=sid, ShardIteratorType="AT_SEQUENCE_NUMBER",
                             StartingSequenceNumber=seqs[0])
    assert e.value.response["Error"]["Message"].endswith("because it did not come from this stream.")


def test_resharding_keeps_the_lineage_and_every_record(hydrant):
    k = kinesis(hydrant)
    k.create_stream(StreamName="rs", ShardCount=1)
    [k.put_record(StreamName="rs", Data=b"b%d" % i, PartitionKey="k%d" % i)
              for i in range(20)]
    k.split_shard(StreamName="rs", ShardToSplit="shardId-000000000000",
                  NewStartingHashKey=str(2**127))
    shards = {s["ShardId"]: s for s in k.list_shards(StreamName="rs")["Shards"]}
    assert set(shards) == {"shardId-000000000000", "shardId-000000000001", "shardId-000000000002"}
    assert "EndingSequenceNumber" in shards["shardId-000000000000"]["SequenceNumberRange"]
    assert shards["shardId-000000000001"]["ParentShardId"] == "shardId-000000000000"
    after = [k.put_record(StreamName="rs", Data=b"a%d" % i, PartitionKey="k%d" % i)
             for i in range(20)]
    assert {r["ShardId"] for r in after} <= {"shardId-000000000001", "shardId-000000000002"}
    # The parent's records, then its end: no next iterator, its children named.
    recs, last = read_all(k, "rs", "shardId-000000000000")
    assert [r["Data"] for r in recs] == [b"b%d" % i for i in range(20)]
    assert "NextShardIterator" not in last
    assert sorted(c["ShardId"] for c in last["ChildShards"]) == \
        ["shardId-000000000001", "shardId-000000000002"]
    children = []
    for sid in ("shardId-000000000001", "shardId-000000000002"):
        children += [r["Data"] for r in read_all(k, "rs", sid)[0]]
    assert sorted(children) == sorted(b"a%d" % i for i in range(20))
    # Merge back, then scale uniformly: the open shards cover the key space.
    k.merge_shards(StreamName="rs", ShardToMerge="shardId-000000000001",
                   AdjacentShardToMerge="shardId-000000000002")
    out = k.update_shard_count(StreamName="rs", TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    assert (out["CurrentShardCount"], out["TargetShardCount"]) == (1, 2)
    open_shards = k.list_shards(StreamName="rs", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert [(s["HashKeyRange"]["StartingHashKey"], s["HashKeyRange"]["EndingHashKey"])
            for s in open_shards] == [("0", str(2**127 - 1)), (str(2**127), str(2**128 - 1))]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        k.update_shard_count(StreamName="rs", TargetShardCount=5, ScalingType="UNIFORM_SCALING")
    assert e.value.response["Error"]["Code"] == "LimitExceededException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        k.merge_shards(StreamName="rs", ShardToMerge=open_shards[0]["ShardId"],
                       AdjacentShardToMerge="shardId-000000000000")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_listings_paginate_and_tags_and_retention_change(hydrant):
    k = kinesis(hydrant)
    for i in range(3):
        k.create_stream(StreamName="p%d" % i, ShardCount=3)
    first = k.list_streams(Limit=2)
    assert first["StreamNames"] == ["p0", "p1"] and first["HasMoreStreams"]
    rest = k.list_streams(ExclusiveStartStreamName="p1")
    assert rest["StreamNames"] == ["p2"] and not rest["HasMoreStreams"]
    # The AWS CLI v2 pages with NextToken.
    names = aws_json(hydrant, "kinesis", "list-streams", "--page-size", "1")["StreamNames"]
    assert names == ["p0", "p1", "p2"]
    page = k.list_shards(StreamName="p0", MaxResults=2)
    assert len(page["Shards"]) == 2
    page2 = k.list_shards(NextToken=page["NextToken"])
    assert [s["ShardId"] for s in page2["Shards"]] == ["shardId-000000000002"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        k.list_shards(StreamName="p0", NextToken=page["NextToken"])
    assert e.value.response["Error"]["Message"] == "NextToken and StreamName cannot be provided together."
    k.add_tags_to_stream(StreamName="p0", Tags={"team": "data", "env": "test"})
    k.remove_tags_from_stream(StreamName="p0", TagKeys=["env"])
    assert k.list_tags_for_stream(StreamName="p0")["Tags"] == [{"Key": "team", "Value": "data"}]
    k.increase_stream_retention_period(StreamName="p0", RetentionPeriodHours=48)
    assert k.describe_stream_summary(StreamName="p0")["StreamDescriptionSummary"][
        "RetentionPeriodHours"] == 48
    with pytest.raises(botocore.exceptions.ClientError) as e:
        k.decrease_stream_retention_period(StreamName="p0", RetentionPeriodHours=72)
    assert "can not be longer than existing retention period (48 hours)" in \
        e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        k.increase_stream_retention_period(StreamName="p0", RetentionPeriodHours=9000)
    assert e.value.response["Error"]["Code"] == "InvalidArgumentException"
    limits = k.describe_limits()
    assert limits["OpenShardCount"] == 9 and limits["ShardLimit"] == 500
    # By ARN as well as by name (the AWS CLI v2: Debian's botocore predates StreamARN).
    arn = k.describe_stream_summary(StreamName="p1")["StreamDescriptionSummary"]["StreamARN"]
    assert aws_json(hydrant, "kinesis", "describe-stream-summary", "--stream-arn", arn)[
        "StreamDescriptionSummary"]["StreamName"] == "p1"


def test_acknowledged_records_survive_sigkill(hydrant):
    k = kinesis(hydrant)
    k.create_stream(StreamName="dur", ShardCount=4)
    sent = {}
    for b in range(10):
        recs = [{"Data": b"rec-%d-%d" % (b, i), "PartitionKey": "pk-%d" % i} for i in range(50)]
        out = k.put_records(StreamName="dur", Records=recs)
        assert out["FailedRecordCount"] == 0
        for r, res in zip(recs, out["Records"]):
            sent[res["SequenceNumber"]] = (res["ShardId"], r["Data"], r["PartitionKey"])
    hydrant.kill()
    hydrant.start(hydrant.port)
    k = kinesis(hydrant)
    got = {}
    for s in k.list_shards(StreamName="dur")["Shards"]:
        for r in read_all(k, "dur", s["ShardId"])[0]:
            got[r["SequenceNumber"]] = (s["ShardId"], r["Data"], r["PartitionKey"])
    assert got == sent
    # Puts go on after the restart, numbers still increasing in each shard.
    again = k.put_record(StreamName="dur", Data=b"x", PartitionKey="pk-0")
    older = [int(q) for q, v in sent.items() if v[0] == again["ShardId"]]
    assert int(again["SequenceNumber"]) > max(older)


def fixture_entries():
    with open(os.path.join(ROOT, "tests", "fixtures", "kinesis_validation.json")) as f:
        entries = json.load(f)
    return entries["entries"] if isinstance(entries, dict) else entries


def expand(v):
    """The fixture's {"$repeat": c, "times": n, "then": tail} markers, as strings."""
    if isinstance(v, dict):
        if "$repeat" in v:
            return v["$repeat"] * v["times"] + v.get("then", "")
        return {k: expand(x) for k, x in v.items()}
    if isinstance(v, list):
        return [expand(x) for x in v]
    return v


def test_validation_answers_match_what_aws_answered(hydrant):
    checked = 0
    for e in fixture_entries():
        # Where the current model and kinesalite differ, "expected" is the model's
        # answer (None: the model lets the request through to the handler).
        want = e["expected"] if "expected" in e else {
            "status": e.get("status"), "type": e.get("type"), "message": e.get("message")}
        if want is None or want.get("type") not in ("ValidationException", "SerializationException"):
            continue
        body = json.dumps(expand(e["body"])).encode()
        req = urllib.request.Request(hydrant.endpoint + "/", data=body, method="POST", headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "Kinesis_20131202." + e["op"]})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, answer = r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as err:
            status, answer = err.code, json.loads(err.read() or b"{}")
        assert status == want.get("status", 400), (e["op"], e["body"], answer)
        assert answer.get("__type") == want["type"], (e["op"], e["body"], answer)
        text = answer.get("message", answer.get("Message"))
        assert (text or None) == (want.get("message") or None), (e["op"], e["body"], answer)
        checked += 1
    assert checked > 300


def test_on_demand_streams_have_four_shards_and_no_shard_count(hydrant):
    k = kinesis(hydrant)
    aws(hydrant, "kinesis", "create-stream", "--stream-name", "od", "--stream-mode-details",
        "StreamMode=ON_DEMAND")
    s = k.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]
    assert s["StreamModeDetails"]["StreamMode"] == "ON_DEMAND" and s["OpenShardCount"] == 4
    p = aws(hydrant, "kinesis", "create-stream", "--stream-name", "od2", "--shard-count", "2",
            "--stream-mode-details", "StreamMode=ON_DEMAND", check=False)
    assert p.returncode != 0 and "InvalidArgumentException" in p.stderr
    with pytest.raises(botocore.exceptions.ClientError) as e:
        k.update_shard_count(StreamName="od", TargetShardCount=5, ScalingType="UNIFORM_SCALING")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "ON_DEMAND" in e.value.response["Error"]["Message"]


def test_refused_puts_write_nothing(hydrant):
    k = kinesis(hydrant)
    k.create_stream(StreamName="refuse", ShardCount=1)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        k.put_record(StreamName="refuse", PartitionKey="p", Data=b"x", ExplicitHashKey=str(2**128))
    assert e.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert e.value.response["Error"]["Message"] == (
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
        "Specified value was %d" % 2**128)
    # 500 records of 10.5 KiB: past the 5 MiB of a PutRecords, refused whole.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        k.put_records(StreamName="refuse", Records=[
            {"PartitionKey": "p%d" % i, "Data": b"y" * 10752} for i in range(500)])
    assert e.value.response["Error"]["Code"] == "InvalidArgumentException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        k.put_record(StreamName="no-such-stream", PartitionKey="p", Data=b"x")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert read_all(k, "refuse", "shardId-000000000000")[0] == []
