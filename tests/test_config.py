"""The study configuration: settings, not constants, with clear errors."""

import datetime as dt

import pytest

from analysis.scheme.config import ConfigError, load_study_config


def test_defaults(cfg):
    assert cfg.sampled_years == (2009, 2010, 2014, 2015)
    assert cfg.year_to_period == {2009: "vice", 2010: "vice", 2014: "svu", 2015: "svu"}
    assert cfg.unit_change_date == dt.date(2011, 10, 17) and cfg.unit_change_date_confirmed is False
    assert cfg.tay_age_range == (18, 24) and cfg.minor_age_below == 18
    assert cfg.suppression_threshold == 5


def test_another_configuration_changes_the_settings(tmp_path):
    text = (load_study_config().source and open(load_study_config().source).read())
    text = text.replace("tay_age_range: [18, 24]", "tay_age_range: [16, 24]").replace(
        "suppression_threshold: 5", "suppression_threshold: 11")
    p = tmp_path / "study.yaml"
    p.write_text(text)
    cfg = load_study_config(p)
    assert cfg.tay_age_range == (16, 24) and cfg.suppression_threshold == 11


@pytest.mark.parametrize(
    "text, message",
    [
        ("periods: nonsense\n", "study configuration is not valid"),
        ("", "study configuration is not valid"),
    ],
)
def test_bad_configuration(tmp_path, text, message):
    p = tmp_path / "study.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_study_config(p)


def test_a_year_in_two_periods_is_refused(tmp_path):
    text = open(load_study_config().source).read().replace("years: [2014, 2015]", "years: [2010, 2015]")
    p = tmp_path / "study.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError, match="a year belongs to more than one period"):
        load_study_config(p)


def test_missing_configuration_file(tmp_path):
    with pytest.raises(ConfigError, match="study configuration file not found"):
        load_study_config(tmp_path / "nope.yaml")
