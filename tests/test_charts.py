"""analysis.report.charts: the meeting charts carry the right numbers, hide what the tables hide, and look the same
every time (values, suppression, watermark, source and n, palette, files, the public series' change line)."""

from __future__ import annotations

import io
import re
import struct

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from analysis.derive.variables import derive  # noqa: E402
from analysis.intake.load import load_coded_tables  # noqa: E402
from analysis.intake.validate import validate_tables  # noqa: E402
from analysis.report import charts
from analysis.tables.compare import before_after  # noqa: E402
from analysis.tables.disclosure import check_no_small_cells  # noqa: E402

from .conftest import EXAMPLE  # noqa: E402

N_BOOT = 50
NAMES = ["key_indicators", "case_origin", "charges_by_role", "people_by_role", "districts"]


@pytest.fixture(scope="module")
def tables():
    return derive(validate_tables(load_coded_tables(EXAMPLE)).valid)


@pytest.fixture(scope="module")
def public_result(cfg):
    """The interrupted time series of the public daily counts, or None when the shared folder is absent."""
    from analysis.public import SHARED_FILES, load_public, monthly_counts
    from analysis.scheme.config import paths
    from analysis.stats import its

    f = paths().shared_sfpd / SHARED_FILES["daily"]
    return its.fit_its(monthly_counts(load_public(f)), cfg.unit_change_date) if f.is_file() else None


@pytest.fixture(scope="module")
def its_result(public_result):
    if public_result is None:
        from analysis.scheme.config import paths

        pytest.skip(f"shared SFPD data not found at {paths().shared_sfpd} (it is present in CI)")
    return public_result


@pytest.fixture(scope="module")
def made_all(tables, public_result, cfg):
    """Every meeting chart on the example (with the public series when the shared data is there)."""
    return charts.meeting_charts(tables, public_result, synthetic=True, config=cfg, n_boot=N_BOOT)


@pytest.fixture(scope="module")
def made(made_all):
    """The charts of the coded sample."""
    return [c for c in made_all if c.name != "public_series"]


@pytest.fixture(scope="module")
def made_real(tables, cfg):
    return charts.meeting_charts(tables, None, synthetic=False, config=cfg, n_boot=N_BOOT)


@pytest.fixture(scope="module")
def few_phones(tables, cfg):
    """The example with cell phones seized on exactly 3 of the after-period reports."""
    inc = tables["incidents"].copy()
    idx = inc.index[inc["period"].astype(str) == "svu"]
    inc.loc[idx, "phones_seized"] = "no"
    inc.loc[idx[:3], "phones_seized"] = "yes"
    inc["phones_seized_yes"] = inc["phones_seized"].astype(str) == "yes"
    return charts.key_indicators(dict(tables, incidents=inc), synthetic=False, config=cfg, n_boot=N_BOOT)


def _csv(chart) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(charts.chart_files(chart, formats=("csv",))["csv"]), dtype=str,
                       keep_default_na=False)


def _all_texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def _strings(fig) -> list[str]:
    return [t.get_text() for t in _all_texts(fig)]


def _by_name(made) -> dict:
    return {c.name: c for c in made}


# --- numbers -------------------------------------------------------------------------------------------


def test_meeting_charts_in_meeting_order(made_all, public_result):
    names = [c.name for c in made_all]
    if public_result is None:
        assert names == NAMES
    else:
        assert names == NAMES[:4] + ["public_series", "districts"]
    for c in made_all:
        assert c.title and c.alt.endswith(".") and "\n" not in c.alt
        assert "person_code" not in c.data.columns
        assert not c.data.astype(str).apply(lambda s: s.str.contains(r"SYN-P\d", regex=True)).any().any()


def test_key_indicators_csv_has_before_after_numbers(made, tables, cfg):
    data = _csv(_by_name(made)["key_indicators"]).set_index("indicator")
    assert list(data.index) == ["condoms_evidence_any", "phones_seized", "police_initiated", "origin_sting_sellers",
                                "screened_trafficking", "correctly_identified", "interpreter_used", "hiv_charge"]
    assert list(data["derived_column"]) == ["condoms_evidence_any", "phones_seized_yes", "police_initiated",
                                            "origin_sting_sellers", "screened_trafficking_yes", "correctly_identified",
                                            "interpreter_used_yes", "hiv_charge"]
    inc = before_after(tables["incidents"], "incidents", config=cfg,
                       variables=["condoms_evidence_any", "phones_seized", "screened_trafficking"]).rows
    inc = inc[inc["row_type"] == "level"].set_index("column")
    for col in ("condoms_evidence_any", "phones_seized", "screened_trafficking"):
        for key in ("n_vice", "N_vice", "n_svu", "N_svu"):
            assert int(data.loc[col, key]) == inc.loc[col, key], (col, key)
        for key in ("pct_vice", "ci_low_vice", "ci_high_vice", "pct_svu", "ci_low_svu", "ci_high_svu", "diff_pp",
                    "diff_low", "diff_high", "p_value"):
            assert float(data.loc[col, key]) == inc.loc[col, key], (col, key)
    # the same counts as the derived yes/no columns (screened_trafficking_yes)
    derived = tables["incidents"].groupby("period", observed=True)["screened_trafficking_yes"].agg(["sum", "count"])
    assert derived.loc["svu"].tolist() == [int(data.loc["screened_trafficking", "n_svu"]),
                                           int(data.loc["screened_trafficking", "N_svu"])]
    # the numbers themselves: condoms photographed or documented as evidence, 210/481 before and 17/459 after
    row = data.loc["condoms_evidence_any"]
    assert (row["n_vice"], row["N_vice"], row["n_svu"], row["N_svu"]) == ("210", "481", "17", "459")
    assert float(row["pct_vice"]) == 100 * 210 / 481
    assert float(row["ci_low_vice"]) == pytest.approx(39.294336, abs=1e-6)  # Wilson
    assert float(row["ci_high_svu"]) == pytest.approx(5.850837, abs=1e-6)
    assert row["change"] == "lower after"
    assert data.loc["screened_trafficking", "change"] == "higher after"
    # police-initiated cases hardly change (78.5% -> 74.3%); stings on sellers alone fall (47.4% -> 21.4%)
    assert data.loc["police_initiated", ["n_vice", "N_vice", "n_svu", "N_svu", "change"]].tolist() == [
        "376", "479", "358", "482", "no clear change"]
    assert data.loc["origin_sting_sellers", ["n_vice", "n_svu", "change"]].tolist() == ["227", "103", "lower after"]
    # interpreter use: 'not documented' is 4 after (< 5) and hidden, but the yes/no counts (34/68, 66/103) give
    # nothing away about it (issue 11: every cell of the row is at least 5), so they are shown, with the test
    interp = data.loc["interpreter_used"]
    assert (interp["n_vice"], interp["N_vice"], interp["n_svu"], interp["N_svu"]) == ("34", "68", "66", "103")
    assert interp["change"] == "no clear change" and float(interp["p_value"]) == pytest.approx(0.0675, abs=1e-4)
    # HIV charges among people selling sex: the person table of sellers
    sellers = before_after(tables["persons"], "persons", role="seller", variables=["hiv_charge"], n_boot=N_BOOT,
                           config=cfg).rows.iloc[0]
    hiv = data.loc["hiv_charge"]
    assert (hiv["n_vice"], hiv["N_vice"], hiv["n_svu"], hiv["N_svu"]) == ("13", "415", "0", "379")
    assert float(hiv["ci_high_svu"]) == sellers["ci_high_svu"]
    assert float(hiv["diff_low"]) == sellers["diff_low"]  # the cluster bootstrap interval


def test_key_indicator_points_are_drawn_at_the_table_values(made):
    c = _by_name(made)["key_indicators"]
    ax = c.fig.axes[0]
    before = [ln.get_xdata()[0] for ln in ax.lines if ln.get_gid() == "point_vice"]
    after = [ln.get_xdata()[0] for ln in ax.lines if ln.get_gid() == "point_svu"]
    assert before[0] == pytest.approx(100 * 210 / 481) and after[0] == pytest.approx(100 * 17 / 459)
    assert len(before) == len(after) == 8  # every indicator, interpreter use too
    assert "44% (210/481)" in _strings(c.fig) and "4% (17/459)" in _strings(c.fig)


def test_case_origin_and_districts_shares(made):
    origin = _csv(_by_name(made)["case_origin"]).set_index("level")
    assert origin.loc["sting_sellers", ["n_vice", "N_vice", "n_svu", "N_svu"]].tolist() == ["227", "479", "103", "482"]
    assert float(origin.loc["sting_sellers", "pct_vice"]) == 100 * 227 / 479
    assert origin.loc["-8", ["n_vice", "n_svu"]].tolist() == ["16", "12"]  # not documented: counted, no share
    assert origin.loc["-8", "pct_vice"] == ""
    notes = " ".join(_strings(_by_name(made)["case_origin"].fig))
    assert "Origin not documented: 16 reports before and 12 after, left out of the shares." in notes
    dist = _csv(_by_name(made)["districts"]).set_index("level")
    assert dist.loc["mission", ["n_vice", "N_vice", "n_svu", "N_svu"]].tolist() == ["126", "483", "117", "482"]
    assert list(dist.index[:3]) == ["mission", "tenderloin", "central"]  # by share over both periods


def test_charges_and_people(made):
    ch = _csv(_by_name(made)["charges_by_role"])
    sell = ch[(ch["role"] == "seller") & (ch["category"] == "selling")].iloc[0]
    assert (sell["n_vice"], sell["N_vice"], sell["n_svu"], sell["N_svu"]) == ("355", "415", "261", "379")
    assert "lewd_conduct" not in set(ch["category"])  # nobody in these roles: left out, named in a note
    assert any("lewd conduct" in s for s in _strings(_by_name(made)["charges_by_role"].fig))
    people = _csv(_by_name(made)["people_by_role"]).set_index("group")
    assert people.loc["seller", ["n_vice", "n_svu"]].tolist() == ["415", "379"]
    assert people.loc["trans_woman_of_color", ["n_vice", "N_vice", "n_svu", "N_svu"]].tolist() == [
        "35", "396", "32", "346"]  # 2009/10: Latina trans women were entered as white (race as SFPD recorded it)
    assert people.loc["tay", "label"] == "Transitional-aged youth (18-24)"


# --- suppression ---------------------------------------------------------------------------------------


def test_three_events_are_suppressed_in_the_data_and_not_drawn(few_phones):
    data = _csv(few_phones).set_index("indicator")
    row = data.loc["phones_seized"]
    # one marker for every hidden count (no '<5', which would say 1 to 4)
    for k in ("n_svu", "pct_svu", "ci_low_svu", "ci_high_svu", "diff_pp", "diff_low", "diff_high", "p_value",
              "q_value", "test"):
        assert row[k] == "suppressed", k
    # the chart alone prints no 'No' and no missing row for the after period, so the 3 keeps the range 1..494 with
    # the before value shown (124/495); the N after (494) is the period's size, printed everywhere
    assert (row["n_vice"], row["N_vice"], row["N_svu"]) == ("124", "495", "494")
    assert check_no_small_cells(data, 5, columns=["n_vice", "N_vice", "n_svu", "N_svu"]) == []
    text = charts.chart_files(few_phones, formats=("csv",))["csv"].decode()
    assert "0.607" not in text and "<5" not in text  # 3/494 appears nowhere
    ax = few_phones.fig.axes[0]
    row_y = 1  # second indicator
    drawn = [ln for ln in ax.lines if str(ln.get_gid()).startswith(("point_", "ci_"))]
    assert len(drawn) == 2 * 2 * 8 - 2  # two periods x (point, interval) for eight indicators, less phones after
    for ln in drawn:
        if str(ln.get_gid()).endswith("svu"):
            assert not any(abs(y - row_y) < 0.5 for y in ln.get_ydata()), "a suppressed value was drawn"
        assert not np.isclose(ln.get_xdata(), 100 * 3 / 494).any()
    words = [t.get_text() for t in ax.texts if t.get_gid() == "suppressed"]
    assert words == ["suppressed"]
    assert any("Suppressed:" in s for s in _strings(few_phones.fig))


def test_small_category_is_merged_in_the_bar_chart(made):
    """'Other' origin: 4 reports before (< 5). The codebook's merge (patrol + other -> 'Patrol, on-view or other')
    hides nothing, where hiding would take 'victim came forward' (19 -> 29) and massage inspections (17 -> 71) with
    it (issue 11); no bar for the 4 is drawn."""
    c = _by_name(made)["case_origin"]
    data = _csv(c).set_index("level")
    assert "other" not in data.index and "patrol" not in data.index
    merged = data.loc["patrol+other"]
    assert (merged["label"], merged["n_vice"], merged["n_svu"]) == ("Patrol, on-view or other", "52", "40")
    assert (data.loc["victim_came_forward", "n_vice"], data.loc["victim_came_forward", "n_svu"]) == ("19", "29")
    assert (data.loc["massage_inspection", "n_vice"], data.loc["massage_inspection", "n_svu"]) == ("17", "71")
    kinds = data[data["variable"] == "origin"]
    assert not (kinds[["n_vice", "n_svu", "pct_vice", "pct_svu"]] == "suppressed").any().any()
    # the groups (issue 14): 'Reactive, all' before is hidden: tip + victim came forward + patrol, with the shown
    # kinds, would give patrol before and with the merged row the 4 'other'; after (119) is shown
    groups = data[data["variable"] == "origin_group"]
    assert groups.loc["police_initiated", ["n_vice", "n_svu"]].tolist() == ["376", "358"]
    assert groups.loc["reactive", ["n_vice", "pct_vice", "n_svu"]].tolist() == ["suppressed", "suppressed", "119"]
    ax = c.fig.axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and str(p.get_gid()).startswith("bar_")]
    assert not [b for b in bars if np.isclose(b.get_width(), 100 * 4 / 479)]
    assert [b for b in bars if np.isclose(b.get_width(), 100 * 52 / 479)]


def _shown_in_table(table: pd.DataFrame, label: str, level: str | None, col: int) -> bool:
    """Whether the shared table shows a percentage for this variable (and level) in period column ``col``."""
    var = table["Variable"].replace("", np.nan).ffill()
    block = table[var == label]
    row = block.iloc[0] if level is None else block[block["Level"] == level].iloc[0]
    return "%" in row.iloc[col]


def test_charts_hide_exactly_what_the_shared_tables_hide(tables, cfg, cb):
    """Charts and tables protected together, as the publishing step does (one protection of every shared count):
    a value is drawn if and only if the shared before/after table shows its percentage."""
    from analysis.report.charts.meeting import chart_plans
    from analysis.tables.disclosure import protect_tables
    from analysis.tables.display import display

    plans = chart_plans(tables, None, synthetic=True, config=cfg, n_boot=N_BOOT, codebook=cb)
    inc_ct = before_after(tables["incidents"], "incidents", config=cfg)
    sellers_ct = before_after(tables["persons"], "persons", role="seller", n_boot=N_BOOT, config=cfg)
    prot = protect_tables([inc_ct, sellers_ct] + [ct for p in plans for ct in p.comparisons], units=tables,
                          codebook=cb, config=cfg, check_ranges=False)
    made = [p.draw(prot) for p in plans]
    inc, sellers = display(inc_ct, protection=prot), display(sellers_ct, protection=prot)
    key = _csv(_by_name(made)["key_indicators"])
    hidden_seen = 0
    for _, r in key.iterrows():
        table = sellers if r["indicator"] == "hiv_charge" else inc
        label = table["Variable"][table["Variable"].str.startswith(r["label"])].iloc[0]
        for col, g in ((2, "vice"), (3, "svu")):
            drawn = r[f"pct_{g}"] != "suppressed"
            assert drawn == _shown_in_table(table, label, None, col), (r["indicator"], g)
            hidden_seen += not drawn
    assert hidden_seen == 0  # every key indicator is shown (issue 11)
    people = _csv(_by_name(made)["people_by_role"])
    charges = _csv(_by_name(made)["charges_by_role"])
    checks = [(r["group"], r) for _, r in people[people["panel"] == "people selling sex"].iterrows()]
    checks += [("hiv_charge" if r["category"] == "hiv" else f"charge__{r['category']}", r)
               for _, r in charges[charges["role"] == "seller"].iterrows()]
    for column, r in checks:
        label = cb.derived_variable("persons", column).label
        if r["n_vice"] == r["n_svu"] == "0":
            continue  # nobody in either period: the role's shared table leaves the row out
        for col, g in ((2, "vice"), (3, "svu")):
            assert (r[f"pct_{g}"] != "suppressed") == _shown_in_table(sellers, label, None, col), (column, g)
    group = cb.derived_variable("incidents", "origin_group").label
    for name, variable in (("case_origin", "How the case originated"), ("districts", "SFPD district")):
        data = _csv(_by_name(made)[name])
        for _, r in data[data["level"] != "-8"].iterrows():
            var, level = ((group, r["label"].removesuffix(", all")) if r["variable"] == "origin_group"
                          else (variable, r["label"]))
            for col, g in ((2, "vice"), (3, "svu")):
                assert (r[f"pct_{g}"] != "suppressed") == _shown_in_table(inc, var, level, col), (
                    name, r["level"], g)


def test_no_small_count_in_any_chart_csv(made):
    for c in made:
        data = _csv(c)
        cols = [k for k in data.columns if re.fullmatch(r"[nN]_(vice|svu)", k)]
        assert check_no_small_cells(data, 5, columns=cols) == [], c.name


# --- look ---------------------------------------------------------------------------------------------


def test_synthetic_watermark_on_every_chart_and_only_then(made, made_real):
    for c in made:
        assert charts.WATERMARK in [t.get_text() for t in c.fig.texts], c.name
        assert any(t.get_gid() == "subtitle" and "SYNTHETIC DATA" in t.get_text() for t in c.fig.texts), c.name
        assert (c.data["data"] == "SYNTHETIC DATA").all()
    for c in made_real:
        assert not any("SYNTHETIC" in s for s in _strings(c.fig)), c.name
        assert not (c.data["data"] == "SYNTHETIC DATA").any()


N_PATTERN = re.compile(r"\bn = [\d,]+|\(\d[\d,]*/\d[\d,]*\)|\d[\d,]* months")


def test_every_chart_has_a_source_line_and_n(made_all, made_real):
    for c in [*made_all, *made_real]:
        sources = [t.get_text() for t in c.fig.texts if t.get_gid() == "source"]
        assert sources and sources[0].startswith("Source: "), c.name
        assert N_PATTERN.search(" ".join(_strings(c.fig))), c.name
    assert "random sample of 989 reports, 1,457 people" in " ".join(
        t.get_text() for t in made_real[0].fig.texts if t.get_gid() == "source")


def _check_layout(c) -> None:
    """One-line title of 22 pt or more, labels of 16 pt or more, no text off the slide, no overlapping
    figure-level texts."""
    fig = c.fig
    fig.canvas.draw()  # lay out legends and tick labels
    r = fig.canvas.get_renderer()
    title = [t for t in fig.texts if t.get_gid() == "title"]
    assert len(title) == 1 and title[0].get_fontsize() >= 22, c.name  # one line, 22 pt or more
    for ax in fig.axes:
        for t in ax.get_xticklabels() + ax.get_yticklabels() + ax.texts:
            if t.get_text():
                assert t.get_fontsize() >= 16, (c.name, t.get_text())
    W, H = fig.bbox.width, fig.bbox.height
    drawn = [t for t in fig.texts if t.get_gid() != "watermark"]
    drawn += [t for lg in fig.legends for t in lg.get_texts()]
    for ax in fig.axes:
        drawn += ax.texts + [ax.title, ax.xaxis.label, ax.yaxis.label]
        lo, hi = sorted(ax.get_xlim())
        drawn += [t for t in ax.get_xticklabels() if lo - 1e-9 <= t.get_position()[0] <= hi + 1e-9]
        lo, hi = sorted(ax.get_ylim())
        drawn += [t for t in ax.get_yticklabels() if lo - 1e-9 <= t.get_position()[1] <= hi + 1e-9]
    for t in drawn:
        if not (t.get_visible() and t.get_text()):
            continue
        bb = t.get_window_extent(r)
        assert bb.x0 >= -1 and bb.x1 <= W + 1 and bb.y0 >= -1 and bb.y1 <= H + 1, (c.name, t.get_text())
    # figure-level texts (title, subtitle, notes, source, panel titles, legend) never overlap
    fig_level = [(t.get_text(), t.get_window_extent(r)) for t in fig.texts if t.get_gid() != "watermark"]
    for legend in fig.legends:
        fig_level += [(t.get_text(), t.get_window_extent(r)) for t in legend.get_texts()]
    for i, (s1, b1) in enumerate(fig_level):
        for s2, b2 in fig_level[i + 1:]:
            assert not b1.overlaps(b2), (c.name, s1, s2)


def test_type_is_large_and_nothing_runs_off_the_slide(made_all):
    for c in made_all:
        _check_layout(c)


def _colors_used(fig) -> set[str]:
    used = set()
    for ax in fig.axes:
        for ln in ax.lines:
            used.add(to_hex(ln.get_color()))
            if ln.get_marker() not in (None, "None", "", " "):
                used.add(to_hex(ln.get_markerfacecolor()))
        for p in ax.patches:
            if p is not ax.patch:
                used.add(to_hex(p.get_facecolor()))
    return used


def test_palette_is_the_declared_one(made_all):
    declared = {v.lower() for v in charts.COLORS.values()}
    assert charts.COLORS["before"] == "#D55E00" and charts.COLORS["after"] == "#0072B2"  # Okabe-Ito
    for c in made_all:
        used = _colors_used(c.fig)
        assert used <= declared, (c.name, used - declared)
        assert {"#d55e00", "#0072b2"} <= used, c.name
    ax = _by_name(made_all)["key_indicators"].fig.axes[0]
    assert {to_hex(ln.get_color()) for ln in ax.lines if ln.get_gid() == "point_vice"} == {"#d55e00"}
    assert {to_hex(ln.get_color()) for ln in ax.lines if ln.get_gid() == "point_svu"} == {"#0072b2"}


# --- files --------------------------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_a_charts_png_is_compressed_quickly_with_the_same_pixels(tables, cfg):
    """Issue 15: a chart's PNG is compressed at zlib level 3 (the stream's header says a fast level), not
    Pillow's default 6, with the very same pixels as at the default (the zlib header, RFC 1950, names the
    level's class)."""
    from PIL import Image

    from analysis.report.charts.style import PNG_DPI

    chart = charts.case_origin(tables, synthetic=True, config=cfg)
    made = charts.chart_files(chart, formats=("png",))["png"]
    idat = made.index(b"IDAT") + 4
    assert made[idat] & 0x0F == 8 and made[idat + 1] >> 6 == 1  # deflate, FLEVEL 1: levels 2 to 5
    default = io.BytesIO()
    chart.fig.savefig(default, format="png", dpi=PNG_DPI, facecolor="white")
    assert default.getvalue()[default.getvalue().index(b"IDAT") + 5] >> 6 == 2  # (the control: level 6)
    a, b = Image.open(io.BytesIO(made)), Image.open(default)
    assert a.size == b.size and a.tobytes() == b.tobytes()


def test_save_chart_writes_png_pdf_csv_identically(tables, cfg, tmp_path):
    first = charts.case_origin(tables, synthetic=True, config=cfg)
    second = charts.case_origin(tables, synthetic=True, config=cfg)  # a second, independent run
    a = charts.save_chart(first, tmp_path / "a")
    b = charts.save_chart(second, tmp_path / "b")
    assert [p.name for p in a] == ["case_origin.png", "case_origin.pdf", "case_origin.csv"]
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
    png, pdf, csv = (p.read_bytes() for p in a)
    w, h = _png_size(png)
    assert (w, h) == (2400, 1350)  # 13.33 x 7.5 in at 180 dpi: 16:9
    assert pdf.startswith(b"%PDF") and b"CreationDate" not in pdf
    assert csv.decode().splitlines()[0].startswith("data,variable,level,label,n_vice")


def test_a_charts_pdf_font_is_matplotlibs_subset_without_the_layout_tables(tables, cfg):
    """The embedded font subset keeps what a PDF uses (the glyphs' outlines and metrics, the character map, the
    names), as matplotlib's own subsetting makes them, and leaves out GSUB/GPOS/GDEF (most of a chart PDF's time);
    matplotlib's subsetting is back in place after the save, also when the save fails."""
    from fontTools.ttLib import TTFont
    from matplotlib import font_manager
    from matplotlib.backends import _backend_pdf_ps

    from analysis.report.charts import files

    font = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))
    chars = "Condoms documented as evidence: 15/495 (3.0%) -> 115/494 (23.3%)"
    ours, theirs = files._glyphs_subset(font, chars), _backend_pdf_ps.get_glyphs_subset(font, chars)
    assert set(theirs.keys()) - set(ours.keys()) == {"GSUB", "GPOS", "GDEF"} and set(ours.keys()) < set(theirs.keys())
    assert ours.getGlyphOrder() == theirs.getGlyphOrder() and len(ours.getGlyphOrder()) > 30
    assert ours.getBestCmap() == theirs.getBestCmap()
    for table in ("glyf", "hmtx", "name", "cmap", "head", "post"):
        assert ours.getTableData(table) == theirs.getTableData(table), table
    assert isinstance(ours, TTFont)
    original = _backend_pdf_ps.get_glyphs_subset
    chart = charts.case_origin(tables, synthetic=True, config=cfg)
    pdf = files.chart_files(chart, formats=("pdf",))["pdf"]
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf and _backend_pdf_ps.get_glyphs_subset is original
    with pytest.raises(RuntimeError), files._lean_pdf_fonts():
        assert _backend_pdf_ps.get_glyphs_subset is files._glyphs_subset
        raise RuntimeError
    assert _backend_pdf_ps.get_glyphs_subset is original


# --- the public series --------------------------------------------------------------------------------


def test_public_series_marks_the_configured_change_date(its_result, cfg):
    c = charts.public_series(its_result, synthetic=False, config=cfg)
    ax = c.fig.axes[0]
    line = [ln for ln in ax.lines if ln.get_gid() == "unit_change"]
    assert len(line) == 1
    assert set(mdates.date2num(np.asarray(line[0].get_xdata(), dtype="datetime64[ns]"))) == {
        mdates.date2num(np.datetime64(cfg.unit_change_date))}
    assert any(t.get_gid() == "change_label" and "17 Oct 2011" in t.get_text() for t in ax.texts)
    assert not any("SYNTHETIC" in s for s in _strings(c.fig))
    rr, lo, hi = its_result.rr("level_change_rr")
    assert f"rate ratio {rr:.2f} (95% CI {lo:.2f} to {hi:.2f})" in c.subtitle
    assert any(t.get_gid() == "subtitle" and f"rate ratio {rr:.2f}" in t.get_text() for t in c.fig.texts)
    data = _csv(c)
    assert len(data) == len(its_result.series) and data["month"].iloc[0] == "2003-01"
    assert (data.loc[data["after_change"] == "False", "counterfactual"] == "").all()
    assert any(isinstance(ln, Line2D) and ln.get_gid() == "counterfactual" for ln in ax.lines)


def test_public_series_refuses_a_model_fitted_at_another_date(its_result, cfg):
    import dataclasses
    import datetime as dt

    other = dataclasses.replace(cfg, unit_change_date=dt.date(2012, 1, 1))
    with pytest.raises(ValueError, match="refit with the configured date"):
        charts.public_series(its_result, synthetic=False, config=other)


def test_public_series_in_a_synthetic_pack_says_the_series_is_real(made_all, its_result):
    pub = _by_name(made_all)["public_series"]
    assert charts.WATERMARK in [t.get_text() for t in pub.fig.texts]
    assert "this public series is real SFPD data" in " ".join(_strings(pub.fig))


# --- issue 14: origin groups, policy dates, the race caveat --------------------------------------------------


def test_case_origin_shows_police_initiated_and_reactive_above_their_kinds(made, cb):
    c = _by_name(made)["case_origin"]
    data = _csv(c)
    assert data["level"].tolist()[:3] == ["police_initiated", "reactive", "sting_sellers"]
    assert data["variable"].tolist()[:3] == ["origin_group", "origin_group", "origin"]
    pi = data.set_index("level").loc["police_initiated"]
    assert (pi["label"], pi["n_vice"], pi["N_vice"], pi["n_svu"], pi["N_svu"]) == (
        "Police-initiated, all", "376", "479", "358", "482")
    assert c.subtitle.endswith("Police-initiated (stings, buyer operations, online-ad investigations, massage "
                               "inspections): 78% before, 74% after; stings on sellers alone: 47% before, 21% after.")
    ticks = {t.get_text(): t.get_fontweight() for t in c.fig.axes[0].get_yticklabels()}
    assert ticks["Police-initiated, all"] == "bold" and ticks["Decoy or sting targeting sellers"] == "normal"
    labels = list(ticks)
    # each group above the kinds of origin in it (the codebook's origin_group)
    members = dict(cb.derived_variable("incidents", "origin_group").members)
    assert labels.index("Police-initiated, all") < min(labels.index(cb.variable("incidents", "origin").labels[m])
                                                      for m in members["police_initiated"])
    assert labels.index("Reactive, all") == labels.index("Massage-establishment inspection") + 1


def test_people_chart_carries_the_race_caveat(made, cb):
    notes = _by_name(made)["people_by_role"].notes
    assert cb.derived_variable("persons", "trans_woman_of_color").caveat in notes
    assert any("not directly comparable between 2009/10 and 2014/15" in s for s in _strings(
        _by_name(made)["people_by_role"].fig))


def test_districts_note_the_2015_redistricting(made):
    notes = _by_name(made)["districts"].notes
    assert notes[-1] == ("Police district boundaries redrawn (e.g. Tenderloin extended south to Mission Street; "
                         "Southern took Mission Bay), July 2015 (day unconfirmed): reports after it use the new "
                         "lines, so a district's share is not for the same area in every year.")


def test_public_series_marks_the_policy_dates(its_result, cfg):
    c = charts.public_series(its_result, synthetic=False, config=cfg)
    ax = c.fig.axes[0]
    marks = [ln for ln in ax.lines if ln.get_gid() == "policy_date"]
    days = sorted(pd.Timestamp(ln.get_xdata()[0]).date() for ln in marks)
    assert days == sorted(d.date for d in cfg.policy_dates_for("public_series"))
    assert [t.get_text() for t in ax.texts if t.get_gid() == "policy_label"] == [str(k) for k in range(1, 8)]
    assert c.notes[-1] == (
        "Dotted lines, policy dates (study configuration): 1 12 Jul 2012 Condom memo (day unconfirmed); 2 7 Oct 2012 "
        "Condom trial ban (day unconfirmed); 3 7 Nov 2012 Prop 35; 4 16 Apr 2013 Condom bulletin; 5 5 Nov 2014 "
        "Prop 47; 6 1 Jan 2015 AB 336; 7 1 Jul 2015 New districts (day unconfirmed).")
    assert "Proposition 47 in force: simple drug possession (H&S 11350, 11377) a misdemeanour on 5 November 2014." \
        in c.alt


def test_charges_note_the_laws_that_changed_between_the_periods(made):
    assert _by_name(made)["charges_by_role"].notes[-1] == (
        "The law changed between the periods: Proposition 35 in force: PC 236.1 (human trafficking) rewritten, longer "
        "sentences (7 Nov 2012); Proposition 47 in force: simple drug possession (H&S 11350, 11377) a misdemeanour "
        "(5 Nov 2014). Categories and severities follow the law on each report's date (codebook charge table).")
