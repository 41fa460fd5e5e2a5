"""Writes the event lake the `lake` tests read, with pyarrow, and the same kept rows as CSVs.

    python write_lake.py OUT_DIR

OUT_DIR/lake/dt=2024-05-0{1,2,3}/part-0.parquet: three days of events, each day's file with
other column types (string / int64 / int32 ids; int64 seconds, TIMESTAMP(ms), int32 seconds;
double / float / all-null event values), compression (snappy, zstd) and row groups; a session
that shows its user only on a later day, a session that never shows one, an event without an
item, an EVENT_ID written again the next day, PROPERTIES with a `device` key; plus files a
reader must skip (_SUCCESS, a .crc). OUT_DIR/expected.csv and OUT_DIR/expected-since.csv hold
the interactions a reader must keep (all days, and from 2024-05-02 on) with users resolved, and
OUT_DIR/expected.json the counts of the rows left out.
"""

import json
import os
import random
import sys

import pyarrow as pa
import pyarrow.parquet as pq

out = sys.argv[1]
rnd = random.Random(7)
items = [str(101 + i) for i in range(30)]
users = [str(1000 + i) for i in range(40)]
DAY0 = 1714521600  # 2024-05-01T00:00:00Z
days = ["2024-05-01", "2024-05-02", "2024-05-03"]

# Per day: rows as dicts; `keep` is the user the reader must count the row for (None: dropped).
rows = {d: [] for d in days}
serial = 0


def event(day, user, session, item, ts, etype="View", value=None, device=None, keep="same"):
    global serial
    serial += 1
    r = {
        "EVENT_ID": f"ev-{serial:05d}",
        "USER_ID": user,
        "SESSION_ID": session,
        "ITEM_ID": item,
        "TIMESTAMP": ts,
        "EVENT_TYPE": etype,
        "EVENT_VALUE": value,
        "DEVICE": device,
        "keep": user if keep == "same" else keep,
    }
    rows[day].append(r)
    return r


for d, day in enumerate(days):
    t = DAY0 + d * 86400
    for u in users:
        for k in range(rnd.randint(2, 5)):
            t += rnd.randint(1, 90)
            etype = rnd.choices(["View", "AddToCart", "Purchase"], [7, 2, 1])[0]
            value = rnd.choice([1.0, 2.5, 4.0]) if etype == "Purchase" else None
            device = rnd.choice(["mobile", "desktop"]) if d != 1 else None
            event(day, u, f"s-{u}-{d}", rnd.choice(items), t, etype, value, device)
        if u == "1003" and d == 0:
            # An anonymous event of a session that shows its user two days later.
            event(day, None, "sess-a", "105", t + 5, keep="1005")
            # A page view: no item, not an interaction.
            event(day, u, f"s-{u}-{d}", None, t + 6, keep=None)
        if u == "1005" and d == 2:
            event(day, "1005", "sess-a", "106", t + 7)
        if u == "1010" and d == 2:
            event(day, None, "sess-lonely", "107", t + 8, keep="sess-lonely")
            event(day, None, "sess-lonely", "108", t + 9, keep="sess-lonely")

# The second day's 10th event, written again on the third day (a retried batch).
dup = dict(rows["2024-05-02"][10])
dup["keep"] = None
rows["2024-05-03"].insert(3, dup)

lake = os.path.join(out, "lake")


def column(day, name, values):
    if name in ("USER_ID",) and day == "2024-05-02":
        return pa.array([None if v is None else int(v) for v in values], pa.int64())
    if name == "ITEM_ID" and day == "2024-05-03":
        return pa.array([None if v is None else int(v) for v in values], pa.int32())
    if name == "TIMESTAMP":
        if day == "2024-05-02":
            # Milliseconds past the second: the reader floors them.
            return pa.array([v * 1000 + 123 for v in values], pa.timestamp("ms", tz="UTC"))
        if day == "2024-05-03":
            return pa.array(values, pa.int32())
        return pa.array(values, pa.int64())
    if name == "EVENT_VALUE":
        if day == "2024-05-02":
            return pa.array(values, pa.float32())
        if day == "2024-05-03":
            return pa.array([None] * len(values), pa.float64())
        return pa.array(values, pa.float64())
    return pa.array(values, pa.string())


for day in days:
    rs = rows[day]
    names = ["EVENT_ID", "USER_ID", "SESSION_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE"]
    cols = {n: column(day, n, [r[n] for r in rs]) for n in names}
    if day != "2024-05-02":
        cols["PROPERTIES"] = pa.array(
            [json.dumps({"device": r["DEVICE"], "pageType": None}) if r["DEVICE"] else None for r in rs],
            pa.string(),
        )
    table = pa.table(cols)
    folder = os.path.join(lake, f"dt={day}")
    os.makedirs(folder, exist_ok=True)
    compression = "snappy" if day == "2024-05-01" else "zstd"
    pq.write_table(table, os.path.join(folder, "part-0.parquet"), compression=compression, row_group_size=64)
open(os.path.join(lake, "dt=2024-05-01", "_SUCCESS"), "w").close()
open(os.path.join(lake, "dt=2024-05-01", ".part-0.parquet.crc"), "w").write("junk")


def value_text(v):
    return "" if v is None else repr(float(v))


def expected(first_day):
    lines = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,DEVICE"]
    counts = {"rows": 0, "kept": 0, "duplicates": 0, "no_item": 0, "attributed": 0, "anonymous": 0}
    for day in days:
        if day < first_day:
            continue
        for r in rows[day]:
            counts["rows"] += 1
            user = r["keep"]
            if user is None:
                counts["no_item" if r["ITEM_ID"] is None else "duplicates"] += 1
                continue
            if user == "1005" and r["USER_ID"] is None and first_day > days[0]:
                continue
            if r["USER_ID"] is None:
                counts["attributed" if user != r["SESSION_ID"] else "anonymous"] += 1
            counts["kept"] += 1
            device = r["DEVICE"] or ""
            lines.append(f"{user},{r['ITEM_ID']},{r['TIMESTAMP']},{r['EVENT_TYPE']},{value_text(r['EVENT_VALUE'])},{device}")
    return "\n".join(lines) + "\n", counts


full, full_counts = expected(days[0])
since, since_counts = expected(days[1])
open(os.path.join(out, "expected.csv"), "w").write(full)
open(os.path.join(out, "expected-since.csv"), "w").write(since)
json.dump({"all": full_counts, "since": since_counts}, open(os.path.join(out, "expected.json"), "w"))
