"""Data transformation (issue 3): Lambda processors run by hydrant (local Python and
Node.js handlers, built-in blueprints), the record status model, processing-failed
objects, source record backup, and hydrant's own Lambda Invoke API."""
import base64
import gzip
import json
import os
import time

import botocore
import pytest

from conftest import (aws, json_lines, lambda_arn, lambda_function_toml, list_keys, make_lambda_stream,
                      make_stream, metrics_text, put_records, read_objects, s3_dest, start_with_config,
                      wait_for, write_handlers)

ACCOUNT = "000000000000"


HANDLERS = {
    # Upper-cases; "drop" is Dropped, "fail" is ProcessingFailed. Prints a line.
    "upper.py": '''
import base64
def lambda_handler(event, context):
    print("batch of", len(event["records"]), "for", context.function_name)
    out = []
    for r in event["records"]:
        d = base64.b64decode(r["data"])
        if d.startswith(b"drop"):
            out.append({"recordId": r["recordId"], "result": "Dropped"})
        elif d.startswith(b"fail"):
            out.append({"recordId": r["recordId"], "result": "ProcessingFailed", "data": r["data"]})
        else:
            out.append({"recordId": r["recordId"], "result": "Ok",
                        "data": base64.b64encode(d.upper()).decode()})
    return {"records": out}
''',
    "upper.js": '''
exports.handler = async (event, context) => ({
  records: event.records.map(r => ({
    recordId: r.recordId, result: "Ok",
    data: Buffer.from(Buffer.from(r.data, "base64").toString().toUpperCase()).toString("base64"),
  })),
});
''',
    "missing.py": '''
def lambda_handler(event, context):
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]}
                        for r in event["records"][1:]]}
''',
    "raises.py": '''
def lambda_handler(event, context):
    raise ValueError("cannot transform")
''',
    "badjson.py": '''
def lambda_handler(event, context):
    return {"records": "not a list"}
''',
    "slow.py": '''
import time
def lambda_handler(event, context):
    time.sleep(5)
    return {"records": []}
''',
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("processing")
    hdir = write_handlers(root / "handlers", HANDLERS)
    funcs = ""
    for name in HANDLERS:
        base, ext = os.path.splitext(name)
        funcs += lambda_function_toml(base + ("-node" if ext == ".js" else ""),
                                      runtime="nodejs" if ext == ".js" else "python3", handler=hdir / name,
                                      timeout_seconds=1 if base == "slow" else 30)
    with start_with_config(root, funcs) as h:
        yield h


def processed_stream(h, name, bucket, function, retries=0, **extra):
    make_lambda_stream(h, name, bucket, lambda_arn(function), retries, **extra)


def objects(h, bucket, prefix):
    return read_objects(h.client("s3"), bucket, prefix)


def failed_lines(h, bucket, prefix):
    return json_lines(h.client("s3"), bucket, prefix)


def test_python_handler_status_model(server):
    processed_stream(server, "py", "proc", "upper")
    put_records(server, "py", [b"hello\n", b"drop me\n", b"fail me\n", b"world\n"])
    got = wait_for(lambda: objects(server, "proc", "py/"), what="transformed object")
    assert b"".join(got.values()) == b"HELLO\nWORLD\n"
    lines = wait_for(lambda: failed_lines(server, "proc", "py-errors/"), what="processing-failed object")
    assert len(lines) == 1
    f = lines[0]
    assert list(f) == ["attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage",
                       "attemptEndingTimestamp", "rawData", "lambdaArn"]
    assert f["errorCode"] == "Lambda.ProcessingFailedStatus"
    assert base64.b64decode(f["rawData"]) == b"fail me\n"
    assert f["lambdaArn"] == lambda_arn("upper")
    assert isinstance(f["arrivalTimestamp"], int) and abs(f["arrivalTimestamp"] / 1000 - time.time()) < 120
    key = list_keys(server.client("s3"), "proc", "py-errors/")[0]
    assert key.startswith("py-errors/processing-failed/"), key
    # Describe echoes the processor with its defaults filled in.
    d = server.client("firehose").describe_delivery_stream(DeliveryStreamName="py")["DeliveryStreamDescription"]
    params = {p["ParameterName"]: p["ParameterValue"] for p in d["Destinations"][0][
        "ExtendedS3DestinationDescription"]["ProcessingConfiguration"]["Processors"][0]["Parameters"]}
    assert params["LambdaArn"] == lambda_arn("upper") and params["BufferSizeInMBs"] == "3"
    # What the function printed is in its log group /aws/lambda/upper.
    logs_dir = os.path.join(server.data_dir, "logs")
    text = ""
    for dirpath, _, files in os.walk(logs_dir):
        for fn in files:
            with open(os.path.join(dirpath, fn), errors="replace") as fh:
                text += fh.read()
    assert "batch of 4 for upper" in text
    m = metrics_text(server)
    for line in ['hydrant_firehose_succeed_processing_records_total{delivery_stream="py"} 2',
                 'hydrant_processing_dropped_records_total{delivery_stream="py"} 1',
                 'hydrant_processing_failed_records_total{delivery_stream="py"} 1',
                 'hydrant_firehose_delivery_to_s3_records_total{delivery_stream="py"} 2']:
        assert line + "\n" in m, line


def test_node_handler(server):
    processed_stream(server, "node", "proc", "upper-node")
    put_records(server, "node", [b"abc\n", b"def\n"])
    got = wait_for(lambda: objects(server, "proc", "node/"), what="transformed object")
    assert b"".join(got.values()) == b"ABC\nDEF\n"


@pytest.mark.parametrize("function,retries,code,attempts", [
    ("missing", 0, "Lambda.MissingRecordId", 1),
    ("raises", 1, "Lambda.FunctionError", 2),
    ("badjson", 0, "Lambda.JsonProcessingException", 1),
    ("slow", 0, "Lambda.FunctionError", 1),
])
def test_failure_modes_go_to_processing_failed(server, function, retries, code, attempts):
    name = "f-" + function
    processed_stream(server, name, "fails", function, retries=retries)
    sent = [b"one\n", b"two\n"]
    put_records(server, name, sent)
    lines = wait_for(lambda: (lambda l: l if len(l) >= (1 if function == "missing" else 2) else None)(
        failed_lines(server, "fails", name + "-errors/")), timeout=60, what="processing-failed lines")
    for f in lines:
        assert f["errorCode"] == code, f
        assert f["attemptsMade"] == attempts, f
        assert f["errorMessage"]
    if function == "slow":
        assert "timeout" in lines[0]["errorMessage"]
    raw = sorted(base64.b64decode(f["rawData"]) for f in lines)
    if function == "missing":
        # The handler returned every record but the first: only that one failed.
        assert raw == [b"one\n"]
        delivered = wait_for(lambda: objects(server, "fails", name + "/"), what="the other record")
        assert b"".join(delivered.values()) == b"two\n"
    else:
        assert raw == sorted(sent)
        assert list_keys(server.client("s3"), "fails", name + "/") == []


def test_builtin_syslog_to_json_blueprint(server):
    processed_stream(server, "syslog", "proc", "hydrant-syslog-to-json")
    put_records(server, "syslog", [b"Mar  7 04:02:01 host1 cron[123]: job done", b"not syslog"])
    got = wait_for(lambda: objects(server, "proc", "syslog/"), what="blueprint output")
    assert json.loads(b"".join(got.values())) == {
        "timestamp": "Mar  7 04:02:01", "hostname": "host1", "program": "cron",
        "processid": "123", "message": "job done"}
    lines = wait_for(lambda: failed_lines(server, "proc", "syslog-errors/"), what="failed line")
    assert base64.b64decode(lines[0]["rawData"]) == b"not syslog"
    assert lines[0]["errorCode"] == "Lambda.ProcessingFailedStatus"


def test_source_backup_keeps_originals(server):
    s3 = server.client("s3")
    s3.create_bucket(Bucket="backups")
    processed_stream(server, "bk", "proc", "upper", S3BackupMode="Enabled",
                     S3BackupConfiguration=s3_dest("backups", Prefix="orig/", CompressionFormat="GZIP",
                                                   BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 1}))
    put_records(server, "bk", [b"keep\n", b"drop it\n", b"fail it\n"])
    got = wait_for(lambda: objects(server, "backups", "orig/"), what="backup object")
    assert gzip.decompress(b"".join(got.values())) == b"keep\ndrop it\nfail it\n"
    assert all(k.endswith(".gz") for k in got)
    assert b"".join(wait_for(lambda: objects(server, "proc", "bk/"), what="dest").values()) == b"KEEP\n"
    fh = server.client("firehose", validate=False)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fh.update_destination(DeliveryStreamName="bk", CurrentDeliveryStreamVersionId="1",
                              DestinationId="destinationId-000000000001",
                              ExtendedS3DestinationUpdate={"S3BackupMode": "Disabled"})
    assert e.value.response["Error"]["Code"] == "InvalidArgumentException"


def test_native_append_delimiter(server):
    s3 = server.client("s3")
    s3.create_bucket(Bucket="native")
    make_stream(server, "delim", "native",
                ProcessingConfiguration={"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord"}]})
    put_records(server, "delim", [b'{"a":1}', b'{"a":2}'])
    got = wait_for(lambda: objects(server, "native", ""), what="delimited object")
    assert b"".join(got.values()) == b'{"a":1}\n{"a":2}\n'


def test_bad_processor_parameters_are_refused(server):
    fh = server.client("firehose", validate=False)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fh.create_delivery_stream(DeliveryStreamName="badproc", ExtendedS3DestinationConfiguration=s3_dest(
            "proc", ProcessingConfiguration={"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
                {"ParameterName": "LambdaArn", "ParameterValue": lambda_arn("upper")},
                {"ParameterName": "BufferSizeInMBs", "ParameterValue": "50"}]}]}))
    assert e.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert "badproc" not in fh.list_delivery_streams()["DeliveryStreamNames"]


def test_aws_cli_lambda_invoke_and_list(server, tmp_path):
    ev = tmp_path / "event.json"
    ev.write_text(json.dumps({"invocationId": "x", "records": [
        {"recordId": "1", "approximateArrivalTimestamp": 0, "data": base64.b64encode(b"hi").decode()}]}))
    out = tmp_path / "out.json"
    r = aws(server, "lambda", "invoke", "--function-name", "upper", "--payload", "fileb://" + str(ev),
            str(out), check=False, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["StatusCode"] == 200
    res = json.loads(out.read_text())
    assert base64.b64decode(res["records"][0]["data"]) == b"HI"
    r = aws(server, "lambda", "list-functions", check=False, timeout=60)
    assert r.returncode == 0, r.stderr
    names = {f["FunctionName"] for f in json.loads(r.stdout)["Functions"]}
    assert {"upper", "upper-node", "hydrant-syslog-to-json"} <= names
    r = aws(server, "lambda", "invoke", "--function-name", "raises", "--payload", "fileb://" + str(ev),
            str(out), check=False, timeout=60)
    assert json.loads(r.stdout)["FunctionError"] == "Unhandled"
    assert "cannot transform" in out.read_text()
    r = aws(server, "lambda", "invoke", "--function-name", "nope", str(out), check=False, timeout=60)
    assert r.returncode == 254 and "ResourceNotFoundException" in r.stderr


def test_cloudwatch_logs_blueprint_reingests_oversized_records(server):
    def envelope(messages):
        return gzip.compress(json.dumps({
            "messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": "g", "logStream": "s",
            "subscriptionFilters": ["f"],
            "logEvents": [{"id": str(i), "timestamp": 0, "message": m} for i, m in enumerate(messages)]}).encode())
    processed_stream(server, "cwl", "proc", "hydrant-cloudwatch-logs-processor")
    big = ["a" * 2500000, "b" * 2500000]  # 5 MB of messages: over the 6,000,000-char response guard
    put_records(server, "cwl", [envelope(["small"]), envelope(big), gzip.compress(json.dumps(
        {"messageType": "CONTROL_MESSAGE", "logEvents": []}).encode())])
    want = sorted([b"small\n", big[0].encode() + b"\n", big[1].encode() + b"\n"])

    def delivered():
        data = b"".join(objects(server, "proc", "cwl/").values())
        lines = sorted(l + b"\n" for l in data.split(b"\n") if l)
        return lines if len(lines) >= 3 else None
    assert wait_for(delivered, timeout=60, what="re-ingested halves delivered") == want
