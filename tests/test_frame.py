"""The sampling frame: read, checked against the sample, refused with a message naming the year and both numbers.

The example samples 248, 247, 247 and 247 reports in 2009, 2010, 2014 and 2015; the public frame's 2015 count
(216, tests/fixtures/r/frame_too_small.csv) is fewer than the 247 sampled, a design R's survey refuses too.
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.cli import main
from analysis.tables.compare import before_after, check_frame, sampled_reports
from analysis.tables.standard import FrameError, parse_frame

from .conftest import EXAMPLE
from .test_r_fixtures import fixture

SAMPLED = {2009: 248, 2010: 247, 2014: 247, 2015: 247}
TOO_SMALL = "2015 has 216 reports in the frame but 247 were sampled"


def _frame_csv(tmp_path, rows: dict) -> str:
    path = tmp_path / "frame.csv"
    path.write_text("year,reports\n" + "".join(f"{y},{n}\n" for y, n in rows.items()))
    return str(path)


def test_check_frame_names_the_year_and_both_numbers():
    small = fixture("frame_too_small").set_index("report_year")["frame_reports"].to_dict()
    assert small == {2009: 1136, 2010: 910, 2014: 259, 2015: 216}
    with pytest.raises(FrameError, match=f"sampling frame: {TOO_SMALL}"):
        check_frame(small, SAMPLED)
    with pytest.raises(FrameError, match="sampling frame: no count of reports for 2015, where 247 reports were sampled"):
        check_frame({2009: 1136, 2010: 910, 2014: 420}, SAMPLED)
    check_frame({2009: 1136, 2010: 910, 2014: 420, 2015: 247}, SAMPLED)  # a census of a year is a frame too


def test_parse_frame_reads_whole_numbers_and_names_the_bad_value():
    assert parse_frame(pd.DataFrame({"Year": ["2009", "2010"], "reports": ["1136", "910.0"]})) == {2009: 1136,
                                                                                                 2010: 910}
    with pytest.raises(FrameError, match=r"frame.csv, row 3: the count of reports for 2015 must be a whole number of "
                                         r"at least 1 \(got 'many'\)$"):
        parse_frame(pd.DataFrame({"year": ["2014", "2015"], "reports": ["420", "many"]}), source="frame.csv")
    # with the sample known, the message also says how many were sampled that year
    with pytest.raises(FrameError, match=r"for 2015 must be a whole number of at least 1 \(got '2.5'\) \(247 reports "
                                         r"were sampled in 2015\)"):
        parse_frame(pd.DataFrame({"year": ["2015"], "reports": ["2.5"]}), sampled={2015: 247})
    with pytest.raises(FrameError, match="row 3: the year must be a whole number"):
        parse_frame(pd.DataFrame({"year": ["2009", "x"], "reports": ["1", "2"]}))
    with pytest.raises(FrameError, match=r"row 3: 2009 is given twice \(1136 and 1100 reports\)"):
        parse_frame(pd.DataFrame({"year": ["2009", "2009"], "reports": ["1136", "1100"]}))
    with pytest.raises(FrameError, match=TOO_SMALL):
        parse_frame(pd.DataFrame({"year": ["2015"], "reports": ["216"]}), sampled={2015: 247})


@pytest.fixture(scope="module")
def derived():
    from analysis.derive.variables import derive
    from analysis.intake.load import load_coded_tables
    from analysis.intake.validate import validate_tables

    return derive(validate_tables(load_coded_tables(EXAMPLE)).valid)


def test_tables_refuse_the_frame_for_incidents_and_persons(derived, cb, cfg):
    assert sampled_reports(derived["incidents"]) == SAMPLED
    small = {2009: 1136, 2010: 910, 2014: 259, 2015: 216}
    for table in ("incidents", "persons"):
        with pytest.raises(FrameError, match=TOO_SMALL):
            before_after(derived[table], table, frame=small, codebook=cb, config=cfg)


def test_cli_tables_exits_2_naming_2015_216_and_247(tmp_path, capsys):
    frame = _frame_csv(tmp_path, {2009: 1136, 2010: 910, 2014: 259, 2015: 216})
    assert main(["tables", str(EXAMPLE), "--out", str(tmp_path / "out"), "--frame", frame]) == 2
    err = capsys.readouterr().err
    assert TOO_SMALL in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing written from a refused frame


def test_cli_tables_exits_2_for_a_missing_year_and_a_bad_count(tmp_path, capsys):
    frame = _frame_csv(tmp_path, {2009: 1136, 2010: 910, 2014: 420})
    assert main(["tables", str(EXAMPLE), "--out", str(tmp_path / "a"), "--frame", frame]) == 2
    assert "no count of reports for 2015, where 247 reports were sampled" in capsys.readouterr().err
    frame = _frame_csv(tmp_path, {2009: 1136, 2010: 910, 2014: 420, 2015: "n/a"})
    assert main(["tables", str(EXAMPLE), "--out", str(tmp_path / "b"), "--frame", frame]) == 2
    assert "row 5: the count of reports for 2015 must be a whole number of at least 1 (got 'n/a')" in \
        capsys.readouterr().err


def test_cli_report_exits_2_naming_2015_216_and_247(tmp_path, capsys):
    # refused at the tables stage, right after validate + derive (about 2 s): nothing of the run is kept
    frame = _frame_csv(tmp_path, {2009: 1136, 2010: 910, 2014: 259, 2015: 216})
    code = main(["report", str(EXAMPLE), "--out", str(tmp_path / "reports"), "--derived", str(tmp_path / "derived"),
                 "--frame", frame, "--no-notebooks", "--n-boot", "20", "--run-date", "2017-11-15",
                 "--sfpd-dir", str(tmp_path / "no_sfpd")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert TOO_SMALL in err and "Traceback" not in err
    assert not (tmp_path / "reports" / "2017-11-15").exists()  # no finished run folder
