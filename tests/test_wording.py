"""The findings' wording rules (analysis.report.wording), on their edge cases: exact sentences, hand-checked."""

from __future__ import annotations

import re

import pytest

from analysis.report import wording as w
from analysis.report.wording import Cell, Change

PERIODS = ("Vice 2009-2010", "SVU 2014-2015")


def test_the_issue_example_reads_as_the_committee_asked():
    sentence, status = w.yes_no_sentence(
        "Screened for trafficking", "incident reports", PERIODS, Cell.parse("83/495 (16.8%)"),
        Cell.parse("252/494 (51.0%)"), Change.parse("+34.2 (+28.6 to +39.6)"), w.parse_q("<0.001"))
    assert sentence == ("Among incident reports, \u201cScreened for trafficking\u201d rose from 17% (83 of 495) in Vice "
                        "2009-2010 to 51% (252 of 494) in SVU 2014-2015: up 34 percentage points (95% CI 29 to 40); "
                        "a change this large is very unlikely by chance.")
    assert status == "change"


def test_a_fall_gives_the_interval_as_sizes_of_the_fall():
    sentence, status = w.yes_no_sentence("Condoms confiscated", "incident reports", PERIODS,
                                         Cell.parse("171/245 (69.8%)"), Cell.parse("20/179 (11.2%)"),
                                         Change.parse("-58.6 (-65.4 to -50.1)"), 0.012)
    assert "fell from 70% (171 of 245) in Vice 2009-2010 to 11% (20 of 179) in SVU 2014-2015: down 59 percentage " \
           "points (95% CI 50 to 65); a change this large is unlikely by chance." in sentence
    assert status == "change"


def test_no_clear_change_is_said_plainly_with_both_periods_and_a_signed_interval():
    sentence, status = w.yes_no_sentence("Trans woman of color", "people selling sex", PERIODS,
                                         Cell.parse("44/396 (11.1%)"), Cell.parse("32/346 (9.2%)"),
                                         Change.parse("-1.9 (-5.3 to +2.6)"), 0.41)
    assert sentence == ("No clear change. Among people selling sex, \u201cTrans woman of color\u201d was 11% (44 of 396) "
                        "in Vice 2009-2010 and 9% (32 of 346) in SVU 2014-2015 (change minus 2 percentage points, "
                        "95% CI minus 5 to +3); a difference this size could easily arise by chance.")
    assert status == "no clear change"


def test_an_interval_beside_zero_but_a_q_above_005_is_still_no_clear_change():
    # the interval excludes 0 but, adjusted for the table's many tests, q is 0.08: not called a change
    sentence, status = w.yes_no_sentence("Charged: buying sex", "everyone on the reports", PERIODS,
                                         Cell.parse("180/718 (25.1%)"), Cell.parse("215/739 (29.1%)"),
                                         Change.parse("+4.0 (+0.6 to +8.4)"), 0.08)
    assert sentence.startswith("No clear change.") and "95% CI +1 to +8" in sentence
    assert status == "no clear change"


def test_a_suppressed_cell_is_said_and_its_number_never_written():
    sentence, status = w.yes_no_sentence("HIV-specific charge", "people selling sex", PERIODS, Cell.parse("<5"),
                                         Cell.parse("0/379 (0.0%)"), None, 0.2)
    assert sentence == ("Among people selling sex, \u201cHIV-specific charge\u201d was 0% (0 of 379) in SVU 2014-2015; "
                        "the count for Vice 2009-2010 is too small to show (suppressed under the small-cell rule), "
                        "so no change is given.")
    assert status == "suppressed"
    both, status = w.yes_no_sentence("Interpreter used", "reports", PERIODS, Cell.parse("suppressed"),
                                     Cell.parse("<5"), None, None)
    assert status == "suppressed" and not re.search(r"\d", both.replace("2009-2010", "").replace("2014-2015", ""))


def test_a_count_shown_without_its_denominator_gives_no_share():
    cell = Cell.parse("308")  # a hidden denominator: the count alone is shown
    assert cell.hidden and cell.n == 308
    sentence, status = w.yes_no_sentence("X", "reports", PERIODS, cell, Cell.parse("217/480 (45.2%)"), None, 0.5)
    assert status == "suppressed" and "308" not in sentence


def test_a_weighted_share_withheld_gives_the_counts_and_says_why():
    """A weighted table shows n/N without the weighted percentage where a count is from 1 to 4 in a sampled year:
    the sentence gives the counts in the sample and says why there is no percentage (not 'too small to show')."""
    cell = Cell.parse("34/68")
    assert cell.share_withheld and cell.hidden and (cell.n, cell.N, cell.pct) == (34, 68, None)
    assert not Cell.parse("34/68 (50.0%)").share_withheld and not Cell.parse("308").share_withheld
    sentence, status = w.yes_no_sentence("Interpreter used", "reports", PERIODS, cell, Cell.parse("suppressed"),
                                         None, None)
    assert sentence == ("Among reports, \u201cInterpreter used\u201d: 34 of 68 in Vice 2009-2010 and too small to show "
                        "in SVU 2014-2015 in the sample; the weighted percentages are not shown, because with the "
                        "sampling weights they would let a count below the threshold in one sampled year be worked "
                        "out.")
    assert status == "suppressed"
    levels = [("Ingleside", Cell.parse("11/483"), Cell.parse("11/482")),
              ("Mission", Cell.parse("126/483"), Cell.parse("117/482"))]
    sentence, status = w.category_sentence("SFPD district", "incident reports", PERIODS, levels, None)
    assert status == "suppressed" and "weighted percentages" in sentence and "%" not in sentence


def test_none_in_either_period():
    sentence, status = w.yes_no_sentence("HIV-specific charge", "buyers", PERIODS, Cell.parse("0/195 (0.0%)"),
                                         Cell.parse("0/200 (0.0%)"), Change.parse("+0.0 (-1.9 to +1.9)"), None)
    assert sentence == ("Among buyers, \u201cHIV-specific charge\u201d: none in either period (0 of 195 in Vice "
                        "2009-2010, 0 of 200 in SVU 2014-2015).")
    assert status == "no clear change"


@pytest.mark.parametrize("text, expected", [("1/400 (0.2%)", "under 1%"), ("399/400 (99.8%)", "over 99%"),
                                            ("0/400 (0.0%)", "0%"), ("400/400 (100.0%)", "100%"),
                                            ("83/495 (16.8%)", "17%"), ("1,234/2,000 (61.7%)", "62%")])
def test_percentages_in_whole_numbers_never_zero_for_a_count(text, expected):
    assert w.pct(Cell.parse(text)) == expected


def test_q_reading():
    assert w.parse_q("<0.001") < 0.001 and w.parse_q("0.041") == 0.041
    assert w.parse_q("") is None and w.parse_q("not tested") is None
    assert w.how_sure(0.0004) == "a change this large is very unlikely by chance"
    assert w.how_sure(0.049) == "a change this large is unlikely by chance"
    assert w.how_sure(0.05) == "a difference this size could easily arise by chance"
    assert w.q_text(w.parse_q("<0.001")) == "q < 0.001" and w.q_text(0.0412) == "q = 0.041"


@pytest.mark.parametrize("alpha, flag, expected", [
    (0.618, "unreliable", "coders agreed poorly on \u201cCondoms documented as evidence\u201d (alpha 0.62, below 0.667): "
                          "treat this finding as unreliable"),
    (0.70, "tentative", "coder agreement on \u201cCondoms documented as evidence\u201d is only tentative (alpha 0.70, "
                        "below 0.800): draw tentative conclusions only"),
    (0.667, "tentative", "coder agreement on \u201cCondoms documented as evidence\u201d is only tentative (alpha 0.67, "
                         "below 0.800): draw tentative conclusions only"),
    (0.80, "reliable", None),
    (float("nan"), "not double-coded", "\u201cCondoms documented as evidence\u201d was not double-coded, so coder "
                                       "agreement is unknown"),
])
def test_reliability_caveats_at_0667_and_0800(alpha, flag, expected):
    assert w.reliability_caveat("Condoms documented as evidence", alpha, flag) == expected


def test_missing_data_share_from_five_percent_and_never_a_hidden_count():
    cav = w.missing_caveat("Condoms documented as evidence", [[], [Cell.parse("29")]], (495, 494), PERIODS)
    assert cav == ("\u201cCondoms documented as evidence\u201d is not documented for 6% of SVU 2014-2015 (29 of 494); "
                   "the percentages leave these out")
    assert w.missing_caveat("X", [[Cell.parse("24")], [Cell.parse("12")]], (495, 494), PERIODS) is None  # 4.8%, 2.4%
    hidden = w.missing_caveat("X", [[Cell.parse("<5")], [Cell.parse("suppressed")]], (495, 494), PERIODS)
    assert hidden == "some values of \u201cX\u201d are not documented (count suppressed); the percentages leave them out"


def test_small_numbers_and_weighting():
    assert w.small_caveat(Cell.parse("5/12 (41.7%)"), Cell.parse("20/200 (10.0%)"), PERIODS) == (
        "small numbers (12 in Vice 2009-2010): a few cases change the percentage a lot")
    assert w.small_caveat(Cell.parse("5/30 (16.7%)"), Cell.parse("20/200 (10.0%)"), PERIODS) is None
    assert w.weighting_caveat(True) == ("percentages weighted to the sampling frame; the counts in brackets are the "
                                        "sampled reports or people (unweighted), so a percentage is not their ratio")
    assert w.weighting_caveat(False).startswith("unweighted")


def test_a_variable_with_levels_names_the_largest_shift():
    levels = [("Decoy or sting targeting sellers", Cell.parse("227/479 (47.4%)"), Cell.parse("103/482 (21.4%)")),
              ("Tip from a third party", Cell.parse("50/479 (10.4%)"), Cell.parse("60/482 (12.4%)")),
              ("Other", Cell.parse("<5"), Cell.parse("suppressed"))]
    sentence, status = w.category_sentence("How the case originated", "incident reports", PERIODS, levels, 0.0005)
    assert sentence == ("Among incident reports, \u201cHow the case originated\u201d differed between the periods (q < "
                        "0.001; a change this large is very unlikely by chance): the largest shift was in \u201cDecoy "
                        "or sting targeting sellers\u201d, from 47% (227 of 479) in Vice 2009-2010 to 21% (103 of 482) "
                        "in SVU 2014-2015. Some levels are too small to show (suppressed).")
    assert status == "change"
    calm, status = w.category_sentence("How the case originated", "incident reports", PERIODS, levels[:2], 0.3)
    assert calm.startswith("No clear change.") and status == "no clear change"
