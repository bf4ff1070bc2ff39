"""The DataSF download, offline: the SoQL query, paging over recorded responses, and clear failures without a
network (no real request is made: the opener is replaced)."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.parse
from pathlib import Path

import pytest

from analysis.public import fetch, load_public, per_year
from analysis.public.fetch import FetchError

from .test_its import run_cli

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "public"
PAGES = [FIXTURES / f"socrata_tmnf-yvry_2011_2018_limit3_page{i}.json" for i in (1, 2, 3)]


class Replay:
    """An opener that answers each request with the next recorded page and remembers the requests."""

    def __init__(self, pages):
        self.pages = list(pages)
        self.requests = []

    def __call__(self, request, timeout):
        self.requests.append(request)
        return io.BytesIO(self.pages.pop(0).read_bytes())


def _query(request) -> dict[str, str]:
    url = request.full_url
    assert url.startswith("https://data.sfgov.org/resource/tmnf-yvry.json?")
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}


def test_the_soql_query():
    q = fetch.soql_params(2009, 2015, limit=1000, offset=2000)
    assert q == {
        "$where": "(category = 'PROSTITUTION' OR upper(category) like '%HUMAN TRAFFICKING%' OR upper(descript) "
                  "like '%HUMAN TRAFFICKING%') AND date >= '2009-01-01T00:00:00' AND date < '2016-01-01T00:00:00'",
        "$order": "date,pdid", "$limit": "1000", "$offset": "2000"}
    url = fetch.page_url(2009, 2015, 1000, 2000)
    assert "$limit=1000&$offset=2000" in url and "$order=date,pdid" in url


@pytest.mark.parametrize("since, until, message", [
    (2015, 2009, "--since 2015 is after --until 2009"),
    (2001, 2005, "dataset tmnf-yvry covers 2003 to 2018; got 2001 to 2005"),
])
def test_impossible_years(since, until, message):
    with pytest.raises(ValueError, match=message):
        fetch.soql_params(since, until)


def test_paging_over_recorded_responses():
    replay = Replay(PAGES)
    lines = []
    rows = fetch.fetch_rows(2011, 2018, page_size=3, opener=replay, progress=lines.append)
    assert len(rows) == 8 and len({r["incidntnum"] for r in rows}) == 4
    # three requests, offsets 0, 3, 6; the short third page ends the paging
    assert [(_query(r)["$limit"], _query(r)["$offset"]) for r in replay.requests] == [("3", "0"), ("3", "3"),
                                                                                      ("3", "6")]
    assert {_query(r)["$order"] for r in replay.requests} == {"date,pdid"}
    assert lines == ["page 1: 3 row(s) (offset 0)", "page 2: 3 row(s) (offset 3)", "page 3: 2 row(s) (offset 6)"]
    assert replay.requests[0].get_header("Accept") == "application/json"


def test_fetch_command_writes_a_file_the_loader_reads(tmp_path, monkeypatch, capsys):
    replay = Replay(PAGES)
    monkeypatch.setattr(fetch, "_default_opener", replay)
    out = tmp_path / "prostitution_2011_2018.json"
    assert run_cli(["public", "fetch", "--since", "2011", "--until", "2018", "--page-size", "3", str(out)]) == 0
    assert "Wrote 8 row(s) (4 distinct incident number(s))" in capsys.readouterr().out
    frame = load_public(out)
    assert frame.attrs["source_format"] == "socrata_json"
    assert per_year(frame).values.tolist() == [[2011, 3], [2018, 1]]  # incidents, not rows
    # CSV output: the same rows, read back as the same form
    replay = Replay(PAGES)
    monkeypatch.setattr(fetch, "_default_opener", replay)
    out_csv = tmp_path / "prostitution.csv"
    assert run_cli(["public", "fetch", "--since", "2011", "--until", "2018", "--page-size", "3", str(out_csv)]) == 0
    again = load_public(out_csv)
    assert again.attrs["source_format"] == "socrata_json" and len(again) == 8
    assert again["incident_number"].tolist() == frame["incident_number"].tolist()


def test_no_network_is_a_clear_error_and_exit_2(tmp_path, monkeypatch, capsys):
    def offline(request, timeout):
        raise urllib.error.URLError(OSError(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(fetch, "_default_opener", offline)
    out = tmp_path / "x.json"
    assert run_cli(["public", "fetch", "--since", "2009", "--until", "2015", str(out)]) == 2
    err = capsys.readouterr().err
    assert "error: cannot reach data.sfgov.org ([Errno -3] Temporary failure in name resolution). This command " \
           "needs internet access; without it, use the public files in ../shared/data/sfpd" in err
    assert "Traceback" not in err and not out.exists()


def test_http_error_and_non_json_answers():
    def refused(request, timeout):
        body = io.BytesIO(json.dumps({"message": "Unrecognized arguments [$foo]"}).encode())
        raise urllib.error.HTTPError(request.full_url, 400, "Bad Request", {}, body)

    with pytest.raises(FetchError) as exc:
        fetch.fetch_rows(2009, 2010, opener=refused)
    assert str(exc.value) == "data.sfgov.org answered HTTP 400 (Bad Request): Unrecognized arguments [$foo]"
    with pytest.raises(FetchError, match="data.sfgov.org sent a response that is not JSON"):
        fetch.fetch_rows(2009, 2010, opener=lambda r, timeout: io.BytesIO(b"<html>maintenance</html>"))
    with pytest.raises(FetchError, match="data.sfgov.org sent no records: query timed out"):
        fetch.fetch_rows(2009, 2010, opener=lambda r, timeout: io.BytesIO(b'{"message": "query timed out"}'))


def test_bad_years_exit_2(tmp_path, capsys):
    assert run_cli(["public", "fetch", "--since", "2016", "--until", "2010", str(tmp_path / "x.json")]) == 2
    assert "error: --since 2016 is after --until 2010" in capsys.readouterr().err
