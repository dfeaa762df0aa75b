"""The embedded store's index on disk (docs/object-store.md, "The index"): objects
acknowledged before a SIGKILL are all listed and readable after the restart,
listings page through them exactly once, and the background sweep leaves exactly
one data file per object (the writes the kill cut short are removed)."""
import os
import threading

from conftest import wait_for


def data_files(root, bucket):
    n = 0
    for _, _, files in os.walk(os.path.join(root, "s3", bucket)):
        n += sum(f.endswith(".data") for f in files)
    return n


def all_keys(s3, bucket, **kw):
    keys, token = [], None
    while True:
        args = dict(Bucket=bucket, MaxKeys=37, **kw)
        if token:
            args["ContinuationToken"] = token
        r = s3.list_objects_v2(**args)
        keys += [c["Key"] for c in r.get("Contents", [])]
        if not r["IsTruncated"]:
            return keys
        token = r["NextContinuationToken"]


def test_acknowledged_objects_survive_sigkill_and_orphans_are_swept(hydrant):
    s3 = hydrant.client("s3")
    s3.create_bucket(Bucket="idx")
    acked, stop = [], threading.Event()

    def writer(w):
        c = hydrant.client("s3")
        i = 0
        while not stop.is_set():
            key = "w%d/%05d" % (w, i)
            try:
                c.put_object(Bucket="idx", Key=key, Body=key.encode())
            except Exception:
                return  # the server was killed
            acked.append(key)
            # Every third key is written again: an overwrite can be cut short too.
            if i % 3 == 0:
                try:
                    c.put_object(Bucket="idx", Key=key, Body=key.encode())
                except Exception:
                    return
            i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: len(acked) >= 150, what="150 acknowledged puts")
    hydrant.kill()
    stop.set()
    for t in threads:
        t.join()

    hydrant.start(hydrant.port)
    s3 = hydrant.client("s3")
    keys = all_keys(s3, "idx")
    assert keys == sorted(set(keys)), "each key once, in order"
    missing = set(acked) - set(keys)
    assert not missing, "acknowledged but lost: %s" % sorted(missing)[:10]
    for key in acked[::25]:
        assert s3.get_object(Bucket="idx", Key=key)["Body"].read() == key.encode()
    # A delimited listing pages through the writers' folders.
    r = s3.list_objects_v2(Bucket="idx", Delimiter="/", MaxKeys=2)
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["w0/", "w1/"] and r["IsTruncated"]
    r = s3.list_objects_v2(Bucket="idx", Delimiter="/", MaxKeys=2,
                           ContinuationToken=r["NextContinuationToken"])
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["w2/", "w3/"]
    # The sweep (started because the last shutdown was unclean) leaves one data
    # file per listed object.
    wait_for(lambda: data_files(hydrant.data_dir, "idx") == len(keys), timeout=60,
             what="the sweep to remove orphaned data files")
    # A clean stop and start: same objects, no sweep needed.
    hydrant.restart()
    assert all_keys(hydrant.client("s3"), "idx") == keys
    assert os.path.exists(os.path.join(hydrant.data_dir, "s3", ".index.db"))
