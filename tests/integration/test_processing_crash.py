"""Crash during data transformation: producers keep putting uniquely numbered records
into a stream whose Lambda processor (a local Python handler) takes about a second per
invocation, and hydrant is killed with SIGKILL while an invocation is in progress, then
restarted on the same port and data folder. Every acknowledged record must end up
transformed in the bucket (or, at worst, in processing-failed/): none is lost;
duplicates are allowed (at-least-once) and counted."""
import base64
import json
import os
import random
import re
import textwrap
import threading
import time

import boto3
from botocore.config import Config

from conftest import Hydrant, list_keys, s3_dest, wait_for

FUNCTION = "slow-upper"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:" + FUNCTION

# Writes "S <pid>" when an invocation starts and "E <pid>" when it ends, so the test
# can kill hydrant while one is in progress.
HANDLER = '''
import base64
import os
import time

MARKS = os.environ["MARKS_FILE"]

def mark(s):
    with open(MARKS, "a") as f:
        f.write("%s %d\\n" % (s, os.getpid()))

def lambda_handler(event, context):
    mark("S")
    time.sleep(1)
    out = [{"recordId": r["recordId"], "result": "Ok",
            "data": base64.b64encode(base64.b64decode(r["data"]).upper()).decode()}
           for r in event["records"]]
    mark("E")
    return {"records": out}
'''

LINE_RE = re.compile(rb"^REC-(\d+)-(\d+)-PAYLOAD\n$")


def producer_client(h):
    # No retries and short timeouts: a put that dies with the server is simply not
    # acknowledged, and the producer goes on with new ids.
    return boto3.client(
        "firehose", endpoint_url=h.endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1, "mode": "standard"},
                      connect_timeout=2, read_timeout=10))


class Producers:
    def __init__(self, h, stream, threads=2, batch=20):
        self.h, self.stream, self.batch = h, stream, batch
        self.acked = set()
        self.sent = set()
        self.errors = 0
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

    def _run(self, tid):
        client = producer_client(self.h)
        n = 0
        while not self.stop_flag.is_set():
            ids = [(tid, n + i) for i in range(self.batch)]
            n += self.batch
            with self.lock:
                self.sent.update(ids)
            try:
                r = client.put_record_batch(DeliveryStreamName=self.stream, Records=[
                    {"Data": b"rec-%d-%d-payload\n" % i} for i in ids])
            except Exception:  # connection refused/reset while hydrant is down
                with self.lock:
                    self.errors += 1
                time.sleep(0.1)
                client = producer_client(self.h)
                continue
            ok = [i for i, rr in zip(ids, r["RequestResponses"]) if "ErrorCode" not in rr]
            with self.lock:
                self.acked.update(ok)
            time.sleep(0.05)


def marks(path):
    """(started, ended) invocation counts from the handler's marks file."""
    try:
        with open(path) as f:
            lines = f.read().split()
    except FileNotFoundError:
        return 0, 0
    return lines.count("S"), lines.count("E")


def test_kill_during_transformation_loses_nothing(tmp_path):
    handler = tmp_path / "slow_upper.py"
    handler.write_text(textwrap.dedent(HANDLER))
    marks_file = tmp_path / "marks.txt"
    cfg = tmp_path / "hydrant.toml"
    cfg.write_text(textwrap.dedent('''
        [[lambda.functions]]
        name = "%s"
        runtime = "python3"
        handler = "%s"
        timeout_seconds = 10
        environment = { MARKS_FILE = "%s" }
        ''' % (FUNCTION, handler, marks_file)))
    h = Hydrant(str(tmp_path / "data"), ["--config", str(cfg)]).start()
    try:
        run(h, marks_file)
    finally:
        h.stop()


def run(h, marks_file):
    h.client("s3").create_bucket(Bucket="crash")
    h.client("firehose", validate=False).create_delivery_stream(
        DeliveryStreamName="pcrash", ExtendedS3DestinationConfiguration=s3_dest(
            "crash", Prefix="out/", ErrorOutputPrefix="err/!{firehose:error-output-type}/",
            BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 1},
            ProcessingConfiguration={"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
                {"ParameterName": "LambdaArn", "ParameterValue": FUNCTION_ARN},
                {"ParameterName": "NumberOfRetries", "ParameterValue": "3"},
                {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "1"}]}]}))
    p = Producers(h, "pcrash").start()
    kills = mid_transformation = 0
    rng = random.Random(7)
    deadline = time.time() + 45
    while kills < 4 and time.time() < deadline:
        time.sleep(1.2)  # the previous run's orphaned invocation (if any) has ended
        s0, e0 = marks(marks_file)
        # Wait for an invocation of this run to start, then kill it part-way through.
        wait_for(lambda: marks(marks_file)[0] > s0, timeout=15, interval=0.02,
                 what="an invocation to start")
        time.sleep(rng.uniform(0.1, 0.7))
        s, e = marks(marks_file)
        h.kill()
        kills += 1
        if s > e:
            mid_transformation += 1
        h.start(h.port)
    time.sleep(1)
    p.stop()
    assert kills == 4 and mid_transformation >= 3, (kills, mid_transformation)
    assert len(p.acked) > 200, "producers hardly got through: %d acknowledged" % len(p.acked)

    s3 = h.client("s3")

    def outputs():
        out, failed = [], []
        for k in list_keys(s3, "crash", "out/"):
            body = s3.get_object(Bucket="crash", Key=k)["Body"].read()
            out += body.splitlines(keepends=True)
        for k in list_keys(s3, "crash", "err/"):
            for line in s3.get_object(Bucket="crash", Key=k)["Body"].read().splitlines():
                failed.append(json.loads(line))
        return out, failed

    def ids():
        out, failed = outputs()
        got = set()
        for line in out:
            m = LINE_RE.match(line)
            assert m, "not a transformed record: %r" % line
            got.add((int(m.group(1)), int(m.group(2))))
        for f in failed:
            m = re.match(rb"^rec-(\d+)-(\d+)-payload\n$", base64.b64decode(f["rawData"]))
            assert m, f
            got.add((int(m.group(1)), int(m.group(2))))
        return got

    got = wait_for(lambda: (lambda g: g if g >= p.acked else None)(ids()), timeout=40, interval=0.5,
                   what="every acknowledged record, transformed")
    out, failed = outputs()
    transformed = [(int(m.group(1)), int(m.group(2))) for m in map(LINE_RE.match, out)]
    assert set(transformed) | got <= p.sent, "records that were never sent"
    dups = len(transformed) - len(set(transformed))
    print("processing crash test: %d kills (%d mid-transformation), %d sent, %d acknowledged, "
          "%d transformed, %d duplicates, %d processing-failed, %d failed puts" % (
              kills, mid_transformation, len(p.sent), len(p.acked), len(set(transformed)), dups,
              len(failed), p.errors))
    assert not (p.acked - got)
