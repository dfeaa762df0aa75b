"""`hydrant doctor STREAM` (issue 4, item 4): each failure of AWS's checklist "Firehose
delivers nothing to my S3 bucket" (AWS's troubleshooting guide) reproduced against the real
binary, and the doctor's verdict checked: exit code, the failing check's line and the
--json report. Also GET /doctor?stream=NAME. The server samples metrics every second."""
import json
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import (HYDRANT, free_port, lambda_arn, lambda_function_toml, lambda_processing, list_keys,
                      make_stream, put_records, start_with_buckets, start_with_config, wait_for,
                      write_handlers)

HANDLERS = {
    "ok.py": '''
def lambda_handler(event, context):
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]}
                        for r in event["records"]]}
''',
    # Sleeps past its 1 s timeout.
    "slow.py": '''
import time
def lambda_handler(event, context):
    time.sleep(3)
    return {"records": []}
''',
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("doctor")
    hdir = write_handlers(root / "handlers", HANDLERS)
    port = free_port()
    dead = free_port()  # nothing listens there
    # Functions hydrant does not run itself go to its own Lambda API, which answers
    # ResourceNotFoundException for a function it does not know: a deleted function.
    with start_with_config(root, "\n".join([
        "metrics_period_seconds = 1",
        "[lambda]",
        'endpoint = "http://127.0.0.1:%d"' % port,
        lambda_function_toml("ok", runtime="python3", handler=hdir / "ok.py", timeout_seconds=10),
        lambda_function_toml("slow", runtime="python3", handler=hdir / "slow.py", timeout_seconds=1),
        lambda_function_toml("down", runtime="http", endpoint="http://127.0.0.1:%d" % dead),
    ]), port=port) as h:
        yield h


def doctor(h, stream, as_json=False):
    args = [HYDRANT, "doctor", stream, "--endpoint", h.endpoint] + (["--json"] if as_json else [])
    return subprocess.run(args, capture_output=True, text=True, timeout=90)


def report(h, stream):
    p = doctor(h, stream, as_json=True)
    assert p.returncode in (0, 1), (p.returncode, p.stderr)
    r = json.loads(p.stdout)
    r["rc"] = p.returncode
    r["by_id"] = {c["id"]: c for c in r["checks"]}
    return r


def check(h, stream, check_id):
    return report(h, stream)["by_id"][check_id]


def line_of(text, name):
    for line in text.splitlines():
        if line[6:].startswith(name + " "):
            return line
    raise AssertionError("no line for %r in:\n%s" % (name, text))


def doctor_stream(h, name, bucket, create_bucket=True, logging=True, **extra):
    """A stream into bucket under NAME/, failures under NAME-errors/, with CloudWatch
    logging to /aws/kinesisfirehose/NAME unless logging is False."""
    if logging:
        extra["CloudWatchLoggingOptions"] = {"Enabled": True, "LogGroupName": "/aws/kinesisfirehose/" + name,
                                             "LogStreamName": "DestinationDelivery"}
    make_stream(h, name, bucket, create_bucket=create_bucket, Prefix=name + "/",
                ErrorOutputPrefix=name + "-errors/", **extra)


def lambda_through(function):
    return lambda_processing(lambda_arn(function))


def put(h, name, n=5):
    put_records(h, name, [b"rec-%d\n" % i for i in range(n)])


def test_healthy_stream_passes_every_check(server):
    doctor_stream(server, "healthy", "doctor-ok", ProcessingConfiguration=lambda_through("ok"))
    put(server, "healthy")
    wait_for(lambda: list_keys(server.client("s3"), "doctor-ok", "healthy/"), what="delivery")

    def healthy():
        r = report(server, "healthy")
        return r if r["rc"] == 0 and r["summary"]["warning"] == 0 else None
    r = wait_for(healthy, timeout=30, interval=0.5, what="a healthy report")
    assert r["healthy"] is True and r["summary"]["failed"] == 0
    statuses = {c["id"]: c["status"] for c in r["checks"]}
    for cid in ("stream", "incoming-data", "bucket-access", "lambda-function", "lambda-duration",
                "processing", "delivery", "retention", "error-logging", "error-events"):
        assert statuses[cid] == "passed", (cid, r["by_id"][cid])
    assert statuses["backup-bucket-access"] == "not_applicable"
    assert "IncomingRecords 5" in r["by_id"]["incoming-data"]["evidence"]
    p = doctor(server, "healthy")
    assert p.returncode == 0, p.stdout + p.stderr
    assert line_of(p.stdout, "bucket access").startswith("PASS  ")
    assert "s3://doctor-ok reachable (list, write, delete)" in p.stdout
    assert "OK: 0 failed" in p.stdout
    # The probe object is gone.
    assert not [k for k in list_keys(server.client("s3"), "doctor-ok") if k.startswith("hydrant-access-probe-")]


def test_missing_bucket(server):
    doctor_stream(server, "nobucket", "doctor-missing", create_bucket=False)
    put(server, "nobucket")
    r = wait_for(lambda: (lambda r: r if r["by_id"]["delivery"]["status"] == "failed" else None)(
        report(server, "nobucket")), timeout=30, interval=0.5, what="delivery failing")
    assert r["rc"] == 1 and r["healthy"] is False
    c = r["by_id"]["bucket-access"]
    assert c["status"] == "failed" and c["errorCode"] == "S3.NoSuchBucket", c
    assert "create the bucket" in c["fix"]
    ev = wait_for(lambda: (lambda c: c if c["status"] == "warning" else None)(
        check(server, "nobucket", "error-events")), timeout=30, interval=0.5, what="error events")
    assert ev["errorCode"] == "S3.NoSuchBucket" and "S3.NoSuchBucket x" in ev["evidence"]
    p = doctor(server, "nobucket")
    assert p.returncode == 1
    line = line_of(p.stdout, "bucket access")
    assert line.startswith("FAIL  ") and "S3.NoSuchBucket" in line and "fix: create the bucket" in line
    # Fixed: the bucket exists, the kept data is delivered, the doctor is happy.
    server.client("s3").create_bucket(Bucket="doctor-missing")
    wait_for(lambda: check(server, "nobucket", "bucket-access")["status"] == "passed", what="bucket ok")
    wait_for(lambda: list_keys(server.client("s3"), "doctor-missing", "nobucket/"), what="delivery")


def test_deleted_lambda_function(server):
    doctor_stream(server, "gonefn", "doctor-ok", ProcessingConfiguration=lambda_through("gone"))
    r = report(server, "gonefn")
    assert r["rc"] == 1
    c = r["by_id"]["lambda-function"]
    assert c["status"] == "failed" and c["errorCode"] == "Lambda.ResourceNotFound", c
    assert "the function does not exist" in c["fix"]
    p = doctor(server, "gonefn")
    line = line_of(p.stdout, "lambda function")
    assert p.returncode == 1 and line.startswith("FAIL  ") and "Lambda.ResourceNotFound" in line


def test_lambda_endpoint_down(server):
    doctor_stream(server, "downfn", "doctor-ok", ProcessingConfiguration=lambda_through("down"))
    c = check(server, "downfn", "lambda-function")
    assert c["status"] == "failed" and c["errorCode"] == "Lambda.ServiceUnavailable", c
    assert "does not answer" in c["fix"]


def test_function_that_times_out(server):
    doctor_stream(server, "slowfn", "doctor-ok", ProcessingConfiguration=lambda_through("slow"))
    r = report(server, "slowfn")
    c = r["by_id"]["lambda-function"]
    assert r["rc"] == 1 and c["status"] == "failed", c
    assert "timed out" in c["evidence"] and "timeout 1 s" in c["evidence"]
    assert "raise the function's timeout" in c["fix"]
    # Real traffic: ExecuteProcessing.Duration runs into the 1 s timeout.
    put(server, "slowfn", 2)
    d = wait_for(lambda: (lambda c: c if c["status"] == "failed" else None)(
        check(server, "slowfn", "lambda-duration")), timeout=40, interval=0.5, what="duration check")
    assert "ExecuteProcessing.Duration" in d["evidence"] and "timeout 1 s" in d["evidence"]
    p = wait_for(lambda: (lambda c: c if c["status"] == "failed" else None)(
        check(server, "slowfn", "processing")), timeout=30, interval=0.5, what="processing failed")
    assert "s3://doctor-ok/slowfn-errors/" in p["evidence"]


def test_no_incoming_data(server):
    doctor_stream(server, "quiet", "doctor-ok")
    p = doctor(server, "quiet")
    assert p.returncode == 1, p.stdout
    line = line_of(p.stdout, "incoming data")
    assert line.startswith("FAIL  ") and "IncomingRecords and IncomingBytes are 0" in line
    assert "PutRecord/PutRecordBatch" in line
    # Everything else about the stream is fine.
    r = report(server, "quiet")
    assert [c["id"] for c in r["checks"] if c["status"] == "failed"] == ["incoming-data"]


def test_logging_disabled_is_a_warning(server):
    doctor_stream(server, "nolog", "doctor-ok", logging=False)
    put(server, "nolog")
    wait_for(lambda: list_keys(server.client("s3"), "doctor-ok", "nolog/"), what="delivery")
    r = wait_for(lambda: (lambda r: r if r["rc"] == 0 else None)(report(server, "nolog")),
                 timeout=30, interval=0.5, what="no failed check")
    c = r["by_id"]["error-logging"]
    assert c["status"] == "warning" and "enable CloudWatchLoggingOptions" in c["fix"]
    assert r["by_id"]["error-events"]["status"] == "not_applicable"
    p = doctor(server, "nolog")
    assert p.returncode == 0 and line_of(p.stdout, "error logging").startswith("WARN  ")


def test_http_report_and_usage_errors(server):
    doctor_stream(server, "viahttp", "doctor-ok")
    with urllib.request.urlopen(server.endpoint + "/doctor?stream=viahttp", timeout=60) as resp:
        assert resp.headers["Content-Type"] == "application/json"
        body = json.loads(resp.read())
    assert body["stream"] == "viahttp" and {c["id"] for c in body["checks"]} >= {"bucket-access", "incoming-data"}
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(server.endpoint + "/doctor?stream=nope", timeout=60)
    assert e.value.code == 404
    p = doctor(server, "nope")
    assert p.returncode == 2 and "not found" in p.stderr
    p = subprocess.run([HYDRANT, "doctor"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    p = subprocess.run([HYDRANT, "doctor", "x", "--endpoint", "http://127.0.0.1:%d" % free_port()],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "cannot reach hydrant" in p.stderr


def test_access_denied_on_a_remote_bucket(s3rver, tmp_path):
    s3rver.client("S3RVER", "S3RVER").create_bucket(Bucket="doctor-guarded")
    # s3rver checks the access key id: a wrong one is refused (S3.AccessDenied).
    with start_with_buckets(tmp_path, [("doctor-guarded", s3rver.endpoint, "WRONGKEY", "S3RVER")],
                            extra_toml="metrics_period_seconds = 1\n") as h:
        doctor_stream(h, "denied", "doctor-guarded", create_bucket=False)
        r = report(h, "denied")
        c = r["by_id"]["bucket-access"]
        assert r["rc"] == 1 and c["status"] == "failed" and c["errorCode"] == "S3.AccessDenied", c
        assert "s3:PutObject" in c["fix"] and "bucket policy" in c["fix"]
        p = doctor(h, "denied")
        assert p.returncode == 1 and "S3.AccessDenied" in line_of(p.stdout, "bucket access")
