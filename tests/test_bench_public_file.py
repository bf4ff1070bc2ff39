"""The benchmark's big DataSF-shaped file (bench/make_big_public.py, issue 15): same bytes for the same
arguments, the DataSF historical CSV form, a clear refusal without the shared SFPD folder."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from analysis.scheme.config import paths

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import make_big_public  # noqa: E402

needs_shared = pytest.mark.skipif(not paths().shared_sfpd.is_dir(), reason="the shared SFPD folder is not here")


@needs_shared
def test_same_arguments_same_bytes_in_the_datasf_form(tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    assert make_big_public.main([str(a), "--rows", "20000"]) == 0
    assert make_big_public.main([str(b), "--rows", "20000"]) == 0
    assert make_big_public.main([str(c), "--rows", "20000", "--seed", "1"]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    with a.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["IncidntNum", "Category", "Descript", "DayOfWeek", "Date", "Time", "PdDistrict",
                       "Resolution", "Address", "X", "Y", "Location", "PdId"]
    assert len(rows) == 20001 and all(len(r) == 13 for r in rows)
    prost = [r for r in rows[1:] if r[1] == "PROSTITUTION"]
    assert 0.004 < len(prost) / 20000 < 0.012  # about 0.75% in the real series
    assert not any("TRAFFICKING" in r[2] or "PROSTITUTION" in r[2] for r in rows[1:] if r[1] != "PROSTITUTION")
    assert all(r[12].startswith(r[0]) and len(r[12]) == len(r[0]) + 5 for r in rows[1:])
    assert rows[1][4] == "01/01/2003" and rows[-1][4].endswith("/2018")

    from analysis.public.load import load_public, select_prostitution

    frame = load_public(a)
    assert frame.attrs["source_format"] == "datasf_csv" and len(frame) == 20000
    assert len(select_prostitution(frame)) == len(prost)


def test_says_so_without_the_shared_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ANALYSIS_SFPD_DIR", str(tmp_path / "nowhere"))
    out = tmp_path / "big.csv"
    assert make_big_public.main([str(out), "--rows", "3000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"make_big_public: cannot make the benchmark file: the shared SFPD data folder "
                          f"{tmp_path / 'nowhere'} was not found.")
    assert "ANALYSIS_SFPD_DIR" in err
    assert not out.exists() and not list(tmp_path.glob("*.part"))
