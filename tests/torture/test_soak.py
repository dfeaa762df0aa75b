"""Mixed load for most of the budget: writers on a plain stream, a GZIP stream and
a stream through a Lambda processor (the built-in identity blueprint), and an S3
client putting, reading, listing and deleting objects of random sizes, while RSS,
threads, file descriptors and CPU are sampled. Every acknowledged record must be
delivered, and memory and descriptors must not grow with time."""
import gzip
import os
import random
import threading
import time

import torture_util as tu
from conftest import Hydrant, lambda_arn, make_lambda_stream, make_stream, wait_for
from test_crash import check_delivery, producers


def s3_load(h, stop, counts):
    s3 = h.client("s3")
    rnd = random.Random(7)
    live = {}
    while not stop.is_set():
        op = rnd.random()
        if op < 0.5 or not live:
            key = "k/%06d" % rnd.randrange(2000)
            body = os.urandom(rnd.choice([10, 1000, 100_000, 1 << 20]))
            s3.put_object(Bucket="soak-s3", Key=key, Body=body)
            live[key] = body
        elif op < 0.8:
            key = rnd.choice(list(live))
            got = s3.get_object(Bucket="soak-s3", Key=key)["Body"].read()
            assert got == live[key], "object %s read back different" % key
        elif op < 0.9:
            s3.list_objects_v2(Bucket="soak-s3", Prefix="k/", MaxKeys=100)
        else:
            key = rnd.choice(list(live))
            s3.delete_object(Bucket="soak-s3", Key=key)
            del live[key]
        counts["s3"] += 1


def gzip_ids(h, bucket):
    s3 = h.client("s3")
    ids = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            body = gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
            ids.update(l.split(b" ", 1)[0].decode() for l in body.split(b"\n") if l)
    return ids


def test_mixed_load_memory_and_descriptors_stay_flat(tmp_path):
    seconds = tu.share(0.5, 120)
    with Hydrant(str(tmp_path / "data")).start() as h:
        s3 = h.client("s3")
        for b in ("soak-plain", "soak-gzip", "soak-s3"):
            s3.create_bucket(Bucket=b)
        make_stream(h, "soak-plain", "soak-plain")
        make_stream(h, "soak-gzip", "soak-gzip", CompressionFormat="GZIP")
        make_lambda_stream(h, "soak-proc", "soak-proc", lambda_arn("hydrant-general-processing"))
        sampler = tu.Sampler(h, interval=5.0).start()
        writers = [producers(h, s, threads=2) for s in ("soak-plain", "soak-gzip", "soak-proc")]
        stop = threading.Event()
        counts = {"s3": 0}
        s3_thread = threading.Thread(target=s3_load, args=(h, stop, counts))
        s3_thread.start()
        time.sleep(seconds)
        stop.set()
        s3_thread.join(60)
        for w in writers:
            w.stop()
        assert h.proc.poll() is None, "hydrant died\n" + h.log()[-4000:]
        plain, _ = check_delivery(h, writers[0], "soak-plain", timeout=180)
        proc, _ = check_delivery(h, writers[2], "soak-proc", timeout=180)
        missing = {}
        wait_for(lambda: not missing.update(m=writers[1].acked - gzip_ids(h, "soak-gzip")) and not missing["m"],
                 timeout=180, interval=2, what="every acknowledged GZIP record")
        sampler.stop()
        rss_first, rss_last = max(sampler.column("rss_mb", (0, 1 / 3))), max(sampler.column("rss_mb", (2 / 3, 1)))
        fds_first, fds_last = max(sampler.column("fds", (0, 1 / 3))), max(sampler.column("fds", (2 / 3, 1)))
        threads = max(sampler.column("threads"))
        cpu = sampler.column("cpu_s")
        tu.report("Mixed load", [
            "%.0f s; acknowledged: plain %d, gzip %d, processed %d; all delivered; %d S3 calls" % (
                seconds, len(writers[0].acked), len(writers[1].acked), len(writers[2].acked), counts["s3"]),
            "RSS max %.0f MB in the first third, %.0f MB in the last" % (rss_first, rss_last),
            "fds max %d in the first third, %d in the last; threads max %d" % (fds_first, fds_last, threads),
            "server CPU %.0f s in %.0f s" % (cpu[-1] - cpu[0], seconds)])
        assert plain > 0 and proc > 0 and counts["s3"] > 100
        assert rss_last <= rss_first * 1.5 + 64, "RSS grew: %.0f -> %.0f MB" % (rss_first, rss_last)
        assert fds_last <= fds_first + 64, "fds grew: %d -> %d" % (fds_first, fds_last)
