"""Error logs (issue 4, item 3): the CloudWatch Logs API subset on hydrant's port, read
with the AWS CLI v2 and boto3 (a local Lambda handler's output under /aws/lambda/NAME,
events written with PutLogEvents), and `hydrant logs`."""
import base64
import json
import os
import subprocess
import time

import botocore
import pytest

from conftest import (HYDRANT, aws, aws_json, lambda_arn, lambda_function_toml, lambda_processing,
                      make_stream, s3_dest, start_with_config, wait_for, write_handlers)

ACCOUNT = "000000000000"

HANDLERS = {
    "echo.py": '''
import base64
def lambda_handler(event, context):
    for r in event["records"]:
        print("echo saw", base64.b64decode(r["data"]).decode())
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]}
                        for r in event["records"]]}
''',
    "raises.py": '''
def lambda_handler(event, context):
    raise ValueError("cannot transform")
''',
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("logs")
    hdir = write_handlers(root / "handlers", HANDLERS)
    with start_with_config(root, "".join(
            lambda_function_toml(os.path.splitext(name)[0], runtime="python3", handler=hdir / name)
            for name in HANDLERS)) as h:
        yield h


def hydrant_logs(h, *args, timeout=60):
    return subprocess.run([HYDRANT, "logs", "--endpoint", h.endpoint, *args],
                          capture_output=True, text=True, timeout=timeout)


def invoke_echo(h, *words):
    event = {"invocationId": "i", "records": [
        {"recordId": str(i), "approximateArrivalTimestamp": 0, "data": base64.b64encode(w.encode()).decode()}
        for i, w in enumerate(words)]}
    r = h.client("lambda").invoke(FunctionName="echo", Payload=json.dumps(event).encode())
    assert r["StatusCode"] == 200 and "FunctionError" not in r


def test_lambda_output_with_aws_cli(server):
    invoke_echo(server, "alpha", "beta")
    groups = aws_json(server, "logs", "describe-log-groups", "--log-group-name-prefix", "/aws/lambda/")
    names = [g["logGroupName"] for g in groups["logGroups"]]
    assert "/aws/lambda/echo" in names
    g = next(g for g in groups["logGroups"] if g["logGroupName"] == "/aws/lambda/echo")
    assert g["arn"] == "arn:aws:logs:us-east-1:%s:log-group:/aws/lambda/echo:*" % ACCOUNT
    assert g["storedBytes"] > 0

    streams = aws_json(server, "logs", "describe-log-streams", "--log-group-name", "/aws/lambda/echo",
                       "--order-by", "LastEventTime", "--descending")["logStreams"]
    assert streams and "lastEventTimestamp" in streams[0]
    stream = streams[0]["logStreamName"]
    events = aws_json(server, "logs", "get-log-events", "--log-group-name", "/aws/lambda/echo",
                      "--log-stream-name", stream, "--start-from-head")
    messages = [e["message"] for e in events["events"]]
    assert any("echo saw alpha" in m for m in messages), messages
    assert events["nextForwardToken"].startswith("f/") and events["nextBackwardToken"].startswith("b/")

    found = aws_json(server, "logs", "filter-log-events", "--log-group-name", "/aws/lambda/echo",
                     "--filter-pattern", '"echo saw beta"')["events"]
    assert [e["logStreamName"] for e in found] == [stream]
    assert all("beta" in e["message"] for e in found)
    none = aws_json(server, "logs", "filter-log-events", "--log-group-name", "/aws/lambda/echo",
                    "--filter-pattern", "gamma")["events"]
    assert none == []


def test_lambda_output_with_boto3_paginators(server):
    invoke_echo(server, *["word%d" % i for i in range(30)])
    logs = server.client("logs")
    seen = []
    for page in logs.get_paginator("filter_log_events").paginate(
            logGroupName="/aws/lambda/echo", filterPattern="echo saw word", PaginationConfig={"PageSize": 7}):
        seen += [e["message"] for e in page["events"]]
    words = {m.split()[-1] for m in seen}
    assert {"word%d" % i for i in range(30)} <= words
    groups = []
    for page in logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": 1}):
        groups += [g["logGroupName"] for g in page["logGroups"]]
    assert "/aws/lambda/echo" in groups and len(groups) == len(set(groups))


def test_put_log_events_and_json_filter(server):
    logs = server.client("logs")
    group = "/aws/kinesisfirehose/put-test"
    logs.create_log_group(logGroupName=group)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.create_log_group(logGroupName=group)
    assert e.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    logs.create_log_stream(logGroupName=group, logStreamName="DestinationDelivery")
    now = int(time.time() * 1000)

    def event(code, msg):
        return json.dumps({"deliveryStreamARN": "arn:aws:firehose:us-east-1:%s:deliverystream/put-test" % ACCOUNT,
                           "destination": "arn:aws:s3:::missing", "deliveryStreamVersionId": 1,
                           "message": msg, "errorCode": code})
    r = logs.put_log_events(logGroupName=group, logStreamName="DestinationDelivery", logEvents=[
        {"timestamp": now - 2, "message": event("S3.NoSuchBucket", "The specified bucket does not exist.")},
        {"timestamp": now - 1, "message": event("S3.AccessDenied", "Access Denied")},
        {"timestamp": now, "message": event("S3.NoSuchBucket", "The specified bucket does not exist.")}])
    assert "rejectedLogEventsInfo" not in r

    found = aws_json(server, "logs", "filter-log-events", "--log-group-name", group,
                     "--filter-pattern", '{ $.errorCode = "S3.NoSuchBucket" }')["events"]
    assert len(found) == 2
    assert all(json.loads(e["message"])["errorCode"] == "S3.NoSuchBucket" for e in found)
    found = aws_json(server, "logs", "filter-log-events", "--log-group-name", group,
                     "--filter-pattern", '{ $.errorCode = "S3.*" && $.message = "Access*" }')["events"]
    assert len(found) == 1
    ts = aws_json(server, "logs", "filter-log-events", "--log-group-name", group,
                  "--start-time", str(now - 1), "--end-time", str(now - 1))["events"]
    assert [e["timestamp"] for e in ts] == [now - 1]

    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.put_log_events(logGroupName=group, logStreamName="DestinationDelivery", logEvents=[
            {"timestamp": now, "message": "b"}, {"timestamp": now - 5, "message": "a"}])
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "chronological order" in e.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.put_log_events(logGroupName=group, logStreamName="nope", logEvents=[{"timestamp": now, "message": "x"}])
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_errors_have_aws_types_and_messages(server):
    r = aws(server, "logs", "describe-log-streams", "--log-group-name", "/no/such/group", check=False)
    assert r.returncode == 254
    assert "ResourceNotFoundException" in r.stderr and "The specified log group does not exist." in r.stderr
    logs = server.client("logs")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.get_log_events(logGroupName="/aws/lambda/echo", logStreamName="no-such-stream")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == "The specified log stream does not exist."
    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.describe_log_streams(logGroupName="/aws/lambda/echo", orderBy="LastEventTime", logStreamNamePrefix="x")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        logs.filter_log_events(logGroupName="/aws/lambda/echo", filterPattern="[ip, user]")
    assert e.value.response["Error"]["Code"] == "InvalidParameterException"


def test_hydrant_logs_command(server):
    logs = server.client("logs")
    # A delivery stream whose CloudWatchLoggingOptions name its own group: `hydrant logs
    # STREAM` finds it through DescribeDeliveryStream.
    server.client("s3").create_bucket(Bucket="cli-logs")
    server.client("firehose").create_delivery_stream(
        DeliveryStreamName="cli-logs", ExtendedS3DestinationConfiguration=s3_dest(
            "cli-logs", CloudWatchLoggingOptions={"Enabled": True, "LogGroupName": "/custom/cli-logs",
                                                  "LogStreamName": "DestinationDelivery"}))
    r = hydrant_logs(server, "cli-logs")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and "/custom/cli-logs does not exist" in r.stderr
    logs.create_log_group(logGroupName="/custom/cli-logs")
    logs.create_log_stream(logGroupName="/custom/cli-logs", logStreamName="DestinationDelivery")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="/custom/cli-logs", logStreamName="DestinationDelivery", logEvents=[
        {"timestamp": now, "message": '{"errorCode":"S3.NoSuchBucket","message":"first"}'},
        {"timestamp": now + 1, "message": '{"errorCode":"S3.AccessDenied","message":"second"}'}])
    r = hydrant_logs(server, "cli-logs")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split(" ", 2)[1] == "DestinationDelivery" and '"first"' in lines[0]
    assert lines[0].endswith('Z DestinationDelivery {"errorCode":"S3.NoSuchBucket","message":"first"}')
    r = hydrant_logs(server, "cli-logs", "--filter-pattern", '{ $.errorCode = "S3.AccessDenied" }')
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 1 and "second" in r.stdout

    # --group for a Lambda function's output.
    invoke_echo(server, "from-cli")
    r = hydrant_logs(server, "--group", "/aws/lambda/echo")
    assert r.returncode == 0 and "echo saw from-cli" in r.stdout

    # Errors: unknown stream, neither or both of STREAM / --group.
    r = hydrant_logs(server, "no-such-stream")
    assert r.returncode == 1 and "ResourceNotFoundException" in r.stderr
    assert hydrant_logs(server).returncode == 2
    # A stream without CloudWatch logging: said on stderr.
    server.client("firehose").create_delivery_stream(
        DeliveryStreamName="cli-nolog", ExtendedS3DestinationConfiguration=s3_dest("cli-logs"))
    r = hydrant_logs(server, "cli-nolog")
    assert r.returncode == 0 and "not enabled" in r.stderr


def test_hydrant_logs_follow(server):
    logs = server.client("logs")
    logs.create_log_group(logGroupName="/follow/me")
    logs.create_log_stream(logGroupName="/follow/me", logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="/follow/me", logStreamName="s",
                        logEvents=[{"timestamp": now, "message": "before"}])
    proc = subprocess.Popen([HYDRANT, "logs", "--endpoint", server.endpoint, "--group", "/follow/me",
                             "--follow", "--interval", "0.2"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().rstrip().endswith(" s before")
        # Same timestamp as the last one printed, then a later one: each printed once.
        logs.put_log_events(logGroupName="/follow/me", logStreamName="s", logEvents=[
            {"timestamp": now, "message": "same-ms"}, {"timestamp": now + 5, "message": "after"}])
        assert proc.stdout.readline().rstrip().endswith(" s same-ms")
        assert proc.stdout.readline().rstrip().endswith(" s after")
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(10)
    r = hydrant_logs(server, "--group", "/follow/me")
    assert [l.split(" ", 2)[2] for l in r.stdout.splitlines()] == ["before", "same-ms", "after"]


def test_aws_logs_tail(server):
    logs = server.client("logs")
    logs.create_log_group(logGroupName="/tail/me")
    logs.create_log_stream(logGroupName="/tail/me", logStreamName="s1")
    logs.put_log_events(logGroupName="/tail/me", logStreamName="s1",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": "tail works"}])
    r = aws(server, "logs", "tail", "/tail/me", "--since", "1h")
    assert r.stdout.rstrip().endswith(" s1 tail works"), r.stdout


def test_processing_errors_on_server_log_without_cloudwatch_logging(server):
    """The server's own log: one line per failed invocation, with stream= and
    errorCode=, even when CloudWatch logging is off."""
    server.client("s3").create_bucket(Bucket="srvlog")
    fn = lambda_arn("raises")
    make_stream(server, "srvlog", "srvlog", ProcessingConfiguration=lambda_processing(fn))
    server.client("firehose").put_record(DeliveryStreamName="srvlog", Record={"Data": b"x\n"})

    def line():
        return [l for l in server.log().splitlines() if " stream=srvlog " in l and "event=processing_failed" in l]
    found = wait_for(line, timeout=60, what="a processing_failed line on the server log")
    assert "level=warning" in found[0] and "errorCode=Lambda.FunctionError" in found[0]
    assert "lambda=" + fn in found[0] and 'error="' in found[0]
    assert not server.client("logs").describe_log_groups(
        logGroupNamePrefix="/aws/kinesisfirehose/srvlog")["logGroups"]


def test_processing_errors_are_logged_when_enabled(server):
    """A Lambda processor that raises, with CloudWatchLoggingOptions enabled: the
    delivery loop writes Lambda.FunctionError events (processor = the function's ARN)
    to the configured group and stream, readable with filter-log-events and
    `hydrant logs`."""
    s3 = server.client("s3")
    s3.create_bucket(Bucket="proc-errors")
    fn = lambda_arn("raises")
    make_stream(server, "proc-errors", "proc-errors",
                CloudWatchLoggingOptions={"Enabled": True, "LogGroupName": "/aws/kinesisfirehose/proc-errors",
                                          "LogStreamName": "DestinationDelivery"},
                ProcessingConfiguration=lambda_processing(fn))
    server.client("firehose").put_record(DeliveryStreamName="proc-errors", Record={"Data": b"x\n"})

    def events():
        r = aws(server, "logs", "filter-log-events", "--log-group-name", "/aws/kinesisfirehose/proc-errors",
                "--filter-pattern", '{ $.errorCode = "Lambda.FunctionError" }', check=False)
        return r.returncode == 0 and json.loads(r.stdout)["events"]
    found = wait_for(events, timeout=60, what="a Lambda.FunctionError log event")
    ev = json.loads(found[0]["message"])
    assert found[0]["logStreamName"] == "DestinationDelivery"
    assert ev["processor"] == fn
    assert ev["destination"] == "arn:aws:s3:::proc-errors"
    assert ev["deliveryStreamARN"].endswith(":deliverystream/proc-errors")
    assert isinstance(ev["deliveryStreamVersionId"], int) and ev["message"]
    r = hydrant_logs(server, "proc-errors")
    assert r.returncode == 0 and "Lambda.FunctionError" in r.stdout


def test_missing_bucket_is_logged_to_destination_and_backup_streams(server):
    """S3 delivery errors: S3.NoSuchBucket events in DestinationDelivery for the
    destination and in BackupDelivery for the source backup."""
    server.client("firehose", validate=False).create_delivery_stream(
        DeliveryStreamName="nobucket", ExtendedS3DestinationConfiguration=s3_dest(
            "no-such-dest", BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0},
            CloudWatchLoggingOptions={"Enabled": True, "LogGroupName": "/aws/kinesisfirehose/nobucket",
                                      "LogStreamName": "DestinationDelivery"},
            S3BackupMode="Enabled",
            S3BackupConfiguration=s3_dest("no-such-backup",
                                          BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0},
                                          CloudWatchLoggingOptions={
                                              "Enabled": True, "LogGroupName": "/aws/kinesisfirehose/nobucket",
                                              "LogStreamName": "BackupDelivery"})))
    server.client("firehose").put_record(DeliveryStreamName="nobucket", Record={"Data": b"lost?\n"})
    logs = server.client("logs")

    def events(stream):
        return logs.filter_log_events(logGroupName="/aws/kinesisfirehose/nobucket",
                                      logStreamNames=[stream],
                                      filterPattern='{ $.errorCode = "S3.NoSuchBucket" }')["events"]
    dest = wait_for(lambda: events("DestinationDelivery"), timeout=30, what="destination error event")
    backup = wait_for(lambda: events("BackupDelivery"), timeout=30, what="backup error event")
    d, b = json.loads(dest[0]["message"]), json.loads(backup[0]["message"])
    assert d["destination"] == "arn:aws:s3:::no-such-dest" and "processor" not in d
    assert b["destination"] == "arn:aws:s3:::no-such-backup"
    assert d["deliveryStreamVersionId"] == 1 and d["message"]
