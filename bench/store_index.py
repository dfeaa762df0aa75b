#!/usr/bin/env python3
"""The embedded object store at scale (issue 13, item 6): a store holding N objects
(default 1,000,000), started with a cold page cache.

Measures, with the real hydrant binary over its port:
  listen_s     start of `hydrant serve` until its port accepts a connection
  put_s        start until an S3 PutObject into the big bucket succeeds
  rss_mib      VmRSS after start, and rss_hwm_mib (VmHWM) after all the listings
  list_ms      ListObjectsV2 pages of 1,000 keys (plain HTTP, until the whole answer
               is read; boto3 would add ~300 ms of XML parsing per page): the first
               page after the cold start, then pages from random StartAfter
               points, then prefix + delimiter pages; p50 and max
  index_mib    size of the index on disk

The store is filled by BUILD/bench/hydrant_store_tool (rows committed in batches
through the index, no data files: start-up, listings and HEAD never read them).
The page cache is dropped with /proc/sys/vm/drop_caches when writable (root), else
per file with posix_fadvise (bench/harness.py evict_page_cache).

  /usr/bin/python3 bench/store_index.py --build-dir build [--objects N] [--json FILE]
`make bench` runs it as the workload "store" (bench/run.py).
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ROOT, evict_page_cache, free_port, log, vm_hwm_mib  # noqa: E402


def key_of(i):
    """The i-th key written by hydrant_store_tool (KeyOf in bench/store_tool.cc)."""
    hour = i // 3600
    month, day = 1 + (hour // 24 // 28) % 12, 1 + (hour // 24) % 28
    return "2026/%02d/%02d/%02d/bench-1-2026-%02d-%02d-%02d-%02d-%02d-%08x-0000-0000-0000-%012x" % (
        month, day, hour % 24, month, day, hour % 24, i // 60 % 60, i % 60,
        (i * 2654435761) & 0xffffffff, i)


def drop_caches(root):
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3")
        return "drop_caches"
    except OSError:
        evict_page_cache(root)
        return "fadvise"


def rss_mib(pid, field="VmRSS:"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) / 1024.0
    return None


def request(port, method, path, body=None):
    """One plain HTTP request (hydrant's S3 API does not check signatures)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        return r.status, r.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""
    finally:
        c.close()


def list_page(port, **params):
    """ListObjectsV2 of 1,000 keys of the bucket "big": (ms until the whole answer
    is read, body)."""
    q = urllib.parse.urlencode(dict({"list-type": "2", "max-keys": "1000"}, **params))
    t = time.perf_counter()
    status, body = request(port, "GET", "/big?" + q)
    ms = (time.perf_counter() - t) * 1000
    assert status == 200, (status, body[:300])
    return ms, body


def keys_in(body):
    return body.count("<Key>")


def store_bench(build_dir, work, objects, pages=30):
    data = tempfile.mkdtemp(prefix="hydrant-store-", dir=work)
    tool = os.path.join(build_dir, "bench", "hydrant_store_tool")
    try:
        log("store: filling %d objects" % objects)
        fill = json.loads(subprocess.run(
            [tool, "fill", "--root", os.path.join(data, "s3"), "--objects", str(objects),
             "--data-files", "0"], capture_output=True, text=True, check=True).stdout)
        index_bytes = sum(os.path.getsize(os.path.join(data, "s3", f))
                          for f in os.listdir(os.path.join(data, "s3")) if f.startswith(".index"))
        how = drop_caches(data)
        port = free_port()
        logf = open(os.path.join(work, "store-hydrant.log"), "ab")
        t0 = time.time()
        proc = subprocess.Popen([os.path.join(build_dir, "hydrant"), "serve", "--listen",
                                 "127.0.0.1:%d" % port, "--data-dir", data, "--log-level", "warn"],
                                stdout=logf, stderr=logf)
        logf.close()
        try:
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.time() - t0 > 120:
                        raise RuntimeError("hydrant did not start")
                    time.sleep(0.002)
            listen_s = time.time() - t0
            while request(port, "PUT", "/big/after-start", b"x")[0] != 200:
                if time.time() - t0 > 120:
                    raise RuntimeError("no put accepted")
                time.sleep(0.002)
            put_s = time.time() - t0
            rss_start = rss_mib(proc.pid)
            first_ms, first = list_page(port)
            assert keys_in(first) == 1000
            rnd = random.Random(13)
            ms = []
            for _ in range(pages):
                start = key_of(rnd.randrange(objects - 1000))
                t, body = list_page(port, **{"start-after": start})
                assert keys_in(body) == 1000, keys_in(body)
                ms.append(t)
            dms = []
            for i in range(min(pages, 10)):
                prefix = key_of(rnd.randrange(objects))[:11]  # "2026/mm/dd/"
                t, body = list_page(port, prefix=prefix, delimiter="/")
                assert "<CommonPrefixes>" in body, body[:500]
                dms.append(t)
            # The last page holds the last key filled, then the one put after the start.
            _, body = list_page(port, **{"start-after": key_of(objects - 2)})
            assert keys_in(body) == 2 and key_of(objects - 1) in body and "after-start" in body
            hwm = vm_hwm_mib(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return {"objects": objects, "fill_s": fill["fill_s"], "index_mib": index_bytes / (1 << 20),
                "cache_drop": how, "listen_s": listen_s, "put_s": put_s, "rss_mib": rss_start,
                "rss_hwm_mib": hwm, "first_page_ms": first_ms,
                "page_p50_ms": statistics.median(ms), "page_max_ms": max(ms),
                "delimiter_page_p50_ms": statistics.median(dms), "delimiter_page_max_ms": max(dms)}
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    p.add_argument("--work-dir", default=None)
    p.add_argument("--objects", type=int, default=1000000)
    p.add_argument("--pages", type=int, default=30)
    p.add_argument("--json")
    a = p.parse_args()
    work = tempfile.mkdtemp(prefix="hydrant-bench-", dir=a.work_dir)
    try:
        r = store_bench(os.path.abspath(a.build_dir), work, a.objects, a.pages)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(r, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, indent=1)


if __name__ == "__main__":
    main()
