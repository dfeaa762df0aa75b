"""The Markdown report of the benchmark driver (bench/run.py): formatting, the
targets and the evidence printed beside a missed one."""
import datetime
from statistics import median


from harness import *  # noqa: F401,F403 (constants and helpers)


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
    beside = [
        ("ingest_tls", "tls", "TLS", "(1b) Ingest over TLS beside plain HTTP (PutRecordBatch, closed loop)",
         "Each size: a fresh hydrant on plain HTTP, then one serving HTTPS (TLS 1.3, "
         "certificate from `hydrant cert`), back to back; the load generator encrypts "
         "on the same CPUs."),
        ("ingest_sigv4", "sigv4", "sigv4", "(1c) Ingest with SigV4 verification and authorization "
         "beside open mode (PutRecordBatch, closed loop)",
         "Each size: a fresh hydrant in open mode, then one with `[auth] mode = \"sigv4\"`, back "
         "to back; the producer's key has an inline policy allowing firehose:PutRecord* on "
         "the stream, so every request is verified (body hashed) and authorized. The load "
         "generator signs every request, as the SDKs do, on the same CPUs."),
        ("ingest_encrypted", "encrypted", "encrypted", "(1d) Ingest into a stream encrypted at rest "
         "beside an unencrypted one (PutRecordBatch, closed loop)",
         "Each size: a fresh hydrant with an unencrypted stream, then one whose stream ran "
         "StartDeliveryStreamEncryption (AWS_OWNED_CMK), back to back: each PutRecordBatch "
         "is one AES-256-GCM message in the log (buffer/encrypted_log.h)."),
    ]
    goals = {"tls": 0.85, "sigv4": 0.85, "encrypted": 0.90}
    for key, kind, label, title, note in beside:
        it = res.get(key)
        if not it:
            continue
        L.append("## " + title)
        L.append("")
        L.append("| Records | plain records/s | plain MiB/s | %s records/s | %s MiB/s | %s/plain, "
                 "each pair | hydrant CPU ms/MiB, plain / %s | CPU plain/%s, each pair | %s p99 ms | "
                 "peak RSS plain / %s |" % ((label,) * 7))
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        for r in it:
            pl, tl = r.get("plain"), r.get(kind)
            if not pl or not tl:
                continue
            pairs = r.get("pairs") or []
            ratio = median([p["ratio"] for p in pairs]) if pairs else None
            cpu = [p["cpu_ratio"] for p in pairs if p.get("cpu_ratio")]
            cpu_ratio = median(cpu) if cpu else None

            def each(values):
                return ", ".join("%.2f" % v for v in values)
            L.append("| %s × %d | %s | %s | %s | %s | %s (%s) | %s / %s | %s (%s) | %s | %s / %s MiB |" % (
                size_name(r["size"]), tl["records_per_request"], fmt(pl["records_per_s"]),
                fmt(pl["mib_per_s"]), fmt(tl["records_per_s"]), fmt(tl["mib_per_s"]),
                ("**%.2f**" % ratio) if ratio else "–", each(p["ratio"] for p in pairs),
                fmt(pl.get("cpu_ms_per_mib"), 2), fmt(tl.get("cpu_ms_per_mib"), 2),
                ("**%.2f**" % cpu_ratio) if cpu_ratio else "–", each(cpu),
                fmt(tl["p99_ms"], 2), fmt(pl["rss_mib"], 0), fmt(tl["rss_mib"], 0)))
            if ratio:
                goal = goals[kind]
                targets.append(("Ingest with %s, %s" % (label, size_name(r["size"])),
                                ">= %.2f of plain" % goal, "%.2f" % ratio, ratio >= goal))
        L.append("")
        L.append("Ratios: the median over the pairs (each pair a plain run, then a %s run, back to "
                 "back); the rates, CPU and latency shown are the median pair's. hydrant CPU: "
                 "user + system seconds of the hydrant process in the measured window (puts, "
                 "and delivery running meanwhile) per MiB of payload acknowledged; the load "
                 "generator runs on the same cores, so on a machine of its own hydrant's rate "
                 "would follow its CPU per MiB." % label)
        L.append("")
        L.append(note)
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
    st = res.get("store")
    if st:
        L.append("## (6) The embedded object store with %s objects (bench/store_index.py)"
                 % fmt(st["objects"]))
        L.append("")
        L.append("Filled through the index (no data files), page cache dropped (%s), then "
                 "`hydrant serve` started; pages of 1,000 keys over plain HTTP." % st["cache_drop"])
        L.append("")
        L.append("| Index MiB | Listening s | Put accepted s | RSS MiB (peak) | First page ms | "
                 "Page p50 / max ms | Delimiter page p50 / max ms |")
        L.append("|---|---|---|---|---|---|---|")
        L.append("| %s | %s | %s | %s (%s) | %s | %s / %s | %s / %s |" % (
            fmt(st["index_mib"], 0), fmt(st["listen_s"], 3), fmt(st["put_s"], 3),
            fmt(st["rss_mib"], 0), fmt(st["rss_hwm_mib"], 0), fmt(st["first_page_ms"], 1),
            fmt(st["page_p50_ms"], 1), fmt(st["page_max_ms"], 1),
            fmt(st["delimiter_page_p50_ms"], 1), fmt(st["delimiter_page_max_ms"], 1)))
        L.append("")
        targets.append(("Store start with %s objects, cold cache: puts accepted" % fmt(st["objects"]),
                        "<= 1 s", "%s s" % fmt(st["put_s"], 3), st["put_s"] <= 1))
        targets.append(("Store with %s objects: peak RSS" % fmt(st["objects"]), "< 256 MiB",
                        "%s MiB" % fmt(st["rss_hwm_mib"], 0), st["rss_hwm_mib"] < 256))
        targets.append(("ListObjectsV2 page of 1,000 keys (max)", "< 50 ms",
                        "%s ms" % fmt(st["page_max_ms"], 1), st["page_max_ms"] < 50))
    rss = []
    for key in ("ingest_hydrant",):
        for r in res.get(key) or []:
            rss.append(r["rss_mib"] or 0)
    for key in ("ingest_tls", "ingest_sigv4", "ingest_encrypted"):
        for r in res.get(key) or []:
            rss += [r[k]["rss_mib"] or 0 for k in ("plain", "tls", "sigv4", "encrypted") if k in r]
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
