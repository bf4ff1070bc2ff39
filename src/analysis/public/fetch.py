"""Download prostitution and trafficking rows of DataSF's historical SFPD incidents (tmnf-yvry) with SoQL.

For users with internet access. The query (:func:`soql_params`): rows of category PROSTITUTION or whose
category or description mentions HUMAN TRAFFICKING (the rule :data:`.schemas.PROSTITUTION_FILTER`, shared
with the loader), dated from 1 January of ``since`` to 31 December of ``until``, ordered by ``date, pdid``
(pdid is unique per row, so the order is stable while paging), fetched ``page_size`` rows at a time with
``$limit`` / ``$offset`` until a page comes back short.

Network failures raise :class:`FetchError` with a message for people (the CLI exits 2). The opener is a
parameter so tests replay recorded responses without a network.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable

from .schemas import DATASF_DOMAIN, DATASF_HISTORICAL_DATASET, DATASF_HISTORICAL_YEARS, PROSTITUTION_FILTER

DEFAULT_PAGE_SIZE = 50_000
FIRST_YEAR, LAST_YEAR = DATASF_HISTORICAL_YEARS
TIMEOUT = 60
USER_AGENT = "sfpd-vice-svu-analysis (python urllib)"


class FetchError(Exception):
    """The download failed (no network, HTTP error, unreadable response)."""


def resource_url(dataset: str = DATASF_HISTORICAL_DATASET, domain: str = DATASF_DOMAIN) -> str:
    return f"https://{domain}/resource/{dataset}.json"


def where_clause(since: int, until: int) -> str:
    """The SoQL ``$where``: the prostitution / trafficking rule and the date range (whole years)."""
    cats = " OR ".join(f"category = '{c}'" for c in PROSTITUTION_FILTER["categories"])
    texts = " OR ".join(f"upper({col}) like '%{t}%'" for t in PROSTITUTION_FILTER["text_contains"]
                        for col in ("category", "descript"))
    return (f"({cats} OR {texts}) AND date >= '{since:04d}-01-01T00:00:00' "
            f"AND date < '{until + 1:04d}-01-01T00:00:00'")


def soql_params(since: int, until: int, limit: int = DEFAULT_PAGE_SIZE, offset: int = 0) -> dict[str, str]:
    """The query parameters of one page."""
    if since > until:
        raise ValueError(f"--since {since} is after --until {until}")
    if not (FIRST_YEAR <= since and until <= LAST_YEAR):
        raise ValueError(f"dataset {DATASF_HISTORICAL_DATASET} covers {FIRST_YEAR} to {LAST_YEAR}; "
                         f"got {since} to {until}")
    if limit < 1 or offset < 0:
        raise ValueError("limit must be 1 or more and offset 0 or more")
    return {"$where": where_clause(since, until), "$order": "date,pdid", "$limit": str(limit),
            "$offset": str(offset)}


def page_url(since: int, until: int, limit: int = DEFAULT_PAGE_SIZE, offset: int = 0) -> str:
    return resource_url() + "?" + urllib.parse.urlencode(soql_params(since, until, limit, offset), safe="$,:",
                                                         quote_via=urllib.parse.quote)


def _default_opener(request, timeout):
    return urllib.request.urlopen(request, timeout=timeout)


def fetch_page(url: str, opener: Callable | None = None) -> list[dict]:
    """One page of records (a JSON array of objects)."""
    op = opener or _default_opener
    req = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
    try:
        with op(req, timeout=TIMEOUT) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        detail = ""
        try:
            detail = json.loads(exc.read().decode("utf-8")).get("message", "")
        except Exception:  # noqa: BLE001 - the body is only a hint
            pass
        raise FetchError(f"{DATASF_DOMAIN} answered HTTP {exc.code} ({exc.reason})"
                         + (f": {detail}" if detail else "")) from None
    except urllib.error.URLError as exc:
        raise FetchError(f"cannot reach {DATASF_DOMAIN} ({exc.reason}). This command needs internet access; "
                         "without it, use the public files in ../shared/data/sfpd (see PROVENANCE.md)") from None
    except (TimeoutError, socket.timeout):
        raise FetchError(f"{DATASF_DOMAIN} did not answer within {TIMEOUT} s; try again later") from None
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FetchError(f"{DATASF_DOMAIN} sent a response that is not JSON") from None
    if not isinstance(doc, list):
        msg = doc.get("message", "") if isinstance(doc, dict) else ""
        raise FetchError(f"{DATASF_DOMAIN} sent no records" + (f": {msg}" if msg else ""))
    return doc


def fetch_rows(since: int, until: int, *, page_size: int = DEFAULT_PAGE_SIZE, opener: Callable | None = None,
               max_pages: int = 1000, progress: Callable[[str], None] | None = None) -> list[dict]:
    """Every matching record, page by page; ``progress`` is called with a line per page."""
    rows: list[dict] = []
    offset = 0
    for page in range(1, max_pages + 1):
        batch = fetch_page(page_url(since, until, page_size, offset), opener=opener)
        rows.extend(batch)
        if progress:
            progress(f"page {page}: {len(batch)} row(s) (offset {offset})")
        if len(batch) < page_size:
            return rows
        offset += page_size
    raise FetchError(f"stopped after {max_pages} pages of {page_size} rows; raise --page-size")
