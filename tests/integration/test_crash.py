"""Crash test: producers keep putting while the server is killed with SIGKILL at random
moments and restarted on the same data folder and port. Every record whose put was
acknowledged (HTTP 200, FailedPutCount 0) must end up in the bucket; duplicates are
allowed (at-least-once) and counted; no record may arrive torn or altered."""
import random
import threading
import time

import boto3
import botocore
from botocore.config import Config

from conftest import s3_dest, wait_for


def producer_client(h):
    # Short timeouts and no retries: a put that dies with the server is simply not
    # acknowledged, and the producer moves on.
    return boto3.client(
        "firehose", endpoint_url=h.endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1, "mode": "standard"},
                      connect_timeout=2, read_timeout=15))


class Producers:
    """Threads putting batches of unique records "t<thread>-<n> <padding>\\n"."""

    def __init__(self, h, stream, threads=4, batch=50):
        self.h, self.stream, self.batch = h, stream, batch
        self.acked = set()
        self.sent = {}  # id → exact line, for every record ever sent (acknowledged or not)
        self.errors = 0
        self.failed_records = 0
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

    def _run(self, tid):
        rnd = random.Random(tid)
        fh = producer_client(self.h)
        port = self.h.port
        n = 0
        while not self.stop_flag.is_set():
            if self.h.port != port:  # never happens (same port), but stay correct
                fh, port = producer_client(self.h), self.h.port
            ids, lines = [], []
            for _ in range(self.batch):
                rid = "t%d-%d" % (tid, n)
                n += 1
                line = ("%s %s\n" % (rid, "p" * rnd.randrange(0, 3000))).encode()
                ids.append(rid)
                lines.append(line)
            with self.lock:
                for rid, line in zip(ids, lines):
                    self.sent[rid] = line
            try:
                r = fh.put_record_batch(DeliveryStreamName=self.stream,
                                        Records=[{"Data": line} for line in lines])
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
                with self.lock:
                    self.errors += 1
                time.sleep(0.05)
                continue
            ok = r["ResponseMetadata"]["HTTPStatusCode"] == 200
            with self.lock:
                if ok and r["FailedPutCount"] == 0:
                    self.acked.update(ids)
                else:
                    # Acknowledged per record: entries without an ErrorCode were accepted.
                    for rid, rr in zip(ids, r["RequestResponses"]):
                        if ok and "ErrorCode" not in rr:
                            self.acked.add(rid)
                        else:
                            self.failed_records += 1


class Bucket:
    """Reads every object of a bucket, caching bodies by (key, ETag)."""

    def __init__(self, h, bucket):
        self.h, self.bucket = h, bucket
        self.cache = {}

    def lines(self):
        s3 = self.h.client("s3")
        out = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for o in page.get("Contents", []):
                ck = (o["Key"], o["ETag"])
                if ck not in self.cache:
                    self.cache[ck] = s3.get_object(Bucket=self.bucket, Key=o["Key"])["Body"].read()
                out.append(self.cache[ck])
        # Records are concatenated without delimiter; each ends with "\n".
        lines = []
        for body in out:
            assert body.endswith(b"\n") or body == b"", "an object ends inside a record"
            lines += [l + b"\n" for l in body.split(b"\n")[:-1]]
        return lines


def check_delivery(h, producers, bucket, timeout):
    """Waits until every acknowledged id is in the bucket; checks that every delivered
    line is exactly a line that was sent. Returns (delivered count, duplicate count)."""
    b = Bucket(h, bucket)
    state = {}

    def complete():
        try:
            lines = b.lines()
        except botocore.exceptions.BotoCoreError as e:
            raise AssertionError("reading the bucket failed: %r; server %s\nhydrant log tail:\n%s" % (
                e, "alive" if h.proc.poll() is None else "exited with %s" % h.proc.returncode,
                h.log()[-4000:]))
        ids = [l.split(b" ", 1)[0].decode() for l in lines]
        state["lines"], state["ids"] = lines, ids
        return producers.acked.issubset(ids)
    try:
        wait_for(complete, timeout=timeout, interval=0.5, what="every acknowledged record in the bucket")
    except AssertionError:
        missing = producers.acked - set(state.get("ids", []))
        raise AssertionError("%d of %d acknowledged records missing (e.g. %s)\nhydrant log tail:\n%s" % (
            len(missing), len(producers.acked), sorted(missing)[:10], h.log()[-4000:]))
    lines, ids = state["lines"], state["ids"]
    torn = [l[:60] for l, i in zip(lines, ids) if producers.sent.get(i) != l]
    assert not torn, "delivered records that were never sent as such: %r" % torn[:5]
    return len(ids), len(ids) - len(set(ids))


def make_stream(h, name, bucket):
    h.client("firehose", validate=False).create_delivery_stream(
        DeliveryStreamName=name,
        ExtendedS3DestinationConfiguration=s3_dest(
            bucket, BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 1}))


def test_acknowledged_records_survive_kill_9(hydrant):
    h = hydrant
    h.client("s3").create_bucket(Bucket="crash")
    make_stream(h, "crash", "crash")
    rnd = random.Random()
    p = Producers(h, "crash").start()
    kills = 0
    for _ in range(4):
        time.sleep(rnd.uniform(0.8, 2.2))
        h.kill()
        kills += 1
        h.start(h.port)
    time.sleep(1.5)
    p.stop()
    assert h.proc.poll() is None, "hydrant died on its own (exit %s)\n%s" % (h.proc.returncode, h.log()[-4000:])
    assert len(p.acked) > 500, "too little load to mean anything: %d acked" % len(p.acked)
    delivered, dups = check_delivery(h, p, "crash", timeout=40)
    print("crash test: %d kills, %d sent, %d acknowledged, %d delivered, %d duplicates, "
          "%d failed puts, %d refused records" % (kills, len(p.sent), len(p.acked), delivered, dups,
                                                  p.errors, p.failed_records))
    # A clean restart afterwards redelivers nothing new and loses nothing.
    h.restart()
    time.sleep(2)
    delivered2, _ = check_delivery(h, p, "crash", timeout=10)
    assert delivered2 == delivered, "a clean restart changed the bucket: %d → %d lines" % (delivered, delivered2)


def test_bucket_created_late_everything_arrives(hydrant):
    h = hydrant
    make_stream(h, "late", "late-bucket")  # the bucket does not exist yet
    p = Producers(h, "late", threads=3).start()
    time.sleep(1.5)
    h.kill()
    h.start(h.port)
    time.sleep(1.5)
    p.stop()
    assert h.proc.poll() is None, "hydrant died on its own (exit %s)\n%s" % (h.proc.returncode, h.log()[-4000:])
    assert len(p.acked) > 300, "too little load: %d acked" % len(p.acked)
    s3 = h.client("s3")
    assert s3.list_buckets()["Buckets"] == []
    s3.create_bucket(Bucket="late-bucket")
    delivered, dups = check_delivery(h, p, "late-bucket", timeout=45)
    print("late bucket: %d acknowledged, %d delivered, %d duplicates" % (len(p.acked), delivered, dups))
