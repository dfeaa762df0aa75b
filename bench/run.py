#!/usr/bin/env python3
"""hydrant's benchmark driver (issue 5). `make bench` runs it.

Orchestration only: the hot loops are C++ (hydrant_loadgen, hydrant_machine_limits,
hydrant_trivial_httpd, hydrant_micro_bench in BUILD/bench/). Each workload starts a
fresh `hydrant serve` on a free port with its own data folder, so peak RSS (VmHWM)
is per workload. Prints a Markdown report and writes it to --out.

See bench/README.md for what each workload measures.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                   "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"})
MiB = 1 << 20
# The log flush histogram hydrant exports (docs/metrics.md).
SYNC_HISTOGRAM = "hydrant_log_sync_latency_seconds"
GiB = 1 << 30


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def vm_hwm_mib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def reset_hwm(pid):
    """Resets the peak RSS counter (Linux clear_refs 5), so VmHWM is per workload."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
    except OSError:
        pass


def evict_page_cache(root):
    """Drops the page cache of every file under root (writes them back first), so a
    restart reads from the disk as after a reboot, without root's drop_caches.
    Returns the MiB still cached afterwards (mincore via fincore), or None."""
    os.sync()
    paths = []
    for d, _, files in os.walk(root):
        paths += [os.path.join(d, f) for f in files]
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    if not shutil.which("fincore") or not paths:
        return None
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES"] + paths,
                         capture_output=True, text=True)
    if out.returncode != 0:
        return None
    return sum(int(x) for x in out.stdout.split()) / MiB


def disk_device(path):
    """The /proc/diskstats name of the block device holding path (vda, nvme0n1)."""
    try:
        src = subprocess.run(["df", "--output=source", path], capture_output=True,
                             text=True).stdout.split()[-1]
    except Exception:
        return None
    return os.path.basename(src) if src.startswith("/dev/") else None


def disk_sample(dev):
    """(time s, sectors written, ms the device was busy) from /proc/diskstats."""
    try:
        with open("/proc/diskstats") as f:
            for line in f:
                x = line.split()
                if len(x) > 12 and x[2] == dev:
                    return time.time(), int(x[9]), int(x[12])
    except OSError:
        pass
    return None


def disk_use(a, b):
    """Busy % and write MiB/s of the device between two disk_sample()s."""
    if not a or not b or b[0] <= a[0]:
        return None
    dt = b[0] - a[0]
    return {"busy_pct": min(100.0, (b[2] - a[2]) / 10.0 / dt),
            "write_mib_s": (b[1] - a[1]) * 512 / MiB / dt,
            "write_mib": (b[1] - a[1]) * 512 / MiB}


def settle_disk(path, quiet_s=1.0, limit_s=30.0):
    """Lets the disk finish what the last workload left (write-back, and the discards
    of deleted files on a `discard` mount, issued at the next journal commit) so that
    the next workload starts on an idle disk: sync, then wait until the device has
    been idle for quiet_s (at most limit_s)."""
    os.sync()
    path = os.path.abspath(path)
    dev = disk_device(path if os.path.exists(path) else os.path.dirname(path))
    if not dev:
        return
    deadline = time.time() + limit_s
    last = disk_sample(dev)
    quiet_since = time.time()
    while time.time() < deadline:
        time.sleep(0.2)
        cur = disk_sample(dev)
        if not cur or not last:
            return
        if cur[2] != last[2]:  # the device was busy in between
            quiet_since = time.time()
        elif time.time() - quiet_since >= quiet_s:
            return
        last = cur
    log("disk %s still busy after %.0f s: going on anyway" % (dev, limit_s))


def boto(service, endpoint, validate=False):
    import boto3
    from botocore.config import Config
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(parameter_validation=validate,
                                      retries={"total_max_attempts": 1, "mode": "standard"},
                                      s3={"addressing_style": "path"},
                                      connect_timeout=2, read_timeout=120))


class Server:
    """hydrant or moto_server on a free port."""

    def __init__(self, kind, args, build_dir, work):
        self.kind, self.args, self.build_dir, self.work = kind, args, build_dir, work
        self.proc = None
        self.port = None
        self.data_dir = None

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, data_dir=None, port=None, extra=()):
        self.port = port or free_port()
        logf = open(os.path.join(self.work, "%s-%d.log" % (self.kind, self.port)), "ab")
        if self.kind == "hydrant":
            self.data_dir = data_dir or tempfile.mkdtemp(prefix="hydrant-", dir=self.work)
            cmd = [os.path.join(self.build_dir, "hydrant"), "serve", "--listen",
                   "127.0.0.1:%d" % self.port, "--data-dir", self.data_dir, "--log-level", "warn"]
            cmd += list(extra)
        else:
            cmd = [self.args.moto, "-H", "127.0.0.1", "-p", str(self.port)]
        self.t_start = time.time()
        self.proc = subprocess.Popen(cmd, stdout=logf, stderr=logf)
        logf.close()
        if not wait_port(self.port, 60):
            raise RuntimeError("%s did not start (see %s)" % (self.kind, self.work))
        self.t_listening = time.time()
        return self

    def hwm(self):
        return vm_hwm_mib(self.proc.pid)

    def reset_hwm(self):
        reset_hwm(self.proc.pid)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self):
        self.stop()
        if self.data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            settle_disk(self.data_dir)


def metrics(endpoint, stream):
    """hydrant's /metrics samples for one stream, as a dict name -> value. Names are
    normalized to hydrant_NAME (hydrant_firehose_NAME in newer builds)."""
    out = {}
    with urllib.request.urlopen(endpoint + "/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            m = re.match(r'^(\w+)\{([^}]*)\} (\S+)$', line)
            if m and 'delivery_stream="%s"' % stream in m.group(2).split(","):
                name = m.group(1).replace("hydrant_firehose_", "hydrant_")
                try:
                    out.setdefault(name, int(float(m.group(3))))
                except ValueError:
                    pass
    return out


def histogram(endpoint, name, stream):
    """One stream's cumulative histogram NAME from /metrics: [(upper bound s, count)],
    +Inf last; [] when the server does not have it (older builds)."""
    out = []
    try:
        with urllib.request.urlopen(endpoint + "/metrics", timeout=10) as r:
            text = r.read().decode()
    except urllib.error.URLError:
        return out
    for line in text.splitlines():
        m = re.match(r'^%s_bucket\{delivery_stream="%s",le="([^"]+)"\} (\S+)$' %
                     (re.escape(name), re.escape(stream)), line)
        if m:
            out.append((float(m.group(1)), int(float(m.group(2)))))
    return out


def flushes(before, after):
    """The log flushes recorded between two histogram() reads of
    hydrant_log_sync_latency_seconds: count, and upper bounds in ms of the bucket
    holding the p99 and of the slowest flush (bucket bounds: a figure is "at most")."""
    if not before or not after or len(before) != len(after):
        return None
    delta = [(le, b - a) for (le, b), (_, a) in zip(after, before)]
    total = delta[-1][1]
    if total <= 0:
        return None
    def bound(count):
        le = next(le for le, c in delta if c >= count)
        return le * 1000
    return {"count": total, "p99_ms": bound(0.99 * total), "max_ms": bound(total)}


def fmt_flushes(f):
    if not f:
        return "–"
    b = lambda ms: "> 10,000" if ms == float("inf") else "≤ %g" % ms
    return "p99 %s, max %s ms (%s)" % (b(f["p99_ms"]), b(f["max_ms"]), "{:,}".format(f["count"]))


def create_stream(srv, name, bucket, compression="UNCOMPRESSED", size_mb=128, interval=900,
                  processing=None, make_bucket=True):
    s3 = boto("s3", srv.endpoint)
    if make_bucket:
        try:
            s3.create_bucket(Bucket=bucket)
        except Exception as e:  # already there
            if "BucketAlready" not in str(e):
                raise
    dest = {"RoleARN": "arn:aws:iam::000000000000:role/firehose",
            "BucketARN": "arn:aws:s3:::" + bucket, "Prefix": name + "/",
            "CompressionFormat": compression,
            "BufferingHints": {"SizeInMBs": size_mb, "IntervalInSeconds": interval}}
    if processing:
        dest["ProcessingConfiguration"] = processing
    fh = boto("firehose", srv.endpoint)
    fh.create_delivery_stream(DeliveryStreamName=name, DeliveryStreamType="DirectPut",
                              ExtendedS3DestinationConfiguration=dest)
    for _ in range(100):  # moto and hydrant are ACTIVE at once; be safe
        st = fh.describe_delivery_stream(DeliveryStreamName=name)
        if st["DeliveryStreamDescription"]["DeliveryStreamStatus"] == "ACTIVE":
            break
        time.sleep(0.1)


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build_dir)
        self.bin = lambda n: os.path.join(self.build, "bench", n)
        self.work = tempfile.mkdtemp(prefix="hydrant-bench-", dir=args.work_dir)
        self.results = {}
        self.notes = []
        self.dur = args.duration

    # ---- helpers ----
    def loadgen(self, port, stream="bench", op="batch", size=100, conns=None, rate=0,
                duration=None, total=0, warmup=None, extra=()):
        cmd = [self.bin("hydrant_loadgen"), "--port", str(port), "--stream", stream, "--op", op,
               "--record-size", str(size), "--connections", str(conns or self.args.connections),
               "--duration", str(duration or self.dur), "--rate", str(rate),
               "--warmup", str(self.args.warmup if warmup is None else warmup)]
        if total:
            cmd += ["--total-records", str(total)]
        cmd += list(extra)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        if out.returncode not in (0, 1) or not out.stdout.strip():
            raise RuntimeError("loadgen failed: %s %s" % (out.stdout, out.stderr))
        r = json.loads(out.stdout.strip().splitlines()[-1])
        if r["errors"]:
            log("loadgen: %d errors (%s)" % (r["errors"], r["first_error"]))
        return r

    def wait_caught_up(self, srv, size, buffer_mib=128, limit_s=120.0):
        """Waits until the ingest stream's undelivered records fit in one buffer
        (SizeInMBs of create_stream: what is left is waiting for its size or
        interval, not for the disk). Returns the seconds waited."""
        t0 = time.time()
        while time.time() - t0 < limit_s:
            m = metrics(srv.endpoint, "ingest")
            if "hydrant_backlog_records" not in m:
                raise RuntimeError("no hydrant_backlog_records in /metrics for stream ingest")
            if m["hydrant_backlog_records"] * size <= buffer_mib * MiB:
                return time.time() - t0
            time.sleep(0.25)
        log("delivery still behind after %.0f s: measuring latency anyway" % limit_s)
        self.notes.append("a latency point of %d B records started before delivery had "
                          "caught up (waited %.0f s)" % (size, limit_s))
        return time.time() - t0

    def hydrant(self, extra=()):
        return Server("hydrant", self.args, self.build, self.work).start(extra=extra)

    def moto(self):
        return Server("moto", self.args, self.build, self.work).start()

    def machine(self):
        def sh(c):
            try:
                return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
            except Exception:
                return ""
        cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
        mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
        dev = sh("df --output=source %s | tail -1" % self.work)
        size = sh("df -h --output=size %s | tail -1" % self.work).strip()
        rota = sh("lsblk -ndo ROTA,MODEL $(df --output=source %s | tail -1) 2>/dev/null" % self.work)
        fs = sh("df --output=fstype %s | tail -1" % self.work)
        return {"nproc": os.cpu_count(), "cpu": cpu, "ram": mem,
                "disk": "%s (%s, %s, rota/model: %s)" % (dev, fs, size, rota or "?"),
                "kernel": platform.release(), "loadavg": sh("cut -d' ' -f1-3 /proc/loadavg")}

    # ---- machine limits ----
    def machine_limits(self):
        log("machine limits")
        out = subprocess.run([self.bin("hydrant_machine_limits"), self.work, "--write-mib",
                              str(self.args.limits_write_mib), "--paced-rate",
                              str(int(self.args.latency_rate))], capture_output=True, text=True,
                             check=True).stdout
        r = json.loads(out)
        settle_disk(self.work)  # its test file was just deleted
        httpd = subprocess.Popen([self.bin("hydrant_trivial_httpd"), "0"], stdout=subprocess.PIPE,
                                 text=True)
        port = int(httpd.stdout.readline().split()[1])
        try:
            g = self.loadgen(port, op="get")
            r["http_get_req_s"] = g["req_per_s"]
            r["http_get_p99_ms"] = g["p99_ms"]
            # The same PutRecordBatch bodies hydrant gets, into a server that discards them.
            for size in (100, 65536):
                b = self.loadgen(port, op="batch", size=size)
                r["http_batch_%d" % size] = b
        finally:
            httpd.kill()
            httpd.wait()
        self.results["limits"] = r

    # ---- (1) ingest ----
    def ingest(self, kind):
        rows = []
        for size in self.args.sizes:
            log("ingest %s %d B" % (kind, size))
            srv = self.hydrant() if kind == "hydrant" else self.moto()
            try:
                create_stream(srv, "ingest", "ingest-bucket")
                srv.reset_hwm()
                peak = self.loadgen(srv.port, stream="ingest", size=size)
                row = {"size": size, "peak": peak}
                if kind == "hydrant" and not self.args.quick and peak["req_per_s"] > 0:
                    dev = disk_device(self.work)
                    for frac in (0.5, 0.9):
                        # Latency at a steady rate: first let delivery catch up with the
                        # backlog the previous (overload) point left behind.
                        row["drain%d_s" % int(frac * 100)] = self.wait_caught_up(srv, size)
                        before = disk_sample(dev)
                        h0 = histogram(srv.endpoint, SYNC_HISTOGRAM, "ingest")
                        row["lat%d" % int(frac * 100)] = self.loadgen(
                            srv.port, stream="ingest", size=size, rate=peak["req_per_s"] * frac)
                        row["disk%d" % int(frac * 100)] = disk_use(before, disk_sample(dev))
                        row["flush%d" % int(frac * 100)] = flushes(
                            h0, histogram(srv.endpoint, SYNC_HISTOGRAM, "ingest"))
                row["rss_mib"] = srv.hwm()
                rows.append(row)
            finally:
                srv.cleanup()
        self.results["ingest_" + kind] = rows

    # ---- (2) end to end ----
    def end_to_end(self, kind, compression):
        size = 1024
        total_bytes = self.args.e2e_mib * MiB
        n = total_bytes // size
        log("end to end %s %s, %d MiB" % (kind, compression, self.args.e2e_mib))
        srv = self.hydrant() if kind == "hydrant" else self.moto()
        try:
            name = "e2e"
            create_stream(srv, name, "e2e-bucket", compression=compression, size_mb=64, interval=0)
            srv.reset_hwm()
            dev = disk_device(self.work)
            disk0 = disk_sample(dev)
            t0 = time.time()
            put = self.loadgen(srv.port, stream=name, size=size, total=n)
            t_put = time.time() - t0
            delivered = 0
            if kind == "hydrant":
                deadline = time.time() + 600
                while time.time() < deadline:
                    m = metrics(srv.endpoint, name)
                    delivered = m.get("hydrant_delivery_to_s3_records_total", 0)
                    if delivered >= put["records"]:
                        break
                    time.sleep(0.02)
            t_all = time.time() - t0
            disk = disk_use(disk0, disk_sample(dev))
            # Check what is in the bucket: every record, as objects.
            s3 = boto("s3", srv.endpoint)
            objs, obj_bytes = 0, 0
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket="e2e-bucket"):
                for o in page.get("Contents", []):
                    objs += 1
                    obj_bytes += o["Size"]
            payload = put["payload_bytes"]
            ok = objs > 0 and (compression != "UNCOMPRESSED" or obj_bytes == payload)
            if kind == "hydrant":
                ok = ok and delivered >= put["records"]
            return {"kind": kind, "compression": compression, "records": put["records"],
                    "payload_mib": payload / MiB, "put_s": t_put, "total_s": t_all,
                    "mib_s": payload / MiB / t_all, "objects": objs, "object_mib": obj_bytes / MiB,
                    "verified": ok, "rss_mib": srv.hwm(), "errors": put["errors"],
                    "disk": disk}
        finally:
            srv.cleanup()

    # ---- (3) single PutRecord latency ----
    def latency(self):
        log("PutRecord latency at low load")
        srv = self.hydrant()
        try:
            create_stream(srv, "lat", "lat-bucket")
            srv.reset_hwm()
            h0 = histogram(srv.endpoint, SYNC_HISTOGRAM, "lat")
            r = self.loadgen(srv.port, stream="lat", op="single", size=100, conns=1,
                             rate=self.args.latency_rate, duration=max(self.dur, 5))
            r["flush"] = flushes(h0, histogram(srv.endpoint, SYNC_HISTOGRAM, "lat"))
            r["rss_mib"] = srv.hwm()
            self.results["latency"] = r
        finally:
            srv.cleanup()

    # ---- (4) transformation ----
    def transformation(self):
        hdir = os.path.join(self.work, "handlers")
        os.makedirs(hdir, exist_ok=True)
        with open(os.path.join(hdir, "passthrough.py"), "w") as f:
            f.write(textwrap.dedent('''
                import base64
                def lambda_handler(event, context):
                    out = []
                    for r in event["records"]:
                        d = base64.b64decode(r["data"])
                        out.append({"recordId": r["recordId"], "result": "Ok",
                                    "data": base64.b64encode(d.upper()).decode()})
                    return {"records": out}
            '''))
        cfg = os.path.join(self.work, "transform.toml")
        with open(cfg, "w") as f:
            f.write('[[lambda.functions]]\nname = "bench-python"\nruntime = "python3"\n'
                    'handler = "%s"\ntimeout_seconds = 60\n' % os.path.join(hdir, "passthrough.py"))
        rows = []
        for fn, mib in (("hydrant-general-processing", self.args.transform_mib),
                        ("bench-python", self.args.transform_py_mib)):
            log("transformation %s, %d MiB" % (fn, mib))
            srv = self.hydrant(extra=["--config", cfg])
            try:
                proc = {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
                    {"ParameterName": "LambdaArn",
                     "ParameterValue": "arn:aws:lambda:us-east-1:000000000000:function:" + fn},
                    {"ParameterName": "BufferSizeInMBs", "ParameterValue": "3"},
                    {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "0"}]}]}
                create_stream(srv, "xf", "xf-bucket", size_mb=64, interval=0, processing=proc)
                srv.reset_hwm()
                n = mib * MiB // 1024
                t0 = time.time()
                put = self.loadgen(srv.port, stream="xf", size=1024, total=n)
                deadline = time.time() + 900
                m = {}
                while time.time() < deadline:
                    m = metrics(srv.endpoint, "xf")
                    if m.get("hydrant_delivery_to_s3_records_total", 0) >= put["records"]:
                        break
                    time.sleep(0.05)
                t = time.time() - t0
                rows.append({"function": fn, "records": put["records"],
                             "payload_mib": put["payload_bytes"] / MiB, "total_s": t,
                             "mib_s": put["payload_bytes"] / MiB / t,
                             "records_s": put["records"] / t,
                             "delivered": m.get("hydrant_delivery_to_s3_records_total", 0),
                             "rss_mib": srv.hwm()})
            finally:
                srv.cleanup()
        self.results["transform"] = rows

    # ---- (5) recovery ----
    def recovery(self, backlog_gib):
        need = backlog_gib * GiB * 2.2  # log + delivered objects
        free = shutil.disk_usage(self.work).free
        scaled = backlog_gib
        if free < need:
            scaled = max(0.25, round(free / 2.2 / GiB * 0.8, 2))
            self.notes.append("recovery: %.0f GiB free under %s, so the %g GiB backlog was scaled "
                              "down to %g GiB" % (free / GiB, self.work, backlog_gib, scaled))
        log("recovery with %g GiB undelivered" % scaled)
        size = 65536
        n = int(scaled * GiB) // size
        srv = self.hydrant()
        try:
            # The bucket does not exist yet: delivery retries, the backlog stays.
            create_stream(srv, "rec", "rec-bucket", size_mb=128, interval=0, make_bucket=False)
            put = self.loadgen(srv.port, stream="rec", size=size, total=n)
            srv.stop(signal.SIGKILL)  # a crash: the start must recover the log
            port = srv.port
            srv.proc = None
            cached_mib = evict_page_cache(srv.data_dir)  # as after a reboot
            fh = boto("firehose", "http://127.0.0.1:%d" % port)
            t0 = time.time()
            srv.start(data_dir=srv.data_dir, port=port)
            t_listen = time.time() - t0
            while True:
                try:
                    fh.put_record(DeliveryStreamName="rec", Record={"Data": b"x" * 100})
                    break
                except Exception:
                    if time.time() - t0 > 600:
                        raise
                    time.sleep(0.01)
            t_accept = time.time() - t0
            boto("s3", srv.endpoint).create_bucket(Bucket="rec-bucket")
            t_bucket = time.time() - t0
            want = put["records"]
            rss_max = 0
            while time.time() - t0 < 3600:
                m = metrics(srv.endpoint, "rec")
                rss_max = max(rss_max, srv.hwm() or 0)
                if m.get("hydrant_delivery_to_s3_records_total", 0) >= want:
                    break
                time.sleep(0.1)
            t_delivered = time.time() - t0
            return {"backlog_gib": put["payload_bytes"] / GiB, "records": want,
                    "fill_mib_s": put["mib_per_s"], "listen_s": t_listen, "accept_s": t_accept,
                    "bucket_s": t_bucket, "delivered_s": t_delivered,
                    "drain_mib_s": put["payload_bytes"] / MiB / max(1e-9, t_delivered - t_bucket),
                    "rss_mib": rss_max, "recovered": m.get("hydrant_recovered_records", 0),
                    "cached_mib": cached_mib}
        finally:
            srv.cleanup()

    # ---- micro-benchmarks ----
    def micro(self):
        log("micro-benchmarks")
        out = subprocess.run([self.bin("hydrant_micro_bench"), "--benchmark_format=json",
                              "--benchmark_min_time=%s" % self.args.micro_min_time],
                             capture_output=True, text=True, check=True).stdout
        self.results["micro"] = json.loads(out)["benchmarks"]

    def e2e_all(self):
        rows = [self.end_to_end("hydrant", c) for c in ("UNCOMPRESSED", "GZIP")]
        if self.have_moto:
            rows += [self.end_to_end("moto", c) for c in ("UNCOMPRESSED", "GZIP")]
        self.results["e2e"] = rows

    def run(self):
        a = self.args
        self.results["machine"] = self.machine()
        want = set(a.only.split(",")) if a.only else None
        on = lambda w: want is None or w in want
        have_moto = self.have_moto = bool(a.moto) and not a.no_moto
        if not have_moto:
            self.notes.append("moto_server not found (or --no-moto): no side-by-side ratios")
        steps = [("limits", self.machine_limits), ("ingest", lambda: self.ingest("hydrant")),
                 ("ingest", lambda: have_moto and self.ingest("moto")),
                 ("e2e", self.e2e_all), ("latency", self.latency),
                 ("transform", self.transformation),
                 ("recovery", lambda: self.results.__setitem__(
                     "recovery", [self.recovery(g) for g in a.recovery_gib])),
                 ("micro", self.micro)]
        for name, fn in steps:
            if not on(name):
                continue
            try:
                fn()
            except Exception as e:  # report what ran; say what did not
                log("%s failed: %r" % (name, e))
                self.notes.append("workload %s failed: %s" % (name, e))
        shutil.rmtree(self.work, ignore_errors=True)
        return self.results


# ---------------------------------------------------------------- report

def fmt(v, nd=1):
    if v is None:
        return "–"
    if isinstance(v, float):
        if abs(v) >= 1000:
            return "{:,.0f}".format(v)
        return ("%." + str(nd) + "f") % v
    return "{:,}".format(v) if isinstance(v, int) else str(v)


def fmt_disk_total(d):
    if not d:
        return "–"
    return "%s, %s, %.0f%%" % (fmt(d["write_mib"], 0), fmt(d["write_mib_s"], 0), d["busy_pct"])


def flush_evidence(f, ok, request_bytes=None, lim=None):
    """For a missed latency target: the log flushes of the same interval, which every
    answer waits for (the flush in progress when it arrives, then its own), and how
    long flushing one request's bytes alone takes at the disk speed of the run."""
    if ok:
        return ""
    out = "; log flushes meanwhile: %s" % fmt_flushes(f) if f else ""
    bw = lim and lim.get("seq_write_fdatasync_mib_s")
    if request_bytes and bw:
        out += ("; one request's %s MiB alone takes %s ms to flush at this run's %s MiB/s" %
                (fmt(request_bytes / MiB, 1), fmt(request_bytes / MiB / bw * 1000, 1), fmt(bw, 0)))
    return out


def size_name(s):
    return {100: "100 B", 1024: "1 KiB", 65536: "64 KiB"}.get(s, "%d B" % s)


def report(res, notes, cmdline):
    L = []
    m = res["machine"]
    L.append("# hydrant benchmark report")
    L.append("")
    L.append("Run %s with `%s`." % (datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), cmdline))
    L.append("")
    L.append("Machine: %s CPUs (%s), %s RAM, disk %s, Linux %s; load average at start %s "
             "(other processes share the CPUs: figures are noisy)." %
             (m["nproc"], m["cpu"], m["ram"], m["disk"], m["kernel"], m["loadavg"]))
    L.append("")
    targets = []
    lim = res.get("limits")
    if lim:
        L.append("## Machine limits")
        L.append("")
        L.append("| Measure | Value |")
        L.append("|---|---|")
        L.append("| sequential write, fdatasync every %d MiB | %s MiB/s |" %
                 (lim["sync_every_mib"], fmt(lim["seq_write_fdatasync_mib_s"])))
        L.append("| 4 KiB append + fdatasync latency, back to back | p50 %s ms, p99 %s ms |" %
                 (fmt(lim["fdatasync_4k_p50_ms"], 2), fmt(lim["fdatasync_4k_p99_ms"], 2)))
        if "fdatasync_paced_p99_ms" in lim:
            L.append("| 100 B append + fdatasync latency, %s per second for 6 s | "
                     "p50 %s ms, p99 %s ms |" %
                     (fmt(lim["fdatasync_paced_rate"]), fmt(lim["fdatasync_paced_p50_ms"], 2),
                      fmt(lim["fdatasync_paced_p99_ms"], 2)))
        L.append("| memcpy, one thread | %s GiB/s |" % fmt(lim["memcpy_gib_s"], 2))
        L.append("| trivial loopback HTTP server, GET, keep-alive | %s req/s (p99 %s ms) |" %
                 (fmt(lim["http_get_req_s"]), fmt(lim["http_get_p99_ms"], 2)))
        for size in (100, 65536):
            b = lim.get("http_batch_%d" % size)
            if b:
                L.append("| trivial server, PutRecordBatch bodies of %s records (discarded) | "
                         "%s req/s, %s records/s, %s MiB/s of payload |" %
                         (size_name(size), fmt(b["req_per_s"]), fmt(b["records_per_s"]),
                          fmt(b["mib_per_s"])))
        L.append("")
    ih, im = res.get("ingest_hydrant"), res.get("ingest_moto")
    if ih:
        L.append("## (1) Ingest, durable acknowledgement (PutRecordBatch, closed loop)")
        L.append("")
        L.append("| Records | hydrant records/s | hydrant MiB/s | moto records/s | moto MiB/s | "
                 "hydrant/moto | p50 / p99 / p99.9 ms at 50% of peak | disk busy, writes at 50% | "
                 "log flushes at 50% | at 90% of peak | peak RSS hydrant | moto |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        mot = {r["size"]: r for r in (im or [])}
        for r in ih:
            p = r["peak"]
            mo = mot.get(r["size"])
            ratio = (p["records_per_s"] / mo["peak"]["records_per_s"]
                     if mo and mo["peak"]["records_per_s"] else None)
            lat = lambda k: ("%s / %s / %s" % (fmt(r[k]["p50_ms"], 2), fmt(r[k]["p99_ms"], 2),
                                                fmt(r[k]["p999_ms"], 2)) if k in r else "–")
            d50 = r.get("disk50")
            disk = ("%.0f%%, %s MiB/s" % (d50["busy_pct"], fmt(d50["write_mib_s"], 0))
                    if d50 else "–")
            L.append("| %s × %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s MiB | %s MiB |" % (
                size_name(r["size"]), p["records_per_request"], fmt(p["records_per_s"]),
                fmt(p["mib_per_s"]), fmt(mo["peak"]["records_per_s"]) if mo else "–",
                fmt(mo["peak"]["mib_per_s"]) if mo else "–",
                ("%.2fx" % ratio) if ratio else "–", lat("lat50"), disk,
                fmt_flushes(r.get("flush50")), lat("lat90"),
                fmt(r["rss_mib"], 0), fmt(mo["rss_mib"], 0) if mo else "–"))
            if r["size"] == 100:
                targets.append(("Ingest 100 B records", ">= 1,000,000 records/s",
                                "%s records/s" % fmt(p["records_per_s"]),
                                p["records_per_s"] >= 1e6))
            if r["size"] == 65536:
                targets.append(("Ingest 64 KiB records", ">= 300 MiB/s",
                                "%s MiB/s" % fmt(p["mib_per_s"]), p["mib_per_s"] >= 300))
            if "lat50" in r:
                ok = r["lat50"]["p99_ms"] <= 20
                targets.append(("PutRecordBatch p99 at 50%% of peak, %s" % size_name(r["size"]),
                                "<= 20 ms", "%s ms%s" % (
                                    fmt(r["lat50"]["p99_ms"], 2),
                                    flush_evidence(r.get("flush50"), ok,
                                                   p["records_per_request"] * r["size"], lim)),
                                ok))
            if ratio:
                targets.append(("Ahead of moto, ingest %s" % size_name(r["size"]), "> 1x",
                                "%.2fx" % ratio, ratio > 1))
        L.append("")
        drains = ["%s: %s / %s s" % (size_name(r["size"]), fmt(r["drain50_s"], 1),
                                     fmt(r["drain90_s"], 1))
                  for r in ih if "drain50_s" in r and "drain90_s" in r]
        if drains:
            L.append("Peak: closed loop, 8 connections. The 50% and 90% points are open loop at "
                     "that fraction of the peak's request rate, each started once delivery had "
                     "caught up with the backlog the point before left (waited, 50% / 90%: " +
                     "; ".join(drains) + ").")
            L.append("")
    e2e = res.get("e2e")
    if e2e:
        L.append("## (2) End to end: first put to last byte in delivered objects (1 KiB records)")
        L.append("")
        L.append("| Server | Compression | Payload MiB | Puts done s | Last byte s | MiB/s | "
                 "Objects | Object MiB | Verified | Disk written MiB, MiB/s, busy | "
                 "Peak RSS MiB |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in e2e:
            L.append("| %s | %s | %s | %s | %s | %s | %d | %s | %s | %s | %s |" % (
                r["kind"], r["compression"], fmt(r["payload_mib"], 0), fmt(r["put_s"], 2),
                fmt(r["total_s"], 2), fmt(r["mib_s"]), r["objects"], fmt(r["object_mib"]),
                "yes" if r["verified"] else "NO", fmt_disk_total(r.get("disk")),
                fmt(r["rss_mib"], 0)))
        L.append("")
        L.append("Disk written: what the data folder's device wrote from the first put to the "
                 "last byte (log, objects, file system metadata), and its busy time. hydrant "
                 "writes each byte twice, once into the log and once into an object.")
        L.append("")
        hyd = {r["compression"]: r for r in e2e if r["kind"] == "hydrant"}
        mot = {r["compression"]: r for r in e2e if r["kind"] == "moto"}
        for c, goal in (("UNCOMPRESSED", 200), ("GZIP", 100)):
            if c in hyd:
                ok = hyd[c]["mib_s"] >= goal
                d = hyd[c].get("disk")
                why = ("" if ok or not d else "; the disk wrote %s MiB/s meanwhile (busy %.0f%%)" %
                       (fmt(d["write_mib_s"], 0), d["busy_pct"]))
                targets.append(("End to end 1 KiB, %s" % c, ">= %d MiB/s" % goal,
                                "%s MiB/s%s" % (fmt(hyd[c]["mib_s"]), why), ok))
            if c in hyd and c in mot and mot[c]["mib_s"]:
                ratio = hyd[c]["mib_s"] / mot[c]["mib_s"]
                targets.append(("Ahead of moto, end to end %s" % c, "> 1x", "%.2fx" % ratio,
                                ratio > 1))
    lat = res.get("latency")
    if lat:
        L.append("## (3) PutRecord latency at low load (100 B, one connection, %s req/s)" %
                 fmt(lat["rate"], 0))
        L.append("")
        L.append("| Requests | p50 ms | p99 ms | p99.9 ms | max ms | log flushes | Peak RSS MiB |")
        L.append("|---|---|---|---|---|---|---|")
        L.append("| %d | %s | %s | %s | %s | %s | %s |" % (lat["requests"], fmt(lat["p50_ms"], 2),
                 fmt(lat["p99_ms"], 2), fmt(lat["p999_ms"], 2), fmt(lat["max_ms"], 2),
                 fmt_flushes(lat.get("flush")), fmt(lat["rss_mib"], 0)))
        L.append("")
        ok = lat["p99_ms"] <= 2
        disk_alone = ""
        if not ok and lim and "fdatasync_paced_p99_ms" in lim:
            disk_alone = ("; the disk alone, the same appends at the same rate: p99 %s ms" %
                          fmt(lim["fdatasync_paced_p99_ms"], 2))
        targets.append(("PutRecord p99 at low load", "<= 2 ms", "%s ms%s%s" % (
            fmt(lat["p99_ms"], 2), flush_evidence(lat.get("flush"), ok), disk_alone), ok))
    xf = res.get("transform")
    if xf:
        L.append("## (4) Transformation, end to end (1 KiB records, Lambda processor, "
                 "BufferSizeInMBs 3)")
        L.append("")
        L.append("| Function | Payload MiB | Last byte s | MiB/s | records/s | Delivered | "
                 "Peak RSS MiB |")
        L.append("|---|---|---|---|---|---|---|")
        for r in xf:
            L.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                r["function"], fmt(r["payload_mib"], 0), fmt(r["total_s"], 2), fmt(r["mib_s"]),
                fmt(r["records_s"]), fmt(r["delivered"]), fmt(r["rss_mib"], 0)))
        L.append("")
    rec = res.get("recovery")
    if rec:
        L.append("## (5) Recovery after SIGKILL with an undelivered backlog (64 KiB records)")
        L.append("")
        L.append("The data folder's page cache is dropped before the restart (written back, "
                 "then `posix_fadvise(DONTNEED)` on every file), so start-up reads from the "
                 "disk as after a reboot; \"cached at start\" is what `fincore` still found.")
        L.append("")
        L.append("| Backlog GiB | Records | Cached at start MiB | Listening s | Puts accepted s | "
                 "Backlog delivered s (bucket created at s) | Drain MiB/s | Peak RSS MiB |")
        L.append("|---|---|---|---|---|---|---|---|")
        for r in rec:
            L.append("| %s | %s | %s | %s | %s | %s (%s) | %s | %s |" % (
                fmt(r["backlog_gib"], 2), fmt(r["records"]), fmt(r.get("cached_mib"), 1),
                fmt(r["listen_s"], 2), fmt(r["accept_s"], 2), fmt(r["delivered_s"], 1),
                fmt(r["bucket_s"], 2), fmt(r["drain_mib_s"]), fmt(r["rss_mib"], 0)))
            targets.append(("Puts accepted after start, %.1f GiB backlog" % r["backlog_gib"],
                            "<= 5 s", "%s s" % fmt(r["accept_s"], 2), r["accept_s"] <= 5))
        L.append("")
    rss = []
    for key in ("ingest_hydrant",):
        for r in res.get(key) or []:
            rss.append(r["rss_mib"] or 0)
    for r in (e2e or []):
        if r["kind"] == "hydrant":
            rss.append(r["rss_mib"] or 0)
    for r in (xf or []) + (rec or []):
        rss.append(r["rss_mib"] or 0)
    if lat:
        rss.append(lat["rss_mib"] or 0)
    if rss:
        targets.append(("Peak RSS, every workload", "<= 256 MiB", "%s MiB" % fmt(max(rss), 0),
                        max(rss) <= 256))
    micro = res.get("micro")
    if micro:
        L.append("## Micro-benchmarks (Google Benchmark)")
        L.append("")
        L.append("| Benchmark | Label | Time per iteration | Throughput | Items/s | Ratio |")
        L.append("|---|---|---|---|---|---|")
        for b in micro:
            if b.get("run_type") == "aggregate":
                continue
            L.append("| %s | %s | %s %s | %s | %s | %s |" % (
                b["name"], b.get("label", ""), fmt(float(b["real_time"]), 2), b["time_unit"],
                ("%s MiB/s" % fmt(b["bytes_per_second"] / MiB)) if "bytes_per_second" in b else "",
                fmt(b["items_per_second"]) if "items_per_second" in b else "",
                fmt(b["ratio"], 2) if "ratio" in b else ""))
        L.append("")
    if targets:
        L.append("## Targets")
        L.append("")
        L.append("| Target | Goal | Measured | |")
        L.append("|---|---|---|---|")
        for t in targets:
            L.append("| %s | %s | %s | %s |" % (t[0], t[1], t[2], "met" if t[3] else "**missed**"))
        L.append("")
    if notes:
        L.append("Notes:")
        for n in notes:
            L.append("- " + n)
        L.append("")
    return "\n".join(L)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "latest.md"))
    p.add_argument("--json", help="also write the raw results here")
    p.add_argument("--work-dir", default=None, help="data folders go here (default: $TMPDIR)")
    p.add_argument("--only", help="comma list of limits,ingest,e2e,latency,transform,recovery,micro")
    p.add_argument("--quick", action="store_true", help="smaller volumes, no latency sweeps")
    p.add_argument("--long", action="store_true", help="also the 10 GiB recovery run")
    p.add_argument("--duration", type=float, default=4, help="seconds per load point")
    p.add_argument("--warmup", type=float, default=1)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--no-moto", action="store_true")
    p.add_argument("--moto", default=shutil.which("moto_server"))
    a = p.parse_args()
    a.sizes = [100, 1024, 65536]
    a.e2e_mib = 256 if a.quick else 1024
    a.transform_mib = 64 if a.quick else 256
    a.transform_py_mib = 16 if a.quick else 64
    a.latency_rate = 200
    a.limits_write_mib = 256 if a.quick else 1024
    a.recovery_gib = [0.5] if a.quick else [2]
    if a.long:
        a.recovery_gib.append(10)
    a.micro_min_time = "0.1" if a.quick else "0.3"
    if a.work_dir:
        os.makedirs(a.work_dir, exist_ok=True)
    b = Bench(a)
    res = b.run()
    cmdline = "make bench" if os.environ.get("HYDRANT_BENCH_FROM_MAKE") else " ".join(
        ["bench/run.py"] + sys.argv[1:])
    md = report(res, b.notes, cmdline)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(md + "\n")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    print(md)


if __name__ == "__main__":
    main()
