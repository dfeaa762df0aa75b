#!/usr/bin/env python3
"""hydrant's benchmark driver (issue 5). `make bench` runs it.

Orchestration only: the hot loops are C++ (hydrant_loadgen, hydrant_machine_limits,
hydrant_trivial_httpd, hydrant_micro_bench in BUILD/bench/). Each workload starts a
fresh `hydrant serve` on a free port with its own data folder, so peak RSS (VmHWM)
is per workload. Prints a Markdown report and writes it to --out.

See bench/README.md for what each workload measures.
"""
import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time


from harness import *  # noqa: F401,F403 (constants and helpers)
from report import report  # noqa: F401


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

    # ---- (1b), (1c), (1d): a kind of ingest beside plain ingest ----
    def beside(self, key, kind, sizes, start):
        """The ingest peak (closed loop, as in (1)) of `kind` beside plain ingest:
        per record size, `--pairs` pairs of runs, each a fresh plain hydrant then a
        fresh `kind` one, back to back. start(kind, size) returns the started
        server, the port the load goes to and the load generator's extra options.
        Each run also measures hydrant's CPU seconds in the window (the load
        generator shares the cores: a server with its own cores scales with its
        CPU per MiB). Kept per size: every pair, and the runs of the median pair."""
        rows = []
        for size in sizes:
            pairs = []
            for i in range(self.args.pairs):
                pair = {}
                for k in ("plain", kind):
                    log("ingest, %s, %d B, pair %d/%d" % (k, size, i + 1, self.args.pairs))
                    srv, port, extra = start(k, size)
                    try:
                        srv.reset_hwm()
                        r = self.loadgen(port, stream="ingest", size=size,
                                         extra=list(extra) + ["--server-pid", str(srv.proc.pid)])
                        r["rss_mib"] = srv.hwm()
                        mib = r["payload_bytes"] / MiB
                        r["cpu_ms_per_mib"] = (1000 * r["server_cpu_s"] / mib
                                               if mib and r.get("server_cpu_s", -1) >= 0 else None)
                        pair[k] = r
                    finally:
                        srv.cleanup()
                pair["ratio"] = pair[kind]["records_per_s"] / pair["plain"]["records_per_s"]
                cp, ck = pair["plain"]["cpu_ms_per_mib"], pair[kind]["cpu_ms_per_mib"]
                pair["cpu_ratio"] = cp / ck if cp and ck else None
                pairs.append(pair)
            median = sorted(pairs, key=lambda p: p["ratio"])[len(pairs) // 2]
            rows.append({"size": size, "plain": median["plain"], kind: median[kind],
                         "pairs": [{"ratio": p["ratio"], "cpu_ratio": p["cpu_ratio"]}
                                   for p in pairs]})
        self.results[key] = rows

    # ---- (1b) ingest over TLS ----
    def ingest_tls(self):
        """TLS 1.3 (AES-GCM), one handshake per connection, beside plain HTTP. The
        TLS server takes its control-plane calls and /metrics on a second, plain
        listener (--listen-plain)."""
        certs = os.path.join(self.work, "certs")
        subprocess.run([os.path.join(self.build, "hydrant"), "cert", "--out", certs, "--force"],
                       check=True, capture_output=True)
        tls_args = ["--tls-cert", os.path.join(certs, "cert.pem"),
                    "--tls-key", os.path.join(certs, "key.pem")]

        def start(kind, size):
            plain_port = free_port()
            srv = self.hydrant(extra=tls_args + ["--listen-plain", "127.0.0.1:%d" % plain_port]
                               if kind == "tls" else [])
            data_port = srv.port
            try:
                if kind == "tls":
                    srv.port = plain_port  # control plane and /metrics
                    if not wait_port(plain_port):
                        raise RuntimeError("hydrant's plain listener did not open")
                create_stream(srv, "ingest", "ingest-bucket")
            except Exception:
                srv.cleanup()
                raise
            return srv, data_port, ["--tls"] if kind == "tls" else []
        self.beside("ingest_tls", "tls", self.args.tls_sizes, start)

    # ---- (1c) ingest with SigV4 verification and authorization ----
    SIGV4_ROOT = ("AKIABENCHROOT0000001", "benchRootSecret/0123456789abcdefghijklm")
    SIGV4_PRODUCER = ("AKIABENCHPRODUCER001", "benchProducerSecret/0123456789abcdefgh")

    def ingest_sigv4(self):
        """`[auth] mode = "sigv4"` beside open mode: every request's signature is
        verified (the body hashed, the signing key cached) and authorized for a
        producer whose inline policy allows firehose:PutRecord* on the stream."""
        config = os.path.join(self.work, "sigv4.toml")
        policy = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
            "Resource": "arn:aws:firehose:us-east-1:000000000000:deliverystream/ingest"}]})
        with open(config, "w") as f:
            f.write('[auth]\nmode = "sigv4"\n\n'
                    '[[auth.users]]\nname = "admin"\naccess_key_id = "%s"\nsecret_access_key = "%s"\n'
                    'root = true\n\n'
                    '[[auth.users]]\nname = "producer"\naccess_key_id = "%s"\n'
                    'secret_access_key = "%s"\npolicy = \'%s\'\n'
                    % (Bench.SIGV4_ROOT + Bench.SIGV4_PRODUCER + (policy,)))

        def start(kind, size):
            srv = self.hydrant(extra=["--config", config] if kind == "sigv4" else [])
            try:
                if kind == "sigv4":  # the delivery role Firehose assumes (enforced in sigv4 mode)
                    make_delivery_role(boto("iam", srv.endpoint, creds=Bench.SIGV4_ROOT))
                create_stream(srv, "ingest", "ingest-bucket",
                              creds=Bench.SIGV4_ROOT if kind == "sigv4" else ("test", "test"))
            except Exception:
                srv.cleanup()
                raise
            keys = Bench.SIGV4_PRODUCER if kind == "sigv4" else ("test", "test")
            return srv, srv.port, ["--access-key", keys[0], "--secret-key", keys[1]]
        self.beside("ingest_sigv4", "sigv4", self.args.tls_sizes, start)

    # ---- (1d) ingest with the stream's buffer encrypted at rest ----
    def ingest_encrypted(self):
        """A stream whose buffer is encrypted at rest (StartDeliveryStreamEncryption,
        AWS_OWNED_CMK) beside an unencrypted one."""
        def start(kind, size):
            srv = self.hydrant()
            try:
                create_stream(srv, "ingest", "ingest-bucket")
                if kind == "encrypted":
                    fh = boto("firehose", srv.endpoint)
                    fh.start_delivery_stream_encryption(
                        DeliveryStreamName="ingest",
                        DeliveryStreamEncryptionConfigurationInput={"KeyType": "AWS_OWNED_CMK"})
                    enc = fh.describe_delivery_stream(DeliveryStreamName="ingest")[
                        "DeliveryStreamDescription"]["DeliveryStreamEncryptionConfiguration"]
                    if enc.get("Status") != "ENABLED":
                        raise RuntimeError("encryption not enabled: %r" % enc)
            except Exception:
                srv.cleanup()
                raise
            return srv, srv.port, []
        self.beside("ingest_encrypted", "encrypted", self.args.sizes, start)

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

    # ---- (6) the object store at scale ----
    def store(self):
        from store_index import store_bench
        log("object store with %d objects" % self.args.store_objects)
        self.results["store"] = store_bench(self.build, self.work, self.args.store_objects)

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
                 ("tls", self.ingest_tls), ("sigv4", self.ingest_sigv4),
                 ("encryption", self.ingest_encrypted),
                 ("e2e", self.e2e_all), ("latency", self.latency),
                 ("transform", self.transformation),
                 ("recovery", lambda: self.results.__setitem__(
                     "recovery", [self.recovery(g) for g in a.recovery_gib])),
                 ("store", self.store), ("micro", self.micro)]
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


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "latest.md"))
    p.add_argument("--json", help="also write the raw results here")
    p.add_argument("--work-dir", default=None, help="data folders go here (default: $TMPDIR)")
    p.add_argument("--only", help="comma list of limits,ingest,tls,sigv4,encryption,e2e,latency,"
                   "transform,recovery,"
                   "store,micro")
    p.add_argument("--quick", action="store_true", help="smaller volumes, no latency sweeps")
    p.add_argument("--long", action="store_true", help="also the 10 GiB recovery run")
    p.add_argument("--duration", type=float, default=4, help="seconds per load point")
    p.add_argument("--warmup", type=float, default=1)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--pairs", type=int, default=3,
                   help="pairs of runs per size in the tls, sigv4 and encryption workloads")
    p.add_argument("--no-moto", action="store_true")
    p.add_argument("--moto", default=shutil.which("moto_server"))
    a = p.parse_args()
    a.sizes = [100, 1024, 65536]
    a.tls_sizes = [100, 65536]
    a.e2e_mib = 256 if a.quick else 1024
    a.transform_mib = 64 if a.quick else 256
    a.transform_py_mib = 16 if a.quick else 64
    a.latency_rate = 200
    a.limits_write_mib = 256 if a.quick else 1024
    a.recovery_gib = [0.5] if a.quick else [2]
    if a.long:
        a.recovery_gib.append(10)
    a.micro_min_time = "0.1" if a.quick else "0.3"
    a.store_objects = 200000 if a.quick else 1000000
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
