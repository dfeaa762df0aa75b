"""The seed scenario (Lambda data transformation with the record status model, the
processing-failed folder, source record backup) driven with the AWS CLI v2 alone
(/usr/bin/aws --endpoint-url): buckets, the delivery stream, a trial `lambda invoke`,
puts, and reading back what was delivered with `aws s3 ls` / `aws s3 cp`."""
import base64
import json
import re
import time

import pytest

from conftest import (aws, aws_json, lambda_arn, lambda_function_toml, s3_cat, s3_dest, s3_ls,
                      start_with_config, wait_for, write_handlers)

FUNCTION = "seed-transform"
FUNCTION_ARN = lambda_arn(FUNCTION)
STREAM = "seed"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
NAME = r"%s-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-%s" % (STREAM, UUID)
DEST_KEY_RE = re.compile(r"^\d{4}/\d{2}/\d{2}/\d{2}/%s$" % NAME)          # no Prefix
FAILED_KEY_RE = re.compile(r"^processing-failed/\d{4}/\d{2}/\d{2}/\d{2}/%s$" % NAME)
BACKUP_KEY_RE = re.compile(r"^source/\d{4}/\d{2}/\d{2}/\d{2}/%s$" % NAME)

# The function, as one would deploy it to AWS Lambda: JSON log lines in, a normalised
# JSON line out; debug lines are Dropped, lines that are not JSON are ProcessingFailed.
HANDLER = '''
import base64
import json

def lambda_handler(event, context):
    out = []
    for r in event["records"]:
        try:
            obj = json.loads(base64.b64decode(r["data"]))
        except ValueError:
            out.append({"recordId": r["recordId"], "result": "ProcessingFailed", "data": r["data"]})
            continue
        if obj["level"] == "debug":
            out.append({"recordId": r["recordId"], "result": "Dropped"})
            continue
        line = json.dumps({"id": obj["id"], "level": obj["level"].upper(), "msg": obj["msg"],
                           "transformed": True}, separators=(",", ":")) + "\\n"
        out.append({"recordId": r["recordId"], "result": "Ok",
                    "data": base64.b64encode(line.encode()).decode()})
    return {"records": out}
'''

RECORD_BYTES = 1000


def record(i):
    """Record i, exactly RECORD_BYTES long: JSON (info, every 50th debug) or, for a few
    ids, a line that is not JSON."""
    if i in (3, 517, 1040):
        head = b"not json #%d " % i
        return head + b"x" * (RECORD_BYTES - len(head) - 1) + b"\n"
    level = "debug" if i % 50 == 49 else "info"
    head = '{"id":%d,"level":"%s","msg":"event %d ' % (i, level, i)
    return (head + "y" * (RECORD_BYTES - len(head) - 3) + '"}\n').encode()


def transformed(rec):
    """What the handler makes of one record: bytes, None (Dropped) or "failed"."""
    try:
        obj = json.loads(rec)
    except ValueError:
        return "failed"
    if obj["level"] == "debug":
        return None
    return (json.dumps({"id": obj["id"], "level": obj["level"].upper(), "msg": obj["msg"],
                        "transformed": True}, separators=(",", ":")) + "\n").encode()


@pytest.fixture
def server(tmp_path):
    handler = write_handlers(tmp_path, {"lambda_function.py": HANDLER}) / "lambda_function.py"
    with start_with_config(tmp_path, lambda_function_toml(FUNCTION, runtime="python3", handler=handler,
                                                          timeout_seconds=60)) as h:
        yield h


def test_seed_scenario_with_the_aws_cli(server, tmp_path):
    h = server
    # 1. Try the function on a sample event first.
    sample = [record(0), record(49), record(3)]  # Ok, Dropped, ProcessingFailed
    event = {"invocationId": "00000000-0000-4000-8000-000000000000",
             "deliveryStreamArn": "arn:aws:firehose:us-east-1:000000000000:deliverystream/" + STREAM,
             "region": "us-east-1",
             "records": [{"recordId": str(i), "approximateArrivalTimestamp": 1700000000000,
                          "data": base64.b64encode(r).decode()} for i, r in enumerate(sample)]}
    (tmp_path / "event.json").write_text(json.dumps(event))
    out = tmp_path / "out.json"
    res = aws_json(h, "lambda", "invoke", "--function-name", FUNCTION,
                   "--payload", "fileb://%s" % (tmp_path / "event.json"), str(out))
    assert res["StatusCode"] == 200 and "FunctionError" not in res, res
    result = json.loads(out.read_text())["records"]
    assert [(r["recordId"], r["result"]) for r in result] == [("0", "Ok"), ("1", "Dropped"),
                                                              ("2", "ProcessingFailed")]
    assert base64.b64decode(result[0]["data"]) == transformed(record(0))

    # 2. Buckets and the stream: Lambda processor, source backup, 1 MiB buffers.
    aws(h, "s3", "mb", "s3://seed-dest")
    aws(h, "s3", "mb", "s3://seed-backup")
    dest = s3_dest(
        "seed-dest", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60},
        ProcessingConfiguration={"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
            {"ParameterName": "LambdaArn", "ParameterValue": FUNCTION_ARN},
            # The function gets batches of 1 MB instead of the default 3 MB; its
            # BufferIntervalInSeconds stays at the default 60 s.
            {"ParameterName": "BufferSizeInMBs", "ParameterValue": "1"}]}]},
        S3BackupMode="Enabled",
        S3BackupConfiguration=s3_dest("seed-backup", Prefix="source/",
                                      BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 60}))
    created = aws_json(h, "firehose", "create-delivery-stream", "--delivery-stream-name", STREAM,
                       "--delivery-stream-type", "DirectPut",
                       "--extended-s3-destination-configuration", json.dumps(dest))
    assert created["DeliveryStreamARN"].endswith(":deliverystream/" + STREAM)
    desc = aws_json(h, "firehose", "describe-delivery-stream", "--delivery-stream-name", STREAM)
    d = desc["DeliveryStreamDescription"]["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert d["S3BackupMode"] == "Enabled"
    assert d["S3BackupDescription"]["BucketARN"] == "arn:aws:s3:::seed-backup"

    # 3. Twice the processor's 1 MiB and more, in batches of 500 read from files; the
    # CLI v2 takes blobs as base64 (no --cli-binary-format), so Data is base64 in the file.
    records = [record(i) for i in range(2200)]  # 2,200,000 bytes
    start = time.time()
    for n, i in enumerate(range(0, len(records), 500)):
        batch = tmp_path / ("batch%d.json" % n)
        batch.write_text(json.dumps([{"Data": base64.b64encode(r).decode()} for r in records[i:i + 500]]))
        res = aws_json(h, "firehose", "put-record-batch", "--delivery-stream-name", STREAM,
                       "--records", "file://%s" % batch)
        assert res["FailedPutCount"] == 0, res
        assert len(res["RequestResponses"]) == len(records[i:i + 500])

    # 4. Size triggers the delivery, well before IntervalInSeconds (60 s): two 1 MiB
    # invocations make more than the destination's 1 MiB of transformed records. The
    # rest waits for the intervals. The backup bucket gets the source records exactly
    # as put, whatever the status, by its own buffering.
    total = sum(map(len, records))
    wait_for(lambda: sum(s3_ls(h, "seed-dest").values()) > 0, timeout=30, interval=0.5,
             what="a size-triggered object")
    assert time.time() - start < 45
    backup = wait_for(lambda: (lambda o: o if sum(o.values()) >= total else None)(s3_ls(h, "seed-backup")),
                      timeout=90, interval=1, what="every record in the backup bucket")
    assert all(BACKUP_KEY_RE.match(k) for k in backup), backup
    assert b"".join(s3_cat(h, "seed-backup", k) for k in sorted(backup)) == b"".join(records)

    expected = [transformed(r) for r in records]
    want = b"".join(e for e in expected if isinstance(e, bytes))

    def dest_listing():
        objs = {k: v for k, v in s3_ls(h, "seed-dest").items() if not k.startswith("processing-failed/")}
        return objs if sum(objs.values()) >= len(want) else None

    dest_objs = wait_for(dest_listing, timeout=30, interval=0.5, what="every transformed record")
    assert dest_objs and all(DEST_KEY_RE.match(k) for k in dest_objs), dest_objs
    got = b"".join(s3_cat(h, "seed-dest", k) for k in sorted(dest_objs))
    assert got == want

    # 5. processing-failed/: one JSON line per failed record, the original bytes in rawData.
    failed_keys = [k for k in s3_ls(h, "seed-dest") if k.startswith("processing-failed/")]
    assert failed_keys and all(FAILED_KEY_RE.match(k) for k in failed_keys), failed_keys
    lines = [json.loads(l) for k in failed_keys for l in s3_cat(h, "seed-dest", k).decode().splitlines() if l]
    assert sorted(base64.b64decode(f["rawData"]) for f in lines) == sorted(
        r for r, e in zip(records, expected) if e == "failed")
    for f in lines:
        assert set(f) == {"attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage",
                          "attemptEndingTimestamp", "rawData", "lambdaArn"}, f
        assert f["errorCode"] == "Lambda.ProcessingFailedStatus"
        assert f["errorMessage"]
        assert f["attemptsMade"] == 1
        assert f["lambdaArn"] == FUNCTION_ARN
        assert start - 5 <= f["arrivalTimestamp"] / 1000 <= f["attemptEndingTimestamp"] / 1000 <= time.time()

    # 6. Source record backup cannot be disabled once enabled.
    desc = aws_json(h, "firehose", "describe-delivery-stream", "--delivery-stream-name", STREAM)
    p = aws(h, "firehose", "update-destination", "--delivery-stream-name", STREAM,
            "--current-delivery-stream-version-id", desc["DeliveryStreamDescription"]["VersionId"],
            "--destination-id", desc["DeliveryStreamDescription"]["Destinations"][0]["DestinationId"],
            "--extended-s3-destination-update", json.dumps({"S3BackupMode": "Disabled"}), check=False)
    assert p.returncode == 254, (p.returncode, p.stderr)
    assert "InvalidArgumentException" in p.stderr, p.stderr
    desc = aws_json(h, "firehose", "describe-delivery-stream", "--delivery-stream-name", STREAM)
    assert desc["DeliveryStreamDescription"]["Destinations"][0][
        "ExtendedS3DestinationDescription"]["S3BackupMode"] == "Enabled"
