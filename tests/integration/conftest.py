"""Shared fixtures and helpers for hydrant's integration tests.

Each test module gets a real `build/hydrant serve` process on a free loopback port
(port 0; the port is read from the line it prints), with its own data folder.
Clients are the real ones: boto3 (Debian's python3-boto3), the AWS CLI v2
(/usr/bin/aws) and the AWS SDK for JavaScript v3 (tests/js).

The tests import the plain helpers below (`from conftest import ...`); pytest finds
the fixtures (hydrant, s3rver) by name. What only one test module needs stays in
that module.
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import textwrap
import threading
import time
import urllib.request

import boto3
import botocore
import pytest
from botocore.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HYDRANT = os.environ.get("HYDRANT_BIN", os.path.join(ROOT, "build", "hydrant"))

CLIENT_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_PAGER": "",
    "AWS_EC2_METADATA_DISABLED": "true",
}
os.environ.update(CLIENT_ENV)


class Hydrant:
    """A running hydrant server. start()/kill()/stop() may be called repeatedly
    on the same data folder (crash and restart tests)."""

    def __init__(self, data_dir, extra_args=()):
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.log_path = os.path.join(data_dir + "-logs", "hydrant.log")
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, port=0):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [HYDRANT, "serve", "--listen", "127.0.0.1:%d" % port, "--data-dir", self.data_dir]
            + self.extra_args,
            stdout=subprocess.PIPE, stderr=log)
        log.close()
        deadline = time.time() + 30
        line = b""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            m = re.search(rb"listening on http://[^:]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                break
        raise RuntimeError("hydrant did not start: %r\n%s" % (line, self.log()))

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def kill(self):
        """SIGKILL: no chance to flush anything."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def restart(self):
        """Restarts on the same port so clients keep working."""
        port = self.port
        self.stop()
        return self.start(port)

    def client(self, service, validate=True, **config):
        """A boto3 client without retries; config adds botocore Config settings
        (connect_timeout, read_timeout)."""
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=Config(parameter_validation=validate,
                          retries={"total_max_attempts": 1, "mode": "standard"},
                          s3={"addressing_style": "path"}, **config))


@pytest.fixture
def hydrant(tmp_path):
    with Hydrant(str(tmp_path / "data")).start() as h:
        yield h


def wait_for(fn, timeout=30, interval=0.1, what="condition"):
    """Polls fn() until it returns a truthy value; fails the test after timeout."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


def list_keys(s3, bucket, prefix=""):
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def s3_dest(bucket, **kw):
    cfg = {"RoleARN": "arn:aws:iam::000000000000:role/firehose", "BucketARN": "arn:aws:s3:::" + bucket}
    cfg.update(kw)
    return cfg


FIREHOSE_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


def make_delivery_role(iam, name="firehose"):
    """The role s3_dest names, as Firehose needs it where roles are enforced (sigv4
    mode): it trusts firehose.amazonaws.com and may write to every bucket."""
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(FIREHOSE_TRUST))
    iam.put_role_policy(RoleName=name, PolicyName="deliver", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["s3:PutObject", "s3:ListBucket", "s3:GetBucketLocation",
                                          "s3:AbortMultipartUpload"],
            "Resource": ["arn:aws:s3:::*", "arn:aws:s3:::*/*"]}]}))


def put_role_policy(h, role_name, policy_name, doc):
    """`aws iam put-role-policy` (CLI v2) with the document `doc`."""
    aws(h, "iam", "put-role-policy", "--role-name", role_name, "--policy-name", policy_name,
        "--policy-document", json.dumps(doc))


def cli_role(h, name, trust=FIREHOSE_TRUST, **policies):
    """`aws iam create-role` (CLI v2) with trust policy `trust` and inline policies
    {policy name: document}; returns the role's ARN."""
    aws(h, "iam", "create-role", "--role-name", name, "--assume-role-policy-document",
        json.dumps(trust))
    for policy_name, doc in policies.items():
        put_role_policy(h, name, policy_name, doc)
    return "arn:aws:iam::000000000000:role/" + name


def read_objects(s3, bucket, prefix=""):
    """{key: body} of every object under prefix, in key order."""
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in list_keys(s3, bucket, prefix)}


def json_lines(s3, bucket, prefix):
    """The JSON lines of every object under prefix (processing-failed records)."""
    return [json.loads(line) for body in read_objects(s3, bucket, prefix).values()
            for line in body.splitlines() if line]


# ---------------------------------------------------------------- servers and config


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_with_config(root, toml, args=(), port=0):
    """hydrant with `--config root/hydrant.toml` holding toml, its data in root/data."""
    cfg = root / "hydrant.toml"
    cfg.write_text(toml)
    return Hydrant(str(root / "data"), ["--config", str(cfg), *args]).start(port)


def s3_buckets_toml(buckets):
    """One [[s3.buckets]] entry per (name, endpoint, key, secret[, more TOML lines])."""
    toml = ""
    for b in buckets:
        name, endpoint, key, secret = b[:4]
        toml += ('\n[[s3.buckets]]\nname = "%s"\nendpoint = "%s"\naccess_key_id = "%s"\n'
                 'secret_access_key = "%s"\n' % (name, endpoint, key, secret))
        if len(b) > 4:
            toml += b[4] + "\n"
    return toml


def start_with_buckets(root, buckets, extra_toml=""):
    """hydrant delivering to remote stores: see s3_buckets_toml."""
    return start_with_config(root, extra_toml + s3_buckets_toml(buckets))


def _toml_value(v):
    if isinstance(v, dict):
        return "{ %s }" % ", ".join("%s = %s" % (k, _toml_value(x)) for k, x in v.items())
    if isinstance(v, int):
        return str(v)
    return '"%s"' % v


def lambda_function_toml(name, **keys):
    """One [[lambda.functions]] entry: name, then keys in order (runtime = "python3",
    handler = path, timeout_seconds = 10, environment = {...})."""
    lines = ["[[lambda.functions]]", 'name = "%s"' % name]
    lines += ["%s = %s" % (k, _toml_value(v)) for k, v in keys.items()]
    return "\n".join(lines) + "\n"


def write_handlers(folder, handlers):
    """Writes {file name: source} into folder (created), sources dedented."""
    folder.mkdir(exist_ok=True)
    for name, code in handlers.items():
        (folder / name).write_text(textwrap.dedent(code))
    return folder


def lambda_arn(function, account="000000000000"):
    return "arn:aws:lambda:us-east-1:%s:function:%s" % (account, function)


# ---------------------------------------------------------------- streams and puts


def ensure_bucket(h, bucket):
    """Creates bucket in hydrant's own store unless it exists (module-scoped servers)."""
    s3 = h.client("s3")
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)


def make_stream(h, name, bucket, create_bucket=False, **dest):
    """A DirectPut stream into bucket; buffering 1 MiB / 1 s unless dest sets
    BufferingHints (below boto3's 60 s minimum, hence no client-side validation)."""
    if create_bucket:
        ensure_bucket(h, bucket)
    dest.setdefault("BufferingHints", {"SizeInMBs": 1, "IntervalInSeconds": 1})
    h.client("firehose", validate=False).create_delivery_stream(
        DeliveryStreamName=name, ExtendedS3DestinationConfiguration=s3_dest(bucket, **dest))


def lambda_processing(arn, retries=0, **params):
    """ProcessingConfiguration with one Lambda processor: NumberOfRetries retries,
    BufferIntervalInSeconds 1, then params as more processor parameters."""
    parameters = [{"ParameterName": "LambdaArn", "ParameterValue": arn},
                  {"ParameterName": "NumberOfRetries", "ParameterValue": str(retries)},
                  {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "1"}]
    parameters += [{"ParameterName": k, "ParameterValue": v} for k, v in params.items()]
    return {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": parameters}]}


def make_lambda_stream(h, name, bucket, arn, retries=0, lambda_params=None, **dest):
    """A stream through the Lambda function arn into bucket (created if missing):
    transformed records under NAME/, failed ones under NAME-errors/<error type>/."""
    make_stream(h, name, bucket, create_bucket=True, Prefix=name + "/",
                ErrorOutputPrefix=name + "-errors/!{firehose:error-output-type}/",
                ProcessingConfiguration=lambda_processing(arn, retries, **(lambda_params or {})), **dest)


def put_records(h, stream, records):
    """PutRecordBatch in batches of at most 500 records and 3.5 MB; every record
    must be accepted."""
    fh = h.client("firehose", validate=False)
    batch, size = [], 0
    for r in records + [None]:
        if batch and (r is None or len(batch) == 500 or size + len(r) > 3_500_000):
            resp = fh.put_record_batch(DeliveryStreamName=stream, Records=[{"Data": d} for d in batch])
            assert resp["FailedPutCount"] == 0, resp
            batch, size = [], 0
        if r is not None:
            batch.append(r)
            size += len(r)


# ---------------------------------------------------------------- metrics


def health(h):
    """GET /health: "ok\n", or "degraded\n" and one line per problem."""
    with urllib.request.urlopen(h.endpoint + "/health") as r:
        assert r.status == 200
        return r.read().decode()


def metrics_text(h):
    """GET /metrics."""
    with urllib.request.urlopen(h.endpoint + "/metrics") as r:
        return r.read().decode()


def metric_value(text, name, stream=None, **labels):
    """The sample `name{delivery_stream=stream,labels}` of a /metrics text, or None when absent."""
    parts = ([] if stream is None else ['delivery_stream="%s"' % stream]) + \
        ['%s="%s"' % kv for kv in labels.items()]
    sel = name + ("{" + ",".join(parts) + "}" if parts else "")
    m = re.search(r"^" + re.escape(sel) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def metric(h, name, stream=None, **labels):
    """One sample of hydrant's /metrics now (see metric_value)."""
    return metric_value(metrics_text(h), name, stream, **labels)


# ---------------------------------------------------------------- the AWS CLI v2

AWS = "/usr/bin/aws"


def aws(h, *args, check=True, binary=False, timeout=120):
    """Runs the AWS CLI v2 against hydrant; returns the CompletedProcess (stdout as
    text unless binary). With check, a non-zero exit fails the test with the CLI's
    stderr and hydrant's log tail."""
    env = dict(os.environ)
    env.update(CLIENT_ENV)
    # Keep the user's own CLI configuration out of the test.
    env["AWS_CONFIG_FILE"] = "/nonexistent-hydrant-itest-config"
    env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent-hydrant-itest-credentials"
    p = subprocess.run([AWS, "--endpoint-url", h.endpoint, "--output", "json"] + list(args),
                       env=env, capture_output=True, timeout=timeout)
    if not binary:
        p.stdout = p.stdout.decode("utf-8", "replace")
    p.stderr = p.stderr.decode("utf-8", "replace")
    if check and p.returncode != 0:
        raise AssertionError("aws %s exited %d\nstderr: %s\nhydrant log tail:\n%s" % (
            " ".join(args)[:300], p.returncode, p.stderr, h.log()[-3000:]))
    return p


def aws_json(h, *args):
    out = aws(h, *args).stdout
    return json.loads(out) if out.strip() else {}


def s3_ls(h, bucket):
    """`aws s3 ls --recursive` parsed into {key: size}."""
    out = aws(h, "s3", "ls", "--recursive", "s3://%s/" % bucket).stdout
    objs = {}
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4:
            objs[parts[3]] = int(parts[2])
    return objs


def s3_cat(h, bucket, key):
    """`aws s3 cp s3://bucket/key -`: the object's bytes."""
    return aws(h, "s3", "cp", "s3://%s/%s" % (bucket, key), "-", binary=True).stdout


# ---------------------------------------------------------------- crash-test producers


class Producers:
    """Threads putting batches of unique records until stopped, for the crash tests.
    Their clients have short timeouts and no retries: a put that dies with the server
    is simply not acknowledged, and the producer goes on with new records.

    record(tid, n, rnd) makes record n of thread tid as (id, bytes); rnd is the
    thread's own random.Random(tid). sent maps every id ever sent (acknowledged or
    not) to its bytes; acked holds the ids hydrant accepted."""

    def __init__(self, h, stream, record, threads, batch, read_timeout, pause=0.0):
        self.h, self.stream, self.record, self.batch = h, stream, record, batch
        self.read_timeout, self.pause = read_timeout, pause
        self.acked = set()
        self.sent = {}
        self.errors = 0          # PutRecordBatch calls that failed as a whole
        self.failed_records = 0  # records refused inside an answered call
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(t,), daemon=True) for t in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(30)
            assert not t.is_alive(), "a producer thread hung"

    def wait_for_acks(self, n, what):
        """Waits until n more records than now are acknowledged."""
        with self.lock:
            target = len(self.acked) + n
        wait_for(lambda: len(self.acked) >= target, timeout=30, interval=0.05, what=what)

    def _client(self):
        return self.h.client("firehose", validate=False, connect_timeout=2, read_timeout=self.read_timeout)

    def _run(self, tid):
        rnd = random.Random(tid)
        fh = self._client()
        n = 0
        while not self.stop_flag.is_set():
            recs = [self.record(tid, n + i, rnd) for i in range(self.batch)]
            n += self.batch
            with self.lock:
                self.sent.update(recs)
            try:
                r = fh.put_record_batch(DeliveryStreamName=self.stream, Records=[{"Data": d} for _, d in recs])
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
                # Connection refused or reset while hydrant is down.
                with self.lock:
                    self.errors += 1
                time.sleep(0.05)
                fh = self._client()
                continue
            ok = r["ResponseMetadata"]["HTTPStatusCode"] == 200
            with self.lock:
                # Acknowledged per record: entries without an ErrorCode were accepted.
                for (rid, _), rr in zip(recs, r["RequestResponses"]):
                    if ok and "ErrorCode" not in rr:
                        self.acked.add(rid)
                    else:
                        self.failed_records += 1
            time.sleep(self.pause)


# ---------------------------------------------------------------- S3-compatible peers

PEERS_DIR = os.path.join(ROOT, "tests", "s3peers")


def wait_port(port, proc, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s" % (what, proc.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("%s not listening after %ss" % (what, timeout))


class Peer:
    """A store process on a fixed free port, restartable on the same port."""

    def __init__(self, argv_fn, what, log_path, env=None, cwd=None):
        self.port = free_port()
        self.argv_fn, self.what, self.log_path, self.env, self.cwd = argv_fn, what, log_path, env, cwd
        self.proc = None

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv_fn(self.port), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.env, cwd=self.cwd,
                                         start_new_session=True)
        wait_port(self.port, self.proc, self.what)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            stop_process_group(self.proc)
        # The port is free once the process is gone.

    def client(self, key="test", secret="test"):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=key, aws_secret_access_key=secret,
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"total_max_attempts": 2, "mode": "standard"}))


def stop_process_group(proc):
    """SIGTERM to the process group of proc (started with start_new_session), then
    SIGKILL after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(10)
            break
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def s3rver(tmp_path_factory):
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node and npm are needed for s3rver")
    if not os.path.isdir(os.path.join(PEERS_DIR, "node_modules", "s3rver")):
        # What scripts/install-deps.sh --test does.
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=PEERS_DIR, check=True, timeout=600)
    root = tmp_path_factory.mktemp("s3rver")
    data = root / "data"
    data.mkdir()
    p = Peer(lambda port: ["node", os.path.join(PEERS_DIR, "node_modules", "s3rver", "bin", "s3rver.js"),
                           "-d", str(data), "-a", "127.0.0.1", "-p", str(port)],
             "s3rver", root / "s3rver.log", cwd=PEERS_DIR).start()
    yield p
    p.stop()
