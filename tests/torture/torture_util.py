"""Shared pieces of the torture suite (`make torture`, docs/reliability.md): the
time budget, process sampling (RSS, threads, file descriptors, CPU) and the
report that each run writes to tests/torture/results/latest.md.

The tests reuse the integration tests' helpers (tests/integration/conftest.py and
test_crash.py): the real binary, real clients, real sockets."""
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

RESULTS = os.path.join(HERE, "results", "latest.md")


def minutes():
    """The whole run's budget in minutes (make torture TORTURE_MINUTES=...)."""
    return float(os.environ.get("HYDRANT_TORTURE_MINUTES", "30"))


def share(fraction, at_least_s):
    """This test's part of the budget, in seconds."""
    return max(at_least_s, minutes() * 60 * fraction)


def proc_sample(pid):
    """{rss_mb, threads, fds, cpu_s} of a live process, from /proc."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                out["rss_mb"] = int(line.split()[1]) / 1024
            elif line.startswith("Threads:"):
                out["threads"] = int(line.split()[1])
    out["fds"] = len(os.listdir("/proc/%d/fd" % pid))
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    out["cpu_s"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


class Sampler:
    """Samples the server every `interval` seconds on a thread (the pid may
    change across restarts: h.proc is read each time)."""

    def __init__(self, h, interval=5.0):
        self.h, self.interval = h, interval
        self.samples = []  # (seconds since start, sample)
        self._stop = threading.Event()
        self._t0 = time.time()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(10)
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                sample = proc_sample(self.h.proc.pid)
            except (OSError, ValueError, AttributeError):
                continue  # between a kill and a restart
            if "rss_mb" in sample and "threads" in sample:  # a killed process has no VmRSS
                self.samples.append((time.time() - self._t0, sample))

    def column(self, key, part=None):
        """The values of one figure; part = (lo, hi) fractions of the run."""
        n = len(self.samples)
        lo, hi = part or (0, 1)
        return [s[key] for _, s in self.samples[int(n * lo):max(int(n * hi), int(n * lo) + 1)]]


def report(title, lines):
    """Appends a section to the run's report (and prints it)."""
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    text = "## %s\n\n%s\n\n" % (title, "\n".join("- " + l for l in lines))
    print("\n" + text)
    with open(RESULTS, "a") as f:
        f.write(text)
