"""Charge classification: statute text as coders type it -> statute, category, severity."""

import pytest

from analysis.scheme.charges import charge_table, classify_statute


@pytest.mark.parametrize(
    "written, statute, category, severity",
    [
        ("647(b)", "PC 647(b)", "selling", "misdemeanor"),
        ("PC 647b", "PC 647(b)", "selling", "misdemeanor"),
        ("647(b) PC", "PC 647(b)", "selling", "misdemeanor"),
        ("P.C. 647 (b)", "PC 647(b)", "selling", "misdemeanor"),
        ("penal code 647(B)", "PC 647(b)", "selling", "misdemeanor"),
        ("647(b)(2)", "PC 647(b)(2)", "buying", "misdemeanor"),
        ("266H", "PC 266h", "third_party", "felony"),
        ("266i PC", "PC 266i", "third_party", "felony"),
        ("653.22", "PC 653.22", "selling", "misdemeanor"),
        ("653.23 PC", "PC 653.23", "third_party", "misdemeanor"),
        ("PC 236.1(c)", "PC 236.1", "trafficking", "felony"),
        ("H&S 120291", "HS 120291", "hiv", "felony"),
        ("H.&S. 120291", "HS 120291", "hiv", "felony"),
        ("Health and Safety Code 120291", "HS 120291", "hiv", "felony"),
        ("120291", "HS 120291", "hiv", "felony"),
        ("647f", "PC 647f", "hiv", "felony"),
        ("647F PC", "PC 647f", "hiv", "felony"),
        ("647(f)", "PC 647(f)", "other", "misdemeanor"),
        ("PC 647 (f)", "PC 647(f)", "other", "misdemeanor"),
        ("647(a)", "PC 647(a)", "lewd_conduct", "misdemeanor"),
        ("12500 VC", "VC 12500(a)", "other", "misdemeanor"),
        ("PC 640", "PC 640", "other", "infraction"),
    ],
)
def test_statutes_as_coders_type_them(written, statute, category, severity):
    got = classify_statute(written)
    assert got is not None, written
    assert (got["statute"], got["category"], got["severity"]) == (statute, category, severity)


def test_647f_and_647_paren_f_are_kept_apart():
    hiv = classify_statute("647f")
    drunk = classify_statute("647(f)")
    assert hiv["statute"] == "PC 647f" and hiv["category"] == "hiv"
    assert drunk["statute"] == "PC 647(f)" and drunk["category"] == "other"
    assert "NOT an HIV charge" in drunk["title"]


def test_647b_is_buying_for_a_buyer_and_selling_otherwise():
    assert classify_statute("647(b)", role="buyer")["category"] == "buying"
    assert classify_statute("647(b)", role="seller")["category"] == "selling"
    # the post-2017 subdivisions do not depend on the role
    assert classify_statute("647(b)(1)", role="buyer")["category"] == "selling"


@pytest.mark.parametrize("written", ["647 f", "647(z)", "PC 9999", "", "   ", "solicitation"])
def test_unknown_statutes_are_not_guessed(written):
    assert classify_statute(written) is None


def test_ambiguous_647_space_f_suggests_both_readings():
    assert set(charge_table().suggest("647 f")[:2]) == {"PC 647f", "PC 647(f)"}


def test_every_category_and_severity_is_declared(cb):
    t = charge_table(cb)
    assert list(t.categories) == ["selling", "buying", "third_party", "trafficking", "hiv", "lewd_conduct", "other"]
    for st in t.statutes:
        assert st.category in t.categories and st.severity in t.severities
        assert st.buyer_category in (None, *t.categories)
