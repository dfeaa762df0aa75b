"""Data transformation through a real Lambda Invoke API peer: serverless-offline 13
(serverless 3, tests/sls) runs Node.js and Python handlers written for AWS Lambda, and
hydrant, configured with `[lambda] endpoint = "http://127.0.0.1:PORT"`, invokes them by
function name over HTTP. Checks the delivered (transformed) bytes, processing-failed
objects for ProcessingFailed results, and the retries of handlers that throw."""
import base64
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import (ROOT, free_port, json_lines, lambda_arn, list_keys, make_lambda_stream, metric,
                      put_records, read_objects, start_with_config, stop_process_group, wait_for)

SLS_DIR = os.path.join(ROOT, "tests", "sls")
SERVICE = "hydrant-sls"  # serverless.yml's service; functions are SERVICE-dev-FUNC

if not shutil.which("node") or not shutil.which("npm"):
    pytest.skip("node and npm are needed for serverless-offline", allow_module_level=True)


def fn_name(func):
    return "%s-dev-%s" % (SERVICE, func)


def fn_arn(func):
    return lambda_arn(fn_name(func))


def invoke_direct(port, func, event):
    """One Invoke API call straight to serverless-offline: (status, headers, body)."""
    req = urllib.request.Request(
        "http://127.0.0.1:%d/2015-03-31/functions/%s/invocations" % (port, fn_name(func)),
        data=json.dumps(event).encode(), method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture(scope="module")
def sls(tmp_path_factory):
    """serverless-offline on free ports, in its own process group (killed as a group)."""
    if not os.path.isdir(os.path.join(SLS_DIR, "node_modules", "serverless-offline")):
        # What scripts/install-deps.sh --test does; ~45 s from an empty npm cache.
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=SLS_DIR, check=True, timeout=900)
    lambda_port, http_port = free_port(), free_port()
    while http_port == lambda_port:
        http_port = free_port()
    log_path = tmp_path_factory.mktemp("sls") / "offline.log"
    env = dict(os.environ, SLS_TELEMETRY_DISABLED="1", SLS_NOTIFICATIONS_MODE="off",
               HYDRANT_SLS_LAMBDA_PORT=str(lambda_port), HYDRANT_SLS_HTTP_PORT=str(http_port))
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            ["node", "node_modules/serverless/bin/serverless.js", "offline", "start"],
            cwd=SLS_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)

    def log_text():
        with open(log_path, errors="replace") as f:
            return f.read()

    try:
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError("serverless-offline exited %s:\n%s" % (proc.returncode, log_text()))
            try:
                if invoke_direct(lambda_port, "node-upper", {"records": []})[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("serverless-offline not ready after 60 s:\n" + log_text())
            time.sleep(0.2)
        yield lambda_port
    finally:
        stop_process_group(proc)


@pytest.fixture(scope="module")
def server(sls, tmp_path_factory):
    with start_with_config(tmp_path_factory.mktemp("slshydrant"),
                           '[lambda]\nendpoint = "http://127.0.0.1:%d"\n' % sls) as h:
        yield h


def make_stream(h, name, func, retries=0, **params):
    make_lambda_stream(h, name, "sls", fn_arn(func), retries, params)


def objects(h, prefix):
    return read_objects(h.client("s3"), "sls", prefix)


def failed_lines(h, prefix):
    return json_lines(h.client("s3"), "sls", prefix)


def at_least(n):
    return lambda v: v if len(v) >= n else None


SENT = [b"hello\n", b"fail this one\n", b"drop me\n", b"bin\x00\xff\x80z\n", b"world\n", b"fail again\n"]


@pytest.mark.parametrize("func", ["node-upper", "py-upper"])
def test_transformation_and_processing_failed(server, func):
    name = "t-" + func
    before = time.time()
    make_stream(server, name, func)
    put_records(server, name, SENT)
    got = wait_for(lambda: objects(server, name + "/"), what="transformed object")
    # Ok records upper-cased (ASCII letters only; other bytes intact), Dropped and
    # ProcessingFailed records absent, in the order they were put.
    assert b"".join(got.values()) == b"HELLO\nBIN\x00\xff\x80Z\nWORLD\n"
    lines = wait_for(lambda: at_least(2)(failed_lines(server, name + "-errors/")), what="processing-failed")
    assert len(lines) == 2
    keys = list_keys(server.client("s3"), "sls", name + "-errors/")
    assert all(k.startswith(name + "-errors/processing-failed/") for k in keys), keys
    assert sorted(base64.b64decode(f["rawData"]) for f in lines) == [b"fail again\n", b"fail this one\n"]
    for f in lines:
        assert f["errorCode"] == "Lambda.ProcessingFailedStatus", f
        assert f["attemptsMade"] == 1, f
        assert f["lambdaArn"] == fn_arn(func), f
        assert before - 5 <= f["arrivalTimestamp"] / 1000 <= f["attemptEndingTimestamp"] / 1000 <= time.time() + 5


@pytest.mark.parametrize("func", ["node-boom", "py-boom"])
def test_throwing_handler_is_retried_then_failed(sls, server, func):
    # serverless-offline answers 200 + X-Amz-Function-Error: Unhandled (for the Python
    # handler only at its 3 s timeout, "[504] - Lambda timeout."). NumberOfRetries 1:
    # two calls, then every record of the invocation is processing-failed.
    status, headers, body = invoke_direct(sls, func, {"records": []})
    assert status == 200 and headers.get("X-Amz-Function-Error") == "Unhandled", (status, dict(headers), body)
    name = "t-" + func
    sent = [b"one\n", b"two\n", b"three\n"]
    make_stream(server, name, func, retries=1)
    put_records(server, name, sent)
    lines = wait_for(lambda: at_least(3)(failed_lines(server, name + "-errors/")), timeout=60,
                     what="processing-failed lines")
    assert sorted(base64.b64decode(f["rawData"]) for f in lines) == sorted(sent)
    for f in lines:
        assert f["errorCode"] == "Lambda.FunctionError", f
        assert f["attemptsMade"] == 2, f
        assert f["errorMessage"] == ("The Lambda function was successfully invoked but it returned "
                                     "an error result."), f
        assert f["lambdaArn"] == fn_arn(func), f
    assert list_keys(server.client("s3"), "sls", name + "/") == []


def test_unknown_function_is_not_retried(server):
    # serverless-offline answers 404 (ResourceNotFoundException): a fatal error, so one
    # call only even with retries configured.
    name = "t-missing"
    make_stream(server, name, "no-such-function", retries=2)
    put_records(server, name, [b"lost?\n"])
    lines = wait_for(lambda: failed_lines(server, name + "-errors/"), timeout=30, what="processing-failed")
    assert len(lines) == 1
    assert base64.b64decode(lines[0]["rawData"]) == b"lost?\n"
    assert lines[0]["attemptsMade"] == 1
    assert lines[0]["errorCode"] == "Lambda.ResourceNotFound"
    assert list_keys(server.client("s3"), "sls", name + "/") == []


def test_many_records_many_invocations(server):
    # 2,000 records of ~1 KB with a 0.25 MiB Lambda buffer: several invocations (run in
    # parallel by hydrant) to the Node.js handler; every Ok record arrives once, transformed.
    name = "t-many"
    make_stream(server, name, "node-upper", BufferSizeInMBs="0.25")
    sent = [b"rec-%05d %s\n" % (i, b"x" * 1000) for i in range(2000)]
    sent[7] = b"fail-%05d\n" % 7
    put_records(server, name, sent)
    expected = sorted(s.upper() for i, s in enumerate(sent) if i != 7)

    def delivered():
        lines = [l + b"\n" for body in objects(server, name + "/").values() for l in body.split(b"\n") if l]
        return lines if len(lines) >= len(expected) else None

    assert sorted(wait_for(delivered, timeout=60, what="all transformed records")) == expected
    lines = wait_for(lambda: failed_lines(server, name + "-errors/"), what="the failed record")
    assert [base64.b64decode(f["rawData"]) for f in lines] == [b"fail-00007\n"]
    n = metric(server, "hydrant_firehose_execute_processing_duration_seconds_count", "t-many")
    assert n and n >= 8, n  # 2 MB of records, at most 0.25 MiB per invocation

