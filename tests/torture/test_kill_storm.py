"""100 random SIGKILLs under four writers: every acknowledged record must be
delivered, none torn or altered (duplicates are allowed: at-least-once), and a
clean restart afterwards changes nothing. HYDRANT_TORTURE_KILLS sets the count."""
import os
import random
import time

import torture_util as tu
from conftest import Hydrant, make_stream
from test_crash import check_delivery, producers


def test_hundred_kills_under_four_writers(tmp_path):
    kills = int(os.environ.get("HYDRANT_TORTURE_KILLS", "100"))
    with Hydrant(str(tmp_path / "data")).start() as h:
        h.client("s3").create_bucket(Bucket="storm")
        make_stream(h, "storm", "storm")
        sampler = tu.Sampler(h, interval=1.0).start()
        rnd = random.Random()
        p = producers(h, "storm", threads=4)
        t0 = time.time()
        starts = []
        for _ in range(kills):
            time.sleep(rnd.uniform(0.2, 1.5))  # a random moment: when to kill is the test
            h.kill()
            s = time.time()
            h.start(h.port)
            starts.append(time.time() - s)
        p.wait_for_acks(p.batch, "puts acknowledged after the last restart")
        p.stop()
        assert h.proc.poll() is None, "hydrant died on its own\n" + h.log()[-4000:]
        delivered, dups = check_delivery(h, p, "storm", timeout=120)
        sampler.stop()
        h.restart()
        h.client("firehose").put_record(DeliveryStreamName="storm", Record={"Data": b"marker done\n"})
        p.sent["marker"] = b"marker done\n"
        p.acked.add("marker")
        delivered2, _ = check_delivery(h, p, "storm", timeout=60)
        assert delivered2 - 1 == delivered, "a clean restart changed the bucket"
        starts.sort()
        tu.report("Kill storm", [
            "%d SIGKILLs in %.0f s under 4 writers" % (kills, time.time() - t0),
            "%d records sent, %d acknowledged, %d delivered, 0 lost, %d duplicates" % (
                len(p.sent), len(p.acked), delivered, dups),
            "restart until the port answered: median %.2f s, max %.2f s" % (
                starts[len(starts) // 2], starts[-1]),
            "max RSS %.0f MB, max threads %d, max fds %d" % (
                max(sampler.column("rss_mb")), max(sampler.column("threads")),
                max(sampler.column("fds")))])
