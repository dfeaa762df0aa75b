"""Crash during data transformation: producers keep putting uniquely numbered records
into a stream whose Lambda processor (a local Python handler) takes about a second per
invocation, and hydrant is killed with SIGKILL while an invocation is in progress, then
restarted on the same port and data folder. Every acknowledged record must end up
transformed in the bucket (or, at worst, in processing-failed/): none is lost;
duplicates are allowed (at-least-once) and counted."""
import base64
import os
import random
import re
import time

from conftest import (Producers, json_lines, lambda_arn, lambda_function_toml, lambda_processing,
                      make_stream, read_objects, start_with_config, wait_for, write_handlers)

FUNCTION = "slow-upper"
FUNCTION_ARN = lambda_arn(FUNCTION)

# Writes "S <pid>" when an invocation starts and "E <pid>" when it ends, so the test
# can kill hydrant while one is in progress.
HANDLER = '''
import base64
import os
import time

MARKS = os.environ["MARKS_FILE"]

def mark(s):
    with open(MARKS, "a") as f:
        f.write("%s %d\\n" % (s, os.getpid()))

def lambda_handler(event, context):
    mark("S")
    time.sleep(1)
    out = [{"recordId": r["recordId"], "result": "Ok",
            "data": base64.b64encode(base64.b64decode(r["data"]).upper()).decode()}
           for r in event["records"]]
    mark("E")
    return {"records": out}
'''

LINE_RE = re.compile(rb"^REC-(\d+)-(\d+)-PAYLOAD\n$")


def numbered_record(tid, n, rnd):
    """Record n of thread tid, identified by (tid, n)."""
    return (tid, n), b"rec-%d-%d-payload\n" % (tid, n)


def read_marks(path):
    """The handler's marks file as [(mark, pid)]."""
    try:
        with open(path) as f:
            return [(m, int(pid)) for m, pid in (line.split() for line in f if line.strip())]
    except FileNotFoundError:
        return []


def marks(path):
    """(started, ended) invocation counts from the handler's marks file."""
    lines = [m for m, _ in read_marks(path)]
    return lines.count("S"), lines.count("E")


def in_progress(path):
    """The pids of handler workers that started an invocation and have not ended it."""
    open_by_pid = {}
    for m, pid in read_marks(path):
        open_by_pid[pid] = open_by_pid.get(pid, 0) + (1 if m == "S" else -1)
    return {pid for pid, n in open_by_pid.items() if n > 0}


def gone_or_ended(pids, path):
    """True once every pid has ended its invocation or no longer exists."""
    running = in_progress(path)
    for pid in pids & running:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        return False
    return True


def test_kill_during_transformation_loses_nothing(tmp_path):
    handler = write_handlers(tmp_path, {"slow_upper.py": HANDLER}) / "slow_upper.py"
    marks_file = tmp_path / "marks.txt"
    with start_with_config(tmp_path, lambda_function_toml(
            FUNCTION, runtime="python3", handler=handler, timeout_seconds=10,
            environment={"MARKS_FILE": marks_file})) as h:
        run(h, marks_file)


def run(h, marks_file):
    make_stream(h, "pcrash", "crash", create_bucket=True, Prefix="out/",
                ErrorOutputPrefix="err/!{firehose:error-output-type}/",
                ProcessingConfiguration=lambda_processing(FUNCTION_ARN, retries=3))
    p = Producers(h, "pcrash", numbered_record, threads=2, batch=20, read_timeout=10, pause=0.05).start()
    kills = mid_transformation = 0
    rng = random.Random(7)
    deadline = time.time() + 45
    orphans = set()
    while kills < 4 and time.time() < deadline:
        # The previous run's orphaned invocation (if any) has ended, so that an
        # invocation in progress at the next kill is one of this run.
        wait_for(lambda: gone_or_ended(orphans, marks_file), timeout=15, interval=0.05,
                 what="the killed server's invocation to end")
        s0, e0 = marks(marks_file)
        # Wait for an invocation of this run to start, then kill it part-way through.
        wait_for(lambda: marks(marks_file)[0] > s0, timeout=15, interval=0.02,
                 what="an invocation to start")
        time.sleep(rng.uniform(0.1, 0.7))
        s, e = marks(marks_file)
        orphans = in_progress(marks_file)
        h.kill()
        kills += 1
        if s > e:
            mid_transformation += 1
        h.start(h.port)
    p.wait_for_acks(p.batch, "puts acknowledged by the last restart")
    p.stop()
    assert kills == 4 and mid_transformation >= 3, (kills, mid_transformation)
    assert len(p.acked) > 200, "producers hardly got through: %d acknowledged" % len(p.acked)

    s3 = h.client("s3")

    def outputs():
        out = []
        for body in read_objects(s3, "crash", "out/").values():
            out += body.splitlines(keepends=True)
        return out, json_lines(s3, "crash", "err/")

    def ids():
        out, failed = outputs()
        got = set()
        for line in out:
            m = LINE_RE.match(line)
            assert m, "not a transformed record: %r" % line
            got.add((int(m.group(1)), int(m.group(2))))
        for f in failed:
            m = re.match(rb"^rec-(\d+)-(\d+)-payload\n$", base64.b64decode(f["rawData"]))
            assert m, f
            got.add((int(m.group(1)), int(m.group(2))))
        return got

    got = wait_for(lambda: (lambda g: g if g >= p.acked else None)(ids()), timeout=40, interval=0.5,
                   what="every acknowledged record, transformed")
    out, failed = outputs()
    transformed = [(int(m.group(1)), int(m.group(2))) for m in map(LINE_RE.match, out)]
    assert set(transformed) | got <= p.sent.keys(), "records that were never sent"
    dups = len(transformed) - len(set(transformed))
    print("processing crash test: %d kills (%d mid-transformation), %d sent, %d acknowledged, "
          "%d transformed, %d duplicates, %d processing-failed, %d failed puts" % (
              kills, mid_transformation, len(p.sent), len(p.acked), len(set(transformed)), dups,
              len(failed), p.errors))
    assert not (p.acked - got)
