"""Write a big file in the DataSF historical incident CSV format, for the public-record benchmark (issue 15).

    python bench/make_big_public.py [OUT.csv] [--rows 2100000] [--seed 20171115]

The real historical export (DataSF tmnf-yvry, 2003 to May 2018) has about 2.2 million rows, one per offence
code of an incident, with the columns IncidntNum, Category, Descript, DayOfWeek, Date, Time, PdDistrict,
Resolution, Address, X, Y, Location, PdId. This script makes a file of that shape from the public files in
the shared SFPD folder (``analysis.scheme.config.paths().shared_sfpd``; see its PROVENANCE.md), resampling
them; it never copies that folder into the repository, and its output goes under bench/results/ (git-ignored)
unless you name another path. Same arguments, same bytes (numpy's Generator with a fixed seed; numpy is
pinned). Nothing is downloaded.

How the rows are made:

* **How many rows per day, and how many of them prostitution.** Every calendar day from 2003-01-01 to
  2018-05-15 gets the all-categories count of ``sfpd_all_categories_daily_2003_2015.csv`` for that day and
  the PROSTITUTION count of ``sfpd_prostitution_daily_2003_2015.csv`` (0 where a day is absent). The days
  after those files end (mid-December 2015) take the counts of the day 156 weeks earlier (same weekday).
  Both series are scaled by one factor so the file has ``--rows`` rows (cumulative rounding, so the total is
  exact): prostitution is then about 0.75% of the rows, as in the real series. Those files date a row by its
  timestamp plus 12 hours; the rows written here undo that (a time from 12:00 on goes to the day before).
* **Prostitution rows** resample *incidents* of ``sfpd_prostitution_kaggle_train_rows_2003_2015.csv`` (rows
  with the same timestamp and address form one incident, 1.29 rows each on average) from the same year
  (2013-2015 for the years after the Kaggle file): their descriptions, district, resolution, address,
  coordinates and time of day, until the day's count is reached.
* **Every other row** is invented: categories in the shares of the whole SFPD series (larceny/theft 20%,
  other offences 14%, non-criminal 11%, ...), a few plausible SFPD descriptions per category (none naming
  prostitution or human trafficking), the day's share of unresolved rows (``Not Solved``) as resolution
  NONE, a district in the series' shares, an address (block or intersection) on a street of that district
  and coordinates around the district; incidents of 1.33 rows on average; about 1 in 10,000 incidents has
  SFPD's invalid coordinates (X -120.5, Y 90), and about 2 rows in a million a blank district.
* **Numbers**: IncidntNum is the two-digit year and a 7-digit sequence in date order (e.g. 090215742), PdId
  the incident number, a 4-digit offence code of the description and the row's place in its incident.

The file is written in date order. Exit codes: 0 written; 2 the shared SFPD folder or one of its files is
missing (the message says where it looked and how to point elsewhere: ANALYSIS_SFPD_DIR).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import sys
from pathlib import Path

import numpy as np

DEFAULT_ROWS = 2_100_000
DEFAULT_SEED = 20171115
FIRST_DAY, LAST_DAY = dt.date(2003, 1, 1), dt.date(2018, 5, 15)  # the historical dataset: 2003 to mid-May 2018
SHIFT_DAYS = 156 * 7  # days after the daily files end take the counts of the day 156 weeks (same weekday) before
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_OUT = RESULTS / "datasf_historical_big.csv"
HEADER = ["IncidntNum", "Category", "Descript", "DayOfWeek", "Date", "Time", "PdDistrict", "Resolution",
          "Address", "X", "Y", "Location", "PdId"]
FILES = {
    "all": "sfpd_all_categories_daily_2003_2015.csv",
    "prostitution": "sfpd_prostitution_daily_2003_2015.csv",
    "kaggle": "sfpd_prostitution_kaggle_train_rows_2003_2015.csv",
}
EXIT_OK, EXIT_MISSING = 0, 2

# Categories of the whole series other than PROSTITUTION, with their approximate share of rows (Kaggle's
# 2003-2015 training rows), and invented but SFPD-like descriptions with their weights.
CATEGORIES: dict[str, tuple[float, dict[str, float]]] = {
    "LARCENY/THEFT": (19.9, {"GRAND THEFT FROM LOCKED AUTO": 6, "PETTY THEFT OF PROPERTY": 3,
                             "PETTY THEFT FROM LOCKED AUTO": 2, "GRAND THEFT OF PROPERTY": 2,
                             "PETTY THEFT SHOPLIFTING": 1.5, "GRAND THEFT FROM PERSON": 1,
                             "THEFT, BICYCLE, <$50, NO SERIAL NUMBER": 0.3}),
    "OTHER OFFENSES": (14.4, {"DRIVERS LICENSE, SUSPENDED OR REVOKED": 3, "TRAFFIC VIOLATION": 2,
                              "RESISTING ARREST": 1.5, "PROBATION VIOLATION": 1.5, "PAROLE VIOLATION": 1,
                              "MISCELLANEOUS INVESTIGATION": 1}),
    "NON-CRIMINAL": (10.5, {"LOST PROPERTY": 3, "AIDED CASE, MENTAL DISTURBED": 2, "FOUND PROPERTY": 1.5,
                            "STAY AWAY OR COURT ORDER, NON-DV RELATED": 1, "CASE CLOSURE": 0.5}),
    "ASSAULT": (8.8, {"BATTERY": 4, "THREATS AGAINST LIFE": 2, "INFLICT INJURY ON COHABITEE": 1.5,
                      "AGGRAVATED ASSAULT WITH A DEADLY WEAPON": 1.5}),
    "DRUG/NARCOTIC": (6.1, {"POSSESSION OF NARCOTICS PARAPHERNALIA": 2, "POSSESSION OF BASE/ROCK COCAINE": 1.5,
                            "POSSESSION OF MARIJUANA": 1, "SALE OF BASE/ROCK COCAINE": 1}),
    "VEHICLE THEFT": (6.1, {"STOLEN AUTOMOBILE": 4, "STOLEN TRUCK": 1, "STOLEN MOTORCYCLE": 0.7}),
    "VANDALISM": (5.1, {"MALICIOUS MISCHIEF, VANDALISM OF VEHICLES": 2, "MALICIOUS MISCHIEF, VANDALISM": 3}),
    "WARRANTS": (4.8, {"WARRANT ARREST": 3, "ENROUTE TO OUTSIDE JURISDICTION": 1}),
    "BURGLARY": (4.2, {"BURGLARY OF RESIDENCE, FORCIBLE ENTRY": 2, "BURGLARY OF STORE, UNLAWFUL ENTRY": 1,
                       "BURGLARY, VEHICLE (ARREST MADE)": 0.5}),
    "SUSPICIOUS OCC": (3.6, {"SUSPICIOUS OCCURRENCE": 4, "INVESTIGATIVE DETENTION": 1}),
    "MISSING PERSON": (3.0, {"FOUND PERSON": 1, "MISSING ADULT": 1, "MISSING JUVENILE": 1}),
    "ROBBERY": (2.6, {"ROBBERY, BODILY FORCE": 2, "ROBBERY ON THE STREET WITH A GUN": 1,
                      "ATTEMPTED ROBBERY ON THE STREET WITH BODILY FORCE": 0.5}),
    "FRAUD": (1.9, {"CREDIT CARD, THEFT BY USE OF": 1, "FRAUDULENT GAME OR TRICK, OBTAINING MONEY OR PROPERTY": 0.5}),
    "FORGERY/COUNTERFEITING": (1.2, {"CHECKS, FORGERY (FELONY)": 1, "COUNTERFEITING, COINS OR NOTES": 0.4}),
    "SECONDARY CODES": (1.1, {"DOMESTIC VIOLENCE": 2, "JUVENILE INVOLVED": 1, "GANG ACTIVITY": 0.3}),
    "WEAPON LAWS": (1.0, {"POSS OF PROHIBITED WEAPON": 1, "CARRYING CONCEALED WEAPON": 0.6}),
    "TRESPASS": (0.8, {"TRESPASSING": 1}),
    "STOLEN PROPERTY": (0.5, {"STOLEN PROPERTY, POSSESSION WITH KNOWLEDGE, RECEIVING": 1}),
    "SEX OFFENSES, FORCIBLE": (0.5, {"SEXUAL BATTERY": 1, "ASSAULT TO RAPE WITH BODILY FORCE": 0.5}),
    "DISORDERLY CONDUCT": (0.5, {"COMMITTING PUBLIC NUISANCE": 1, "MAINTAINING A PUBLIC NUISANCE": 0.3}),
    "DRUNKENNESS": (0.5, {"UNDER INFLUENCE OF ALCOHOL IN A PUBLIC PLACE": 1}),
    "RECOVERED VEHICLE": (0.4, {"VEHICLE, RECOVERED, AUTO": 1}),
    "KIDNAPPING": (0.2, {"KIDNAPPING, ADULT VICTIM": 1, "FALSE IMPRISONMENT": 0.5}),
    "DRIVING UNDER THE INFLUENCE": (0.26, {"DRIVING WHILE UNDER THE INFLUENCE OF ALCOHOL": 1}),
    "RUNAWAY": (0.2, {"RUNAWAY": 1}),
    "LIQUOR LAWS": (0.2, {"SELLING RESTRICTED GLASS-CONTAINED BEVERAGES": 0.3, "MINOR PURCHASING ALCOHOL": 1}),
    "ARSON": (0.17, {"ARSON OF A VEHICLE": 1, "ARSON": 1}),
    "LOITERING": (0.14, {"LOITERING WHERE NARCOTICS ARE SOLD/USED": 1, "LODGING WITHOUT PERMISSION": 1}),
    "EMBEZZLEMENT": (0.13, {"EMBEZZLEMENT, GRAND THEFT BY EMPLOYEE": 1}),
    "SUICIDE": (0.06, {"ATTEMPTED SUICIDE BY CUTTING": 1}),
    "FAMILY OFFENSES": (0.05, {"CHILD ABUSE (PHYSICAL)": 1}),
    "BAD CHECKS": (0.04, {"CHECKS, NON-SUFFICIENT FUNDS WITH INTENT TO DEFRAUD": 1}),
    "BRIBERY": (0.03, {"BRIBERY": 1}),
    "EXTORTION": (0.03, {"EXTORTION": 1}),
    "SEX OFFENSES, NON FORCIBLE": (0.02, {"UNLAWFUL SEXUAL INTERCOURSE": 1}),
    "GAMBLING": (0.02, {"GAMBLING": 1}),
}

# Districts: share of non-prostitution rows, approximate centre (lon, lat) and some streets in them.
DISTRICTS: dict[str, tuple[float, tuple[float, float], list[str]]] = {
    "SOUTHERN": (17.9, (-122.402, 37.780), ["MARKET ST", "MISSION ST", "HOWARD ST", "FOLSOM ST", "6TH ST",
                                            "BRYANT ST", "4TH ST", "KING ST"]),
    "MISSION": (13.7, (-122.419, 37.759), ["MISSION ST", "VALENCIA ST", "16TH ST", "24TH ST", "CAPP ST",
                                           "SHOTWELL ST", "SOUTH VAN NESS AV", "FOLSOM ST"]),
    "NORTHERN": (12.0, (-122.428, 37.786), ["POLK ST", "VANNESS AV", "GEARY BL", "FILLMORE ST", "LOMBARD ST",
                                            "DIVISADERO ST", "SUTTER ST", "OFARRELL ST"]),
    "BAYVIEW": (10.2, (-122.391, 37.731), ["3RD ST", "PALOU AV", "INGALLS ST", "EVANS AV", "OAKDALE AV",
                                           "WILLIAMS AV", "JENNINGS ST"]),
    "CENTRAL": (9.9, (-122.410, 37.797), ["BROADWAY ST", "COLUMBUS AV", "KEARNY ST", "STOCKTON ST",
                                          "POWELL ST", "GEARY ST", "BUSH ST"]),
    "TENDERLOIN": (9.3, (-122.414, 37.783), ["EDDY ST", "ELLIS ST", "JONES ST", "TURK ST", "LEAVENWORTH ST",
                                             "TAYLOR ST", "HYDE ST"]),
    "INGLESIDE": (9.0, (-122.431, 37.724), ["MISSION ST", "GENEVA AV", "ALEMANY BL", "OCEAN AV",
                                            "SAN JOSE AV", "SILVER AV"]),
    "TARAVAL": (7.5, (-122.481, 37.741), ["TARAVAL ST", "19TH AV", "SLOAT BL", "NORIEGA ST", "OCEAN AV",
                                          "SUNSET BL"]),
    "PARK": (5.6, (-122.446, 37.768), ["HAIGHT ST", "STANYAN ST", "MASONIC AV", "FELL ST", "OAK ST",
                                       "CASTRO ST"]),
    "RICHMOND": (5.2, (-122.478, 37.779), ["GEARY BL", "CLEMENT ST", "BALBOA ST", "FULTON ST", "ANZA ST",
                                           "ARGUELLO BL"]),
}
# Resolutions of a resolved (not NONE) non-prostitution incident, with weights.
RESOLVED = {"ARREST, BOOKED": 62, "ARREST, CITED": 18, "UNFOUNDED": 3, "JUVENILE BOOKED": 2.5, "LOCATED": 2,
            "PSYCHOPATHIC CASE": 3, "NOT PROSECUTED": 1.2, "EXCEPTIONAL CLEARANCE": 1, "JUVENILE CITED": 1,
            "COMPLAINANT REFUSES TO PROSECUTE": 1, "DISTRICT ATTORNEY REFUSES TO PROSECUTE": 1,
            "CLEARED-CONTACT JUVENILE FOR MORE INFO": 0.7, "JUVENILE ADMONISHED": 0.5,
            "PROSECUTED BY OUTSIDE AGENCY": 0.6, "JUVENILE DIVERTED": 0.2, "PROSECUTED FOR LESSER OFFENSE": 0.1}
# Hour of day (0-23) weights of incident times, and minutes: SFPD times cluster on the hour and half hour.
HOURS = np.array([55, 35, 30, 20, 14, 12, 18, 28, 40, 45, 48, 50, 65, 55, 56, 58, 62, 66, 70, 62, 58, 55, 52,
                  45], dtype=float)
NEW_INCIDENT = 0.75  # a row starts a new incident with this chance (geometric sizes, 1.33 rows on average)
BAD_XY = 1e-4  # incidents with SFPD's invalid coordinates (X -120.5, Y 90)
BLANK_DISTRICT = 2e-6


class MissingData(Exception):
    pass


def shared_folder() -> Path:
    from analysis.scheme.config import paths

    return paths().shared_sfpd


def check_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise MissingData(f"the shared SFPD data folder {folder} was not found. This benchmark resamples the "
                          "public SFPD files in it (see its PROVENANCE.md); set ANALYSIS_SFPD_DIR to the folder "
                          "that holds them.")
    missing = [f for f in FILES.values() if not (folder / f).is_file()]
    if missing:
        raise MissingData(f"the shared SFPD data folder {folder} lacks {', '.join(missing)}; set "
                          "ANALYSIS_SFPD_DIR to a folder with the files listed in PROVENANCE.md.")


def _daily(path: Path, value) -> dict[dt.date, tuple[int, int]]:
    out = {}
    with path.open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            out[dt.date.fromisoformat(r["Date"])] = value(r)
    return out


def _scaled(x: np.ndarray, factor: float) -> np.ndarray:
    """Round ``x * factor`` to whole numbers so that every running total is rounded too (exact total)."""
    c = np.floor(np.cumsum(x * factor) + 0.5).astype(np.int64)
    return np.diff(np.concatenate([[0], c]))


def day_counts(folder: Path, rows: int):
    """Per day from FIRST_DAY to LAST_DAY: all rows, prostitution rows, and the share of unresolved rows."""
    all_days = _daily(folder / FILES["all"], lambda r: (int(r["Solved"]) + int(r["Not Solved"]), int(r["Not Solved"])))
    prost = _daily(folder / FILES["prostitution"], lambda r: (int(r["Solved"]) + int(r["Not Solved"]), 0))
    last_all = max(all_days)
    n = (LAST_DAY - FIRST_DAY).days + 1
    days = [FIRST_DAY + dt.timedelta(i) for i in range(n)]
    total, p, none = np.zeros(n), np.zeros(n), np.zeros(n)
    for i, d in enumerate(days):
        src = d
        while src > last_all:
            src -= dt.timedelta(SHIFT_DAYS)
        t, nn = all_days.get(src, (0, 0))
        total[i], none[i], p[i] = t, nn, prost.get(src, (0, 0))[0]
    factor = rows / total.sum()
    n_total = _scaled(total, factor)
    n_prost = np.minimum(_scaled(p, factor), n_total)
    share_none = np.divide(none, total, out=np.zeros(n), where=total > 0)
    return days, n_total, n_prost, share_none


def kaggle_incidents(folder: Path) -> dict[int, list[list[dict]]]:
    """The Kaggle prostitution rows grouped into incidents (same timestamp and address), by year."""
    groups: dict[tuple[str, str], list[dict]] = {}
    with (folder / FILES["kaggle"]).open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            groups.setdefault((r["Dates"], r["Address"]), []).append(r)
    by_year: dict[int, list[list[dict]]] = {}
    for (stamp, _), rows in sorted(groups.items()):
        by_year.setdefault(int(stamp[:4]), []).append(rows)
    return by_year


def _pick(rng: np.random.Generator, weights: dict[str, float], size: int) -> np.ndarray:
    keys = list(weights)
    w = np.array([weights[k] for k in keys], dtype=float)
    return rng.choice(len(keys), size=size, p=w / w.sum())


def _code(desc: str) -> str:
    """A 4-digit offence code for a description (stable: from its text)."""
    return f"{1000 + int(hashlib.sha256(desc.encode()).hexdigest(), 16) % 9000:04d}"


def generate(folder: Path, writer, rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED) -> dict:
    """Write the rows (in date order) with ``writer.writerows`` and return a summary."""
    check_folder(folder)
    rng = np.random.default_rng(seed)
    days, n_total, n_prost, share_none = day_counts(folder, rows)
    kaggle = kaggle_incidents(folder)
    late_pool = [g for y in (2013, 2014, 2015) for g in kaggle.get(y, [])]

    # prostitution incidents, resampled from the Kaggle incidents of the year: (bucket day, minutes, rows)
    prost = []
    for i in np.nonzero(n_prost)[0]:
        y = days[i].year
        pool = kaggle.get(y) if len(kaggle.get(y, [])) >= 20 else late_pool
        need = int(n_prost[i])
        while need > 0:
            g = pool[int(rng.integers(len(pool)))][:need]
            need -= len(g)
            hh, mm = g[0]["Dates"][11:13], g[0]["Dates"][14:16]
            prost.append((int(i), int(hh) * 60 + int(mm), g))

    # every other row, invented: arrays over rows (m) and incidents (k)
    n_other = n_total - n_prost
    m = int(n_other.sum())
    day_of_row = np.repeat(np.arange(len(days)), n_other)
    starts = rng.random(m) < NEW_INCIDENT
    starts[np.concatenate([[0], np.cumsum(n_other)[:-1]])[n_other > 0]] = True  # each day starts afresh
    k = int(starts.sum())
    inc_day = day_of_row[starts]
    cat_names = list(CATEGORIES)
    cat = _pick(rng, {c: CATEGORIES[c][0] for c in cat_names}, m)
    desc_u = rng.random(m)
    offences: list[tuple[str, str]] = []
    desc_of_row = np.empty(m, dtype=np.int64)
    for ci, c in enumerate(cat_names):
        names = list(CATEGORIES[c][1])
        w = np.cumsum(np.array(list(CATEGORIES[c][1].values()), dtype=float))
        sel = cat == ci
        pick = np.minimum(np.searchsorted(w / w[-1], desc_u[sel], side="right"), len(names) - 1)
        desc_of_row[sel] = len(offences) + pick
        offences.extend((c, d) for d in names)
    dist_names = list(DISTRICTS)
    dist = _pick(rng, {d: DISTRICTS[d][0] for d in dist_names}, k)
    hour = rng.choice(24, size=k, p=HOURS / HOURS.sum())
    minute_u = rng.random(k)
    minute = np.where(minute_u < 0.4, 0, np.where(minute_u < 0.5, 30, rng.integers(0, 60, size=k)))
    unresolved = rng.random(k) < share_none[inc_day]
    resolved = _pick(rng, RESOLVED, k)
    block = rng.integers(0, 36, size=k) * 100
    street_u = rng.random((k, 2))
    intersection = rng.random(k) < 0.3
    dx, dy = rng.normal(0, 0.008, size=k), rng.normal(0, 0.006, size=k)
    bad_xy = rng.random(k) < BAD_XY
    blank = rng.random(k) < BLANK_DISTRICT
    row_lo = np.nonzero(starts)[0]
    row_hi = np.append(row_lo[1:], m)

    # all incidents: calendar day (a time from 12:00 belongs to the day before the daily files' date)
    n_p = len(prost)
    bucket = np.concatenate([np.array([p[0] for p in prost], dtype=np.int64), inc_day])
    minutes = np.concatenate([np.array([p[1] for p in prost], dtype=np.int64), hour * 60 + minute])
    cal = np.maximum(bucket - (minutes >= 720), 0)  # none before the series' first day
    order = np.lexsort((np.arange(n_p + k), minutes, cal))  # date, time, then prostitution first
    day0 = FIRST_DAY - dt.timedelta(1)
    cal_dates = [day0 + dt.timedelta(i + 1) for i in range(-1, len(days))]  # cal_dates[c + 1] = days[c]
    year = np.array([d.year for d in cal_dates])[cal[order] + 1]
    first_of_year = np.searchsorted(year, year, side="left")
    seq = np.arange(len(order)) - first_of_year + 1

    # write, a block of incidents at a time (Python lists only for the block: memory stays small)
    arrays = {"dist": dist, "unresolved": unresolved, "resolved": resolved, "block": block, "s1": street_u[:, 0],
              "s2": street_u[:, 1], "intersection": intersection, "dx": dx, "dy": dy, "bad": bad_xy,
              "blank": blank, "lo": row_lo, "hi": row_hi}
    resolved_names = list(RESOLVED)
    codes: dict[tuple[str, str], str] = {}
    day_text: dict[int, tuple[str, str]] = {}
    n_rows = n_prost_rows = 0
    for a in range(0, len(order), 100_000):
        part = order[a : a + 100_000]
        j_part = np.maximum(part - n_p, 0)
        lists = {name: arr[j_part].tolist() for name, arr in arrays.items()}
        buf = []
        for q, (i, s, c, mins) in enumerate(zip(part.tolist(), seq[a : a + 100_000].tolist(),
                                                cal[part].tolist(), minutes[part].tolist())):
            d = cal_dates[c + 1]
            if c not in day_text:
                day_text[c] = (d.strftime("%A"), d.strftime("%m/%d/%Y"))
            weekday, date = day_text[c]
            number = f"{d.year % 100:02d}{s:07d}"
            time = f"{mins // 60:02d}:{mins % 60:02d}"
            if i < n_p:  # a resampled prostitution incident: its own district, resolution, place
                g = prost[i][2]
                r0 = g[0]
                x, y = r0["X"], r0["Y"]
                fields = (r0["PdDistrict"], r0["Resolution"], r0["Address"])
                offs = [(r["Category"], r["Descript"]) for r in g]
                n_prost_rows += len(offs)
            else:
                dname = dist_names[lists["dist"][q]]
                streets = DISTRICTS[dname][2]
                s1 = streets[int(lists["s1"][q] * len(streets))]
                s2 = streets[int(lists["s2"][q] * len(streets))]
                if lists["intersection"][q] and s2 != s1:
                    address = f"{s1} / {s2}"
                else:
                    address = f"{lists['block'][q]} Block of {s1}"
                if lists["bad"][q]:
                    x, y = "-120.5", "90.0"
                else:
                    cx, cy = DISTRICTS[dname][1]
                    x, y = f"{cx + lists['dx'][q]:.12f}", f"{cy + lists['dy'][q]:.12f}"
                resolution = "NONE" if lists["unresolved"][q] else resolved_names[lists["resolved"][q]]
                fields = ("" if lists["blank"][q] else dname, resolution, address)
                offs = [offences[r] for r in desc_of_row[lists["lo"][q] : lists["hi"][q]].tolist()]
            location = f"({y}, {x})"
            for place, off in enumerate(offs):
                code = codes.get(off) or codes.setdefault(off, _code(off[1]))
                buf.append((number, off[0], off[1], weekday, date, time, fields[0], fields[1], fields[2], x, y,
                            location, f"{number}{code}{place % 10}"))
            n_rows += len(offs)
        writer.writerows(buf)
    return {"rows": n_rows, "incidents": len(order), "prostitution_rows": n_prost_rows,
            "first_date": cal_dates[int(cal.min()) + 1].isoformat(), "last_date": cal_dates[int(cal.max()) + 1].isoformat()}


def write(folder: Path, out: Path, rows: int, seed: int) -> tuple[dict, str]:
    """Generate into ``out`` (LF line ends, minimal quoting); the summary and the file's sha256."""
    check_folder(folder)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        summary = generate(folder, w, rows, seed)
    tmp.replace(out)
    h = hashlib.sha256()
    with out.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return summary, h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?", default=str(DEFAULT_OUT), help=f"output CSV (default {DEFAULT_OUT})")
    ap.add_argument("--rows", type=int, default=DEFAULT_ROWS, help=f"rows to write (default {DEFAULT_ROWS})")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    args = ap.parse_args(argv)
    if args.rows < 1000:
        ap.error("--rows must be at least 1000")
    out = Path(args.out)
    try:
        summary, digest = write(shared_folder(), out, args.rows, args.seed)
    except MissingData as exc:
        print(f"make_big_public: cannot make the benchmark file: {exc}", file=sys.stderr)
        return EXIT_MISSING
    share = 100 * summary["prostitution_rows"] / summary["rows"]
    print(f"Wrote {summary['rows']:,} rows ({summary['incidents']:,} incidents, {summary['prostitution_rows']:,} "
          f"PROSTITUTION rows = {share:.2f}%), {summary['first_date']} to {summary['last_date']}, "
          f"{out.stat().st_size / 1e6:.0f} MB, to {out}")
    print(f"sha256 {digest}")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
