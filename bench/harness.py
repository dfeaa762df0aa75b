"""Helpers of the benchmark driver (bench/run.py): free ports, the hydrant server
under test, its metrics, page-cache and disk probes, and stream creation."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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


def boto(service, endpoint, validate=False, creds=("test", "test")):
    import boto3
    from botocore.config import Config
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=creds[0], aws_secret_access_key=creds[1],
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


def make_delivery_role(iam, name="firehose"):
    """The role create_stream names, trusting firehose.amazonaws.com and allowed to
    write to every bucket (sigv4 mode enforces delivery roles)."""
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))
    iam.put_role_policy(RoleName=name, PolicyName="deliver", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["s3:PutObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::*", "arn:aws:s3:::*/*"]}]}))


def create_stream(srv, name, bucket, compression="UNCOMPRESSED", size_mb=128, interval=900,
                  processing=None, make_bucket=True, creds=("test", "test")):
    s3 = boto("s3", srv.endpoint, creds=creds)
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
    fh = boto("firehose", srv.endpoint, creds=creds)
    fh.create_delivery_stream(DeliveryStreamName=name, DeliveryStreamType="DirectPut",
                              ExtendedS3DestinationConfiguration=dest)
    for _ in range(100):  # moto and hydrant are ACTIVE at once; be safe
        st = fh.describe_delivery_stream(DeliveryStreamName=name)
        if st["DeliveryStreamDescription"]["DeliveryStreamStatus"] == "ACTIVE":
            break
        time.sleep(0.1)
