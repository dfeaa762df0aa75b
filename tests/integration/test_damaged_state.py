"""Damaged state on disk (issue 13, items 3, 4 and 5), on the real binary: a stream
holding 1,000 acknowledged, undelivered records has one of its files damaged while
hydrant is stopped, and the next start must keep every other stream serving, keep
the damaged data, report the damage (log, /health, `hydrant doctor`, /metrics) with
exact counts, and deliver every record the files still prove. A full disk (a 16 MiB
tmpfs) answers puts "Slow down." as the disk quota does."""
import os
import re
import subprocess

import botocore
import pytest

from conftest import HYDRANT, Hydrant, health, list_keys, make_stream, metric, put_records, read_objects, wait_for

RECORDS = 1000
BUCKET = "damage"
SEGMENT = "00000000000000000000.log"


def records(stream):
    return [b"%s-%05d\n" % (stream.encode(), i) for i in range(RECORDS)]


def delivered(h, stream):
    """The records delivered so far under the stream's prefix."""
    lines = []
    for body in read_objects(h.client("s3"), BUCKET, stream + "/").values():
        lines += body.splitlines()
    return lines



def doctor(h, stream):
    return subprocess.run([HYDRANT, "doctor", stream, "--endpoint", h.endpoint],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def stopped(tmp_path):
    """Streams "good" and "victim" with 1,000 acknowledged records each, not
    delivered (900 s / 128 MiB buffering), and hydrant stopped cleanly. Yields the
    Hydrant (to start again) and the victim's folder."""
    h = Hydrant(str(tmp_path / "data")).start()
    try:
        h.client("s3").create_bucket(Bucket=BUCKET)
        for name in ("good", "victim"):
            make_stream(h, name, BUCKET, Prefix=name + "/",
                        BufferingHints={"SizeInMBs": 128, "IntervalInSeconds": 900})
            put_records(h, name, records(name))
        assert list_keys(h.client("s3"), BUCKET) == []
    finally:
        h.stop()
    yield h, os.path.join(h.data_dir, "streams", "s-victim")
    h.stop()


def expect_good_delivered(h):
    wait_for(lambda: len(delivered(h, "good")) == RECORDS, what="the good stream's records")
    assert sorted(delivered(h, "good")) == [r.rstrip(b"\n") for r in records("good")]


def expect_quarantined(h, victim, reason):
    expect_good_delivered(h)
    body = health(h)
    assert body.startswith("degraded\n"), body
    assert "quarantined stream=victim" in body and reason in body, body
    assert "event=stream_quarantined" in h.log()
    d = doctor(h, "victim")
    assert d.returncode == 1, d.stdout + d.stderr
    assert "could not be opened" in d.stdout and reason in d.stdout, d.stdout
    assert metric(h, "hydrant_quarantined_streams") == 1
    # The name stays taken: a Create cannot write over the kept data.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        make_stream(h, "victim", BUCKET)
    assert e.value.response["Error"]["Code"] == "ResourceInUseException"
    assert os.path.exists(os.path.join(victim, "log", SEGMENT))


@pytest.mark.parametrize("content", [b"", b"{\"DeliveryStreamName\": "])
def test_unreadable_definition_and_copy_quarantine_only_that_stream(stopped, content):
    h, victim = stopped
    for name in ("stream.json", "stream.json.bak"):
        with open(os.path.join(victim, name), "wb") as f:
            f.write(content)
    h.start()
    expect_quarantined(h, victim, "stream.json")


def test_lock_replaced_by_a_folder_no_longer_matters(stopped):
    # The probe: a log/LOCK folder made the whole server exit. The server
    # now holds one lock for the data folder (streams.lock): a stray LOCK, file or
    # folder, is not read at all.
    h, victim = stopped
    lock = os.path.join(victim, "log", "LOCK")
    if os.path.isfile(lock):
        os.unlink(lock)
    os.makedirs(lock, exist_ok=True)
    h.start()
    expect_good_delivered(h)
    wait_for(lambda: len(delivered(h, "victim")) == RECORDS, what="the victim's records")
    assert health(h) == "ok\n"


def test_log_that_cannot_be_opened_quarantines_only_that_stream(stopped):
    h, victim = stopped
    log = os.path.join(victim, "log")
    os.rename(log, log + ".kept")
    with open(log, "wb") as f:  # a file where the log's folder should be
        f.write(b"not a folder")
    h.start()
    expect_good_delivered(h)
    body = health(h)
    assert body.startswith("degraded\n") and "quarantined stream=victim" in body, body
    assert "event=stream_quarantined" in h.log()
    assert metric(h, "hydrant_quarantined_streams") == 1
    d = doctor(h, "victim")
    assert d.returncode == 1 and "could not be opened" in d.stdout, d.stdout + d.stderr
    with pytest.raises(botocore.exceptions.ClientError) as e:
        make_stream(h, "victim", BUCKET)
    assert e.value.response["Error"]["Code"] == "ResourceInUseException"
    # Repaired while running: the retry opens it with all its records.
    os.unlink(log)
    os.rename(log + ".kept", log)
    wait_for(lambda: len(delivered(h, "victim")) == RECORDS, timeout=90, what="the repaired stream")
    wait_for(lambda: health(h) == "ok\n", what="health ok again")


@pytest.mark.parametrize("damage", ["deleted", "corrupted"])
def test_lost_definition_is_rebuilt_from_its_copy(stopped, damage):
    h, victim = stopped
    path = os.path.join(victim, "stream.json")
    if damage == "deleted":
        os.unlink(path)
    else:
        with open(path, "wb") as f:
            f.write(b"\0" * 64)
    h.start()
    wait_for(lambda: len(delivered(h, "victim")) == RECORDS, what="the victim's records")
    assert "event=stream_definition_restored" in h.log()
    assert "rebuilt from" in health(h)
    assert ("stream.json.damaged" in os.listdir(victim)) == (damage == "corrupted")


def test_a_folder_without_any_definition_is_kept(stopped):
    h, victim = stopped
    os.unlink(os.path.join(victim, "stream.json"))
    os.unlink(os.path.join(victim, "stream.json.bak"))
    for _ in range(2):  # never removed on a guess, at any start
        h.start()
        expect_quarantined(h, victim, "stream.json is missing")
        h.stop()


def test_an_interrupted_delete_is_finished(stopped):
    h, victim = stopped
    # What DeleteDeliveryStream leaves when hydrant dies after removing the
    # definition: the marker, then no definition.
    with open(os.path.join(victim, "DELETING"), "wb"):
        pass
    os.unlink(os.path.join(victim, "stream.json"))
    os.unlink(os.path.join(victim, "stream.json.bak"))
    h.start()
    expect_good_delivered(h)
    assert not os.path.exists(victim)
    assert health(h) == "ok\n"


def lost_counts(h):
    return [int(n) for n in re.findall(r"\((\d+) undelivered records\) are lost", h.log())]


def expect_damage_reported(h, lost):
    assert sum(lost_counts(h)) == lost, h.log()
    assert "event=log_damage" in h.log()
    assert metric(h, "hydrant_log_lost_records", "victim") == lost
    body = health(h)
    assert body.startswith("degraded\n") and "damaged stream=victim lost_records=%d" % lost in body, body
    d = doctor(h, "victim")
    assert "disk damage" in d.stdout and "%d undelivered records lost" % lost in d.stdout, d.stdout


def test_a_deleted_segment_is_reported_with_its_count(stopped):
    h, victim = stopped
    os.unlink(os.path.join(victim, "log", SEGMENT))
    h.start()
    expect_good_delivered(h)
    expect_damage_reported(h, RECORDS)


def test_eight_bytes_flipped_mid_segment_lose_only_the_records_they_touch(stopped):
    h, victim = stopped
    path = os.path.join(victim, "log", SEGMENT)
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        mid = len(data) // 2
        for i in range(mid, mid + 8):
            data[i] ^= 0xFF
        f.seek(0)
        f.write(data)
    h.start()
    # 8 bytes touch at most two frames (29 bytes each): those records only are lost.
    wait_for(lambda: len(delivered(h, "victim")) >= RECORDS - 2, what="the records after the damage")
    got = sorted(delivered(h, "victim"))
    assert 1 <= RECORDS - len(got) <= 2
    assert len(got) == RECORDS - sum(lost_counts(h))
    assert got[-1] == b"victim-%05d" % (RECORDS - 1)  # the records after the damage too
    expect_damage_reported(h, RECORDS - len(got))
    assert any(n.endswith(".damaged") for n in os.listdir(os.path.join(victim, "log")))


def test_a_flipped_segment_header_keeps_the_file_and_its_records(stopped):
    h, victim = stopped
    path = os.path.join(victim, "log", SEGMENT)
    with open(path, "r+b") as f:
        f.seek(5)
        b = f.read(1)
        f.seek(5)
        f.write(bytes([b[0] ^ 0xFF]))
    h.start()
    wait_for(lambda: len(delivered(h, "victim")) == RECORDS, what="the victim's records")
    assert "00000000000000000000.0.damaged" in os.listdir(os.path.join(victim, "log"))
    assert "bad segment magic" in h.log() or "segment header" in h.log(), h.log()
    assert metric(h, "hydrant_log_lost_records", "victim") == 0


# ---------------------------------------------------------------- a full disk


@pytest.fixture
def small_disk(tmp_path):
    root = tmp_path / "small"
    root.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(root)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)])


def test_a_full_disk_answers_slow_down_per_record(small_disk):
    with Hydrant(str(small_disk / "data")).start() as h:
        h.client("s3").create_bucket(Bucket=BUCKET)
        make_stream(h, "full", BUCKET, Prefix="full/",
                    BufferingHints={"SizeInMBs": 128, "IntervalInSeconds": 900})
        fh = h.client("firehose", validate=False)
        record = {"Data": b"x" * 100_000}
        accepted = 0
        for _ in range(400):  # 16 MiB fills within 170 batches of 10 x 100 KB
            resp = fh.put_record_batch(DeliveryStreamName="full", Records=[record] * 10)
            if resp["FailedPutCount"]:
                break
            accepted += 10
        else:
            pytest.fail("the disk never filled")
        assert resp["FailedPutCount"] == 10, resp
        for r in resp["RequestResponses"]:
            assert r["ErrorCode"] == "ServiceUnavailableException", r
            assert r["ErrorMessage"] == "Slow down.", r
        # PutRecord: the error itself (a smaller record may still fit at first).
        with pytest.raises(botocore.exceptions.ClientError) as e:
            for _ in range(20):
                fh.put_record(DeliveryStreamName="full", Record=record)
                accepted += 1
        assert e.value.response["Error"]["Code"] == "ServiceUnavailableException"
        assert e.value.response["Error"]["Message"] == "Slow down."
        assert metric(h, "hydrant_disk_full_records_total", "full") >= 11
        assert "event=disk_full" in h.log()
        # Rate limited: one line for every refusal of this burst.
        assert h.log().count("event=disk_full") == 1
        # Nothing acknowledged was lost: after a restart every accepted record is there.
        h.stop()
        h.start()
        assert metric(h, "hydrant_recovered_records", "full") == accepted
