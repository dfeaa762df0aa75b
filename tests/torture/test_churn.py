"""Control-plane churn while putting: streams created, put to and deleted in a
loop, a busy stream's destination updated back and forth and its tags changed,
while four writers put to it. Every acknowledged record of the busy stream must
be delivered; the churned streams' names come back; threads and file
descriptors return to where they were once the churn stops."""
import threading
import time

import botocore

import torture_util as tu
from conftest import Hydrant, make_stream, wait_for
from test_crash import check_delivery, producers


def churn_streams(h, stop, counts):
    fh = h.client("firehose", validate=False)

    def attempt(fn, **kw):
        try:
            fn(**kw)
            return True
        except botocore.exceptions.ClientError as e:
            # The name of a stream being deleted is taken until its files are gone.
            code = e.response["Error"]["Code"]
            assert code in ("ResourceInUseException", "ResourceNotFoundException"), e
            counts[code] = counts.get(code, 0) + 1
            time.sleep(0.05)
            return False

    i = 0
    while not stop.is_set():
        name = "churn-%d" % (i % 8)
        i += 1
        created = attempt(make_stream, h=h, name=name, bucket="churn-bucket")
        if created:
            attempt(fh.put_record_batch, DeliveryStreamName=name,
                    Records=[{"Data": b"x%d\n" % k} for k in range(20)])
        if attempt(fh.delete_delivery_stream, DeliveryStreamName=name) and created:
            counts["cycles"] += 1


def churn_updates(h, stop, counts):
    fh = h.client("firehose", validate=False)
    i = 0
    while not stop.is_set():
        i += 1
        d = fh.describe_delivery_stream(DeliveryStreamName="busy")["DeliveryStreamDescription"]
        try:
            fh.update_destination(
                DeliveryStreamName="busy", CurrentDeliveryStreamVersionId=d["VersionId"],
                DestinationId=d["Destinations"][0]["DestinationId"],
                ExtendedS3DestinationUpdate={"Prefix": "p%d/" % (i % 2),
                                             "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 1}})
            fh.tag_delivery_stream(DeliveryStreamName="busy", Tags=[{"Key": "round", "Value": str(i)}])
            counts["updates"] += 1
        except botocore.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] == "ConcurrentModificationException", e
        time.sleep(0.1)


def test_create_delete_update_churn_while_putting(tmp_path):
    seconds = tu.share(0.2, 60)
    with Hydrant(str(tmp_path / "data")).start() as h:
        s3 = h.client("s3")
        s3.create_bucket(Bucket="busy")
        s3.create_bucket(Bucket="churn-bucket")
        make_stream(h, "busy", "busy")
        before = tu.proc_sample(h.proc.pid)
        sampler = tu.Sampler(h, interval=2.0).start()
        p = producers(h, "busy", threads=4)
        stop = threading.Event()
        counts = {"cycles": 0, "updates": 0}
        workers = [threading.Thread(target=f, args=(h, stop, counts)) for f in (churn_streams, churn_updates)]
        for w in workers:
            w.start()
        time.sleep(seconds)
        stop.set()
        for w in workers:
            w.join(60)
        p.stop()
        assert h.proc.poll() is None, "hydrant died\n" + h.log()[-4000:]
        assert counts["cycles"] > 10 and counts["updates"] > 10, counts
        delivered, dups = check_delivery(h, p, "busy", timeout=120)
        # Deleted streams' files are removed in the background: wait for the names.
        fh = h.client("firehose")
        wait_for(lambda: fh.list_delivery_streams()["DeliveryStreamNames"] == ["busy"], timeout=60,
                 what="the churned streams gone")
        sampler.stop()
        after = tu.proc_sample(h.proc.pid)
        assert after["threads"] <= before["threads"] + 8, (before, after)
        assert after["fds"] <= before["fds"] + 16, (before, after)
        tu.report("Control-plane churn", [
            "%.0f s: %d create/put/delete cycles, %d updates + tag changes, refusals %s" % (
                seconds, counts["cycles"], counts["updates"],
                {k: v for k, v in counts.items() if k not in ("cycles", "updates")}),
            "busy stream: %d acknowledged, %d delivered, 0 lost, %d duplicates" % (
                len(p.acked), delivered, dups),
            "threads %d -> %d, fds %d -> %d (before -> after); max RSS %.0f MB" % (
                before["threads"], after["threads"], before["fds"], after["fds"],
                max(sampler.column("rss_mb")))])
