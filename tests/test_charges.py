"""Charge classification: statute text as coders type it -> statute, category, severity; the dated and
role-dependent rules where the law changed (each with its source in the codebook)."""

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
        assert {c for _, c in st.by_role} <= set(t.categories)
        assert all(s in t.severities for s in [c.severity for c in st.changes if c.severity])


# --- the facts put right (issue 14) -----------------------------------------------------------------------


@pytest.mark.parametrize("date, severity", [("2014-11-04", "felony"), ("2014-11-05", "misdemeanor"),
                                            ("2014-11-06", "misdemeanor"), ("2009-06-01", "felony"),
                                            ("2015-03-01", "misdemeanor")])
def test_prop_47_makes_11350_a_misdemeanour_from_5_november_2014(date, severity):
    """Proposition 47 (passed 4 Nov 2014, in force 5 Nov 2014): simple possession is a misdemeanour."""
    got = classify_statute("H&S 11350", date=date)
    assert (got["statute"], got["severity"]) == ("HS 11350", severity)
    assert classify_statute("11377", date=date)["severity"] == severity  # a wobbler before: counted as a felony


def test_severity_without_a_date_is_the_older_rule():
    assert classify_statute("11350")["severity"] == "felony"


def test_the_2017_subdivisions_of_647b_exist_only_from_2017():
    """SB 420 (2016, in force 1 Jan 2017) split 647(b) into (b)(1) seller, (b)(2)/(b)(3) buyer; not SB 1129."""
    assert classify_statute("647(b)(1)", date="2009-05-01")["in_force"] is False
    assert classify_statute("647(b)(2)", date="2016-12-31")["in_force"] is False
    assert classify_statute("647(b)(2)", date="2017-01-01")["in_force"] is True
    assert classify_statute("647(b)", date="2009-05-01")["in_force"] is True
    st = charge_table().classify("647(b)(1)")
    assert st.not_in_force_text().startswith("PC 647(b)(1) exists only from 1 January 2017 (SB 420 (2016) split")
    assert "SB 1129" not in st.not_in_force_text()


def test_the_public_soliciting_group_names_sb_420_not_sb_1129():
    """The public descriptions' caveat on 647(b) before 2017 names the law that split it (SB 420, in force 2017;
    SB 1129 only repealed mandatory minimum jail terms)."""
    import analysis.public.descriptions as D

    assert "SB 420" in D.GROUPS["soliciting"]["note"]
    assert "until SB 420" in " ".join(D.__doc__.split())
    assert "SB 1129 split" not in " ".join(D.__doc__.split())


def test_repealed_hiv_statutes_end_on_1_january_2018():
    assert classify_statute("647f", date="2017-12-31")["in_force"] is True
    assert classify_statute("647f", date="2018-01-01")["in_force"] is False
    assert charge_table().classify("H&S 120291").not_in_force_text() == (
        "HS 120291 was repealed on 1 January 2018 (SB 239 (2017) repealed it from 1 January 2018)")


@pytest.mark.parametrize("role, category", [("seller", "selling"), ("trafficking_victim", "selling"),
                                            ("third_party", "third_party"), (None, "third_party")])
def test_pc_315_is_selling_for_a_resident_and_third_party_for_a_keeper(role, category):
    """PC 315 covers keepers *and* residents ('inmates') of a house of prostitution."""
    assert classify_statute("315 PC", role=role)["category"] == category


@pytest.mark.parametrize("written, statute, category", [
    ("664/647(b) PC", "PC 664/647(b)", "selling"),
    ("PC 664/647(b)", "PC 664/647(b)", "selling"),
    ("647(b)/664", "PC 664/647(b)", "selling"),
    ("664 PC / 236.1 PC", "PC 664/236.1", "trafficking"),
    ("PC 664/236.1", "PC 664/236.1", "trafficking"),
    ("664/266h", "PC 664/266h", "third_party"),
])
def test_attempts_take_the_attempted_statutes_category(written, statute, category):
    got = classify_statute(written)
    assert (got["statute"], got["category"], got["attempt"]) == (statute, category, True)
    assert got["title"].startswith("Attempt (PC 664): ")


def test_an_attempt_is_buying_for_a_buyer_and_unknown_targets_stay_unknown():
    assert classify_statute("664/647(b)", role="buyer")["category"] == "buying"
    assert classify_statute("664/647(b)")["severity"] == "misdemeanor"
    assert classify_statute("664/236.1")["severity"] == "felony"
    for written in ("664/9999", "664/664", "664/", "123/647(b)"):
        assert classify_statute(written) is None, written
    assert classify_statute("647(b)")["attempt"] is False


@pytest.mark.parametrize("written, statute", [("SFPC 1070", "SFPC 1070"), ("MPC 22(a)", "SFPC 22(a)"),
                                              ("SF Police Code 869", "SFPC 869"), ("1070 SF PC", "SFPC 1070"),
                                              ("SF Park Code 3.13", "SFMC 3.13")])
def test_san_francisco_municipal_charges_are_accepted_as_other(written, statute):
    got = classify_statute(written)
    assert (got["statute"], got["category"], got["severity"]) == (statute, "other", "misdemeanor")
    assert classify_statute("SFPC") is None  # a code name alone is not a charge


def test_pc_12022_85_is_an_hiv_charge():
    """The HIV sentence enhancement for certain sex offences (repealed by SB 239) is HIV-specific."""
    got = classify_statute("12022.85 PC")
    assert (got["statute"], got["category"], got["severity"]) == ("PC 12022.85", "hiv", "felony")
    assert classify_statute("PC 12022.85", date="2018-02-01")["in_force"] is False


def test_prop_35_rewrote_236_1_between_the_periods():
    assert classify_statute("236.1", date="2010-05-01")["title"] == "Human trafficking (as enacted by AB 22, 2005)"
    assert classify_statute("236.1(b)", date="2014-05-01")["title"].startswith(
        "Human trafficking (as rewritten by Proposition 35, Nov 2012")
    assert classify_statute("236.1", date="2012-11-06")["title"] == "Human trafficking (as enacted by AB 22, 2005)"
