"""Crash test: producers keep putting while the server is killed with SIGKILL at random
moments and restarted on the same data folder and port. Every record whose put was
acknowledged (HTTP 200, FailedPutCount 0) must end up in the bucket; duplicates are
allowed (at-least-once) and counted; no record may arrive torn or altered."""
import random
import time

import botocore

from conftest import Producers, health, make_stream, wait_for


def padded_record(tid, n, rnd):
    """Record n of thread tid: "t<thread>-<n> <padding>\\n", 0 to 3000 bytes of padding."""
    rid = "t%d-%d" % (tid, n)
    return rid, ("%s %s\n" % (rid, "p" * rnd.randrange(0, 3000))).encode()


def producers(h, stream, threads=4):
    return Producers(h, stream, padded_record, threads=threads, batch=50, read_timeout=15).start()


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


def test_acknowledged_records_survive_kill_9(hydrant):
    h = hydrant
    h.client("s3").create_bucket(Bucket="crash")
    make_stream(h, "crash", "crash")
    rnd = random.Random()
    p = producers(h, "crash")
    kills = 0
    for _ in range(4):
        time.sleep(rnd.uniform(0.8, 2.2))  # a random moment: when to kill is the test
        h.kill()
        kills += 1
        h.start(h.port)
    p.wait_for_acks(p.batch, "puts acknowledged by the last restart")
    p.stop()
    assert h.proc.poll() is None, "hydrant died on its own (exit %s)\n%s" % (h.proc.returncode, h.log()[-4000:])
    assert len(p.acked) > 500, "too little load to mean anything: %d acked" % len(p.acked)
    delivered, dups = check_delivery(h, p, "crash", timeout=40)
    # A torn tail is what every kill leaves, not damage: the server is healthy.
    assert health(h) == "ok\n", health(h)
    print("crash test: %d kills, %d sent, %d acknowledged, %d delivered, %d duplicates, "
          "%d failed puts, %d refused records" % (kills, len(p.sent), len(p.acked), delivered, dups,
                                                  p.errors, p.failed_records))
    # A clean restart afterwards redelivers nothing new and loses nothing. A record put
    # after the restart bounds the wait: the log is delivered in order, so whatever the
    # restart would redeliver arrives before it.
    h.restart()
    p.sent["after-restart"] = b"after-restart marker\n"
    h.client("firehose").put_record(DeliveryStreamName="crash", Record={"Data": p.sent["after-restart"]})
    p.acked.add("after-restart")
    delivered2, _ = check_delivery(h, p, "crash", timeout=10)
    delivered2 -= 1  # the marker
    assert delivered2 == delivered, "a clean restart changed the bucket: %d → %d lines" % (delivered, delivered2)


def test_bucket_created_late_everything_arrives(hydrant):
    h = hydrant
    make_stream(h, "late", "late-bucket")  # the bucket does not exist yet
    p = producers(h, "late", threads=3)
    p.wait_for_acks(200, "puts acknowledged before the kill")
    h.kill()
    h.start(h.port)
    p.wait_for_acks(200, "puts acknowledged after the restart")
    p.stop()
    assert h.proc.poll() is None, "hydrant died on its own (exit %s)\n%s" % (h.proc.returncode, h.log()[-4000:])
    s3 = h.client("s3")
    assert s3.list_buckets()["Buckets"] == []
    s3.create_bucket(Bucket="late-bucket")
    delivered, dups = check_delivery(h, p, "late-bucket", timeout=45)
    print("late bucket: %d acknowledged, %d delivered, %d duplicates" % (len(p.acked), delivered, dups))
