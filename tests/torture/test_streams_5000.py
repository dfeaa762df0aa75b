"""5,000 delivery streams (the max_streams limit) all busy at once: every stream
gets records from 16 writers for a while, every acknowledged record must reach
its stream's objects, and threads and file descriptors stay under the idle
targets afterwards (under 64 threads, under 1,000 fds) and bounded while busy.
The quick version (idle streams, restart under 1,024 fds) runs in `make test`:
tests/integration/test_many_streams.py."""
import collections
import concurrent.futures
import threading
import time

import torture_util as tu
from conftest import Hydrant, list_keys, metrics_text, wait_for
from test_many_streams import MAX_FDS, MAX_THREADS, STREAMS, create_streams, proc_fds, proc_threads


def test_5000_busy_streams(tmp_path):
    seconds = tu.share(0.1, 60)
    names = ["s%04d" % i for i in range(STREAMS)]
    with Hydrant(str(tmp_path / "data")).start() as h:
        h.client("s3").create_bucket(Bucket="many")
        t0 = time.time()
        create_streams(h, names, interval=60)  # a few objects per stream to read back
        created_s = time.time() - t0
        sampler = tu.Sampler(h, interval=2.0).start()
        acked = [[] for _ in range(16)]  # per writer: the lines acknowledged
        stop = threading.Event()

        def writer(w):
            fh = h.client("firehose", validate=False)
            i, n = w, 0
            while not stop.is_set():
                name = names[i % STREAMS]
                i += 16
                lines = [b"%s w%d %d" % (name.encode(), w, n + k) for k in range(4)]
                n += 4
                r = fh.put_record_batch(DeliveryStreamName=name,
                                        Records=[{"Data": l + b"\n"} for l in lines])
                assert r["FailedPutCount"] == 0, r
                acked[w] += lines

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(writer, w) for w in range(16)]
            time.sleep(seconds)
            stop.set()
            for f in futures:
                f.result()
        busy = sampler.samples[:]
        want = [l for lines in acked for l in lines]
        written = {l.split(b" ")[0] for l in want}
        assert len(written) == STREAMS, "every stream was written: %d" % len(written)

        wait_for(lambda: metric_sum(metrics_text(h), "hydrant_firehose_delivery_to_s3_records_total")
                 >= len(want), timeout=300, interval=5, what="every acknowledged record delivered")
        s3 = h.client("s3", max_pool_connections=16)
        keys = list_keys(s3, "many", "")
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            bodies = pool.map(lambda k: s3.get_object(Bucket="many", Key=k)["Body"].read(), keys)
            got = collections.Counter(l for b in bodies for l in b.splitlines())
        missing = [l for l in want if got[l] == 0]
        assert not missing, "%d of %d acknowledged records missing, e.g. %r" % (
            len(missing), len(want), missing[:3])
        duplicates = sum(c - 1 for c in got.values() if c > 1)

        pid = h.proc.pid
        wait_for(lambda: proc_threads(pid) < MAX_THREADS and proc_fds(pid) < MAX_FDS,
                 timeout=120, what="idle threads and fds under the targets")
        idle_threads, idle_fds = proc_threads(pid), proc_fds(pid)
        sampler.stop()
        peak = {k: max([s[k] for _, s in busy] or [0]) for k in ("threads", "fds", "rss_mb")}
        tu.report("5,000 busy streams", [
            "%d streams created in %.1f s over 16 connections" % (STREAMS, created_s),
            "%.0f s of puts from 16 writers to every stream in turn: %d records acknowledged, "
            "all delivered in %d objects (%d duplicates)" % (seconds, len(want), len(keys), duplicates),
            "while busy: peak %d threads, %d fds, RSS %.0f MB"
            % (peak["threads"], peak["fds"], peak["rss_mb"]),
            "idle afterwards: %d threads, %d fds (targets: < %d, < %d)"
            % (idle_threads, idle_fds, MAX_THREADS, MAX_FDS),
        ])
        assert duplicates == 0


def metric_sum(text, name):
    """The sum of a metric's samples over every stream."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{"))
