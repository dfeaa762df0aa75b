"""The listener under hostile or unlucky conditions (issue 13, items 2 and 7):
accept() failing when file descriptors run out backs off instead of spinning;
malformed requests get 400 and oversized headers 431 instead of a silent close;
slow senders are dropped after the header/body timeout; a Range past any size
gets 416 as S3 answers."""
import re
import socket
import subprocess
import time

from conftest import start_with_config, wait_for
from test_http_limits import raw_request, read_answer, status_of


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / float(__import__("os").sysconf("SC_CLK_TCK"))


def open_fds(pid):
    import os
    return len(os.listdir("/proc/%d/fd" % pid))


def health_on(s):
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    return read_answer(s)


def test_accept_backs_off_when_file_descriptors_run_out(hydrant):
    pid = hydrant.proc.pid
    keep = socket.create_connection(("127.0.0.1", hydrant.port), timeout=10)
    assert status_of(health_on(keep)) == 200
    soft = subprocess.run(["prlimit", "--pid", str(pid), "--nofile", "--output=SOFT", "--noheadings"],
                          check=True, capture_output=True, text=True).stdout.strip()
    limit = open_fds(pid) + 4
    subprocess.run(["prlimit", "--pid", str(pid), "--nofile=%d:" % limit], check=True)
    extra = []
    try:
        # More connections than the server has descriptors left: the kernel
        # queues them, accept() fails with EMFILE.
        for _ in range(12):
            extra.append(socket.create_connection(("127.0.0.1", hydrant.port), timeout=10))
        wait_for(lambda: "event=accept_failed" in hydrant.log(), timeout=10,
                 what="an accept_failed line")
        start_cpu, start = cpu_seconds(pid), time.time()
        time.sleep(2)  # measuring: CPU used over an interval while accept() fails
        used = cpu_seconds(pid) - start_cpu
        elapsed = time.time() - start
        assert used < 0.25 * elapsed, "%.2f s of CPU in %.2f s: accept() spins" % (used, elapsed)
        # The existing keep-alive connection is still served.
        assert status_of(health_on(keep)) == 200
        lines = [l for l in hydrant.log().splitlines() if "event=accept_failed" in l]
        assert 1 <= len(lines) <= 10, "%d accept_failed lines" % len(lines)
        assert re.search(r"failures=\d+", lines[-1])
    finally:
        for s in extra:
            s.close()
        subprocess.run(["prlimit", "--pid", str(pid), "--nofile=%s:" % soft], check=True)
    # Closing connections lets new ones in (within the backoff's second).
    def fresh_health():
        with socket.create_connection(("127.0.0.1", hydrant.port), timeout=10) as s:
            return status_of(health_on(s)) == 200
    wait_for(fresh_health, timeout=10, what="a new connection served")
    keep.close()


def test_malformed_requests_are_answered_400_and_huge_headers_431(hydrant):
    for raw in [b"GARBAGE\r\n\r\n",
                b"GET / HTTP/9.9\r\n\r\n",
                b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]:
        with socket.create_connection(("127.0.0.1", hydrant.port), timeout=10) as s:
            s.sendall(raw)
            a = read_answer(s)
            assert status_of(a) == 400, (raw, a)
            # Answered, then closed.
            assert s.recv(1) == b""
    big = "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "a" * (70 * 1024)
    a = raw_request(hydrant, big)
    assert status_of(a) == 431, a[:200]
    # The server is fine afterwards.
    a = raw_request(hydrant, "GET /health HTTP/1.1\r\nHost: x")
    assert status_of(a) == 200


def test_ranges_past_any_size_are_unsatisfiable(hydrant):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="bkt")
    s3.put_object(Bucket="bkt", Key="k", Body=b"0123456789")
    for rng in ["bytes=18446744073709551615-", "bytes=18446744073709551616-",
                "bytes=99999999999999999999999-", "bytes=10-", "bytes=-0"]:
        a = raw_request(hydrant, "GET /bkt/k HTTP/1.1\r\nHost: x\r\nRange: %s" % rng)
        assert status_of(a) == 416, (rng, a)
        assert b"<Code>InvalidRange</Code>" in a
        assert b"Content-Range: bytes */10" in a
    # An end past the size is clamped, as S3 does, however many digits it has.
    for rng, want in [("bytes=2-99999999999999999999999", b"23456789"),
                      ("bytes=-99999999999999999999999", b"0123456789")]:
        a = raw_request(hydrant, "GET /bkt/k HTTP/1.1\r\nHost: x\r\nRange: %s" % rng)
        assert status_of(a) == 206, (rng, a)
        assert a.endswith(b"\r\n\r\n" + want)


def closes_within(s, seconds):
    """True when the server closes s within `seconds`."""
    s.settimeout(seconds)
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return True
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def test_slow_senders_are_dropped(tmp_path):
    with start_with_config(tmp_path, "http_header_timeout_seconds = 1\n"
                                     "http_body_timeout_seconds = 1\n") as h:
        # Headers that never end.
        slow_head = socket.create_connection(("127.0.0.1", h.port))
        slow_head.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        # A body that stops.
        slow_body = socket.create_connection(("127.0.0.1", h.port))
        slow_body.sendall(b"POST /bkt?delete HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n<De")
        # An upload (streamed) that stops.
        h.client("s3").create_bucket(Bucket="bkt")
        slow_upload = socket.create_connection(("127.0.0.1", h.port))
        slow_upload.sendall(b"PUT /bkt/k HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab")
        start = time.time()
        for s in (slow_head, slow_body, slow_upload):
            assert closes_within(s, 15), "a slow sender was kept"
            s.close()
        assert time.time() - start < 15
        # An idle keep-alive connection is not a slow sender: it is kept.
        idle = socket.create_connection(("127.0.0.1", h.port))
        assert status_of(health_on(idle)) == 200
        assert not closes_within(idle, 2.5)
        assert status_of(health_on(idle)) == 200
        idle.close()
        # The cut upload left nothing.
        assert h.client("s3").list_objects_v2(Bucket="bkt")["KeyCount"] == 0
