"""Shared fixtures for hydrant's integration tests.

Each test module gets a real `build/hydrant serve` process on a free loopback port
(port 0; the port is read from the line it prints), with its own data folder.
Clients are the real ones: boto3 (Debian's python3-boto3), the AWS CLI v2
(/usr/bin/aws) and the AWS SDK for JavaScript v3 (tests/js).
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import boto3
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

    def restart(self):
        """Restarts on the same port so clients keep working."""
        port = self.port
        self.stop()
        return self.start(port)

    def client(self, service, validate=True):
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=Config(parameter_validation=validate,
                          retries={"total_max_attempts": 1, "mode": "standard"},
                          s3={"addressing_style": "path"}))


@pytest.fixture
def hydrant(tmp_path):
    h = Hydrant(str(tmp_path / "data")).start()
    yield h
    h.stop()


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
