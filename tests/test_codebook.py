"""The codebook itself: complete, consistent, and what the study asked for."""

import copy

import pytest
import yaml

from analysis.scheme.codebook import check_codebook, codebook_path, parse_codebook


def test_codebook_has_no_problems(cb):
    assert check_codebook(cb) == []


def test_version_is_semantic(cb):
    parts = cb.version.split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts)


def test_four_linked_tables_the_last_optional(cb):
    assert list(cb.tables) == ["incidents", "persons", "charges", "outcomes"]
    assert cb.table("incidents").key == "report_id"
    assert cb.table("persons").key == "person_code"
    assert cb.variable("persons", "report_id").references == "incidents.report_id"
    assert cb.variable("charges", "person_code").references == "persons.person_code"
    assert cb.variable("outcomes", "person_code").references == "persons.person_code"
    assert cb.variable("outcomes", "report_id").references == "incidents.report_id"
    assert cb.table("outcomes").key is None
    assert [t for t in cb.tables if cb.table(t).optional] == ["outcomes"]


def test_every_code_is_labelled_and_every_variable_defined(cb):
    for t in cb.tables.values():
        for v in t.variables:
            assert v.label and v.definition, v.name
            for c in v.codes:
                assert c.label.strip(), f"{v.name}:{c.code}"


def test_no_duplicate_names_across_tables_except_keys(cb):
    seen = {}
    for t in cb.tables.values():
        for v in t.variables:
            if v.references:
                continue
            assert v.name not in seen, f"{v.name} in {t.name} and {seen[v.name]}"
            seen[v.name] = t.name


def test_missing_codes_distinguish_not_documented_from_not_applicable(cb):
    assert cb.missing_labels == {"-8": "Not documented", "-9": "Not applicable"}
    # -9 is accepted exactly where there is skip logic
    for t in cb.tables.values():
        for v in t.variables:
            assert ("-9" in v.missing) == bool(v.show_if), v.name


def test_committee_questions_are_coded(cb):
    inc = cb.table("incidents").columns
    for name in ["condoms_mentioned", "condoms_confiscated", "condoms_evidence", "sfpd_label",
                 "trafficking_assessment", "screened_trafficking", "trafficking_indicators", "origin",
                 "phones_seized", "phones_seized_count", "language_other_than_english", "interpreter_used",
                 "minors_involved", "investigating_unit", "district", "location_type"]:
        assert name in inc
    assert cb.variable("incidents", "district").code_values == (
        "bayview", "central", "ingleside", "mission", "northern", "park", "richmond", "southern", "taraval",
        "tenderloin")
    assert cb.variable("persons", "gender_identity").code_values == (
        "female", "male", "trans_female", "trans_male", "genderqueer_nonbinary", "not_listed", "declined")
    assert cb.variable("persons", "role").code_values == (
        "seller", "buyer", "third_party", "trafficking_victim", "witness", "other")
    assert cb.variable("persons", "outcome").code_values == ("none", "cited", "booked", "referred")


def test_skip_logic_examples(cb):
    v = cb.variable("incidents", "interpreter_used")
    assert [(c.variable, c.values) for c in v.show_if] == [("language_other_than_english", ("yes",))]
    z = cb.variable("persons", "residence_zip")
    assert [(c.variable, c.values) for c in z.show_if] == [("role", ("buyer",))]


def _doc():
    return yaml.safe_load(codebook_path().read_text(encoding="utf-8"))


def test_check_codebook_catches_a_duplicate_code_and_a_bad_skip_reference():
    doc = copy.deepcopy(_doc())
    loc = next(v for v in doc["tables"]["incidents"]["variables"] if v["name"] == "location_type")
    loc["codes"].append({"code": "street", "label": "Street again"})
    ci = next(v for v in doc["tables"]["incidents"]["variables"] if v["name"] == "condoms_confiscated")
    ci["show_if"] = [{"variable": "condoms_seen", "in": ["yes"]}]
    problems = check_codebook(parse_codebook(doc))
    assert "incidents.location_type: code 'street' is listed twice" in problems
    assert "incidents.condoms_confiscated: skip logic refers to unknown variable 'condoms_seen'" in problems


def test_check_codebook_catches_an_unlabelled_code_and_a_duplicate_variable():
    doc = copy.deepcopy(_doc())
    doc["tables"]["persons"]["variables"][2]["codes"][0]["label"] = " "
    doc["tables"]["persons"]["variables"].append(dict(doc["tables"]["persons"]["variables"][3]))
    problems = check_codebook(parse_codebook(doc))
    assert "persons.role: code 'seller' has no label" in problems
    assert "persons: variable 'age' is defined more than once" in problems


def test_the_origin_question_names_variables_that_exist(cb):
    """The committee's question on how cases began (codebook `questions`) points at real variables, a standard
    table and a chart."""
    import yaml

    from analysis.report.charts.meeting import COMPARISONS
    from analysis.scheme.codebook import codebook_path
    from analysis.tables.standard import STANDARD

    doc = yaml.safe_load(codebook_path().read_text(encoding="utf-8"))
    [q] = [q for q in doc["questions"] if q["id"] == "origin"]
    assert q["asked"] == "How did cases begin: a sting or operation, a tip, or a victim coming forward?"
    assert q["variables"][0] == "incidents.police_initiated"  # the headline: police-initiated, not stings alone
    for ref in q["variables"]:
        table, name = ref.split(".")
        assert name in cb.table(table).columns or name in [d.name for d in cb.derived[table]], ref
    assert q["table"] in [name for name, *_ in STANDARD] and q["chart"] in COMPARISONS


def test_origin_group_puts_every_origin_in_one_group(cb):
    grouping = cb.derived_variable("incidents", "origin_group")
    assert grouping.source == "origin"
    assert dict(grouping.members) == {
        "police_initiated": ("sting_sellers", "operation_buyers", "online_ad", "massage_inspection"),
        "reactive": ("tip", "victim_came_forward", "patrol"), "other": ("other",)}
    assert set(grouping.group_of()) == set(cb.variable("incidents", "origin").code_values)


def test_a_code_in_two_groups_and_a_shared_label_are_codebook_problems(cb):
    import dataclasses

    from analysis.scheme.codebook import check_codebook

    g = cb.derived_variable("incidents", "origin_group")
    bad_g = dataclasses.replace(g, members=g.members[:1] + (("reactive", ("tip", "sting_sellers")),))
    derived = dict(cb.derived, incidents=tuple(bad_g if d.name == "origin_group" else d for d in cb.derived["incidents"]))
    problems = check_codebook(dataclasses.replace(cb, derived=derived))
    assert "derived incidents.origin_group: code 'sting_sellers' of origin is in 2 levels, not exactly one" in problems
    assert "derived incidents.origin_group: code 'victim_came_forward' of origin is in 0 levels, not exactly one" \
        in problems
    pi = cb.derived_variable("incidents", "police_initiated")
    same = dataclasses.replace(pi, label="Condoms photographed")
    derived = dict(cb.derived, incidents=tuple(same if d.name == "police_initiated" else d for d in cb.derived["incidents"]))
    assert check_codebook(dataclasses.replace(cb, derived=derived)) == [
        "incidents: the label 'Condoms photographed' is used by 2 variables"]


def test_condom_labels_say_what_each_item_counts(cb):
    labels = {name: cb.variable("incidents", name).label for name in
              ("condoms_confiscated", "condoms_photographed", "condoms_evidence")}
    labels.update({d.name: d.label for d in cb.derived["incidents"] if d.name.startswith("condoms")})
    assert labels == {
        "condoms_confiscated": "Condoms confiscated", "condoms_photographed": "Condoms photographed",
        "condoms_evidence": "Condoms documented as evidence (other than a photograph)",
        "condoms_evidence_any": "Condoms photographed or documented (share of all reports)",
        "condoms_any_police_action": "Condoms confiscated, photographed or documented (share of all reports)"}


def test_race_lists_read_letters_by_the_reports_date(cb, cfg):
    import datetime as dt

    from analysis.scheme.race import letter_reading, list_in_use

    before, after = dt.date(2010, 5, 1), dt.date(2014, 5, 1)
    assert list_in_use(before, cfg, cb).letters == ("w", "b", "c", "o")
    assert len(list_in_use(after, cfg, cb).letters) == 19
    assert letter_reading("d", before, cfg, cb) is None  # D is not a letter of the older list
    assert letter_reading("d", after, cfg, cb) == "asian"
    assert letter_reading("u", after, cfg, cb) == "pacific_islander"  # U is Hawaiian, not unknown
    assert letter_reading("x", after, cfg, cb) == "-8"
    assert letter_reading("w", before, cfg, cb) == "white"  # Latino people were often entered as W before
    assert cfg.race_recording_change_date == dt.date(2012, 9, 1) and not cfg.race_recording_change_date_confirmed
    assert "not directly comparable between 2009/10 and 2014/15" in cb.variable("persons", "race_ethnicity").caveat
    assert cb.derived_variable("persons", "trans_woman_of_color").caveat == cb.variable("persons", "race_recorded").caveat


def test_scheme_yaml_reads_the_same_documents_as_pyyaml_and_reports_its_errors():
    """The codebook, study configuration and published statements parse (through libyaml when present) to exactly
    what ``yaml.safe_load`` gives; a broken text raises PyYAML's own message, which quotes the offending line."""
    from analysis.scheme.config import default_config_path
    from analysis.scheme.published import published_path
    from analysis.scheme.yamltext import load_yaml

    assert yaml.__with_libyaml__  # the pinned PyYAML wheels carry it: the fast path is the one tested
    for path in (codebook_path(), default_config_path(), published_path()):
        text = path.read_text(encoding="utf-8")
        assert load_yaml(text) == yaml.safe_load(text), path.name
    broken = "periods:\n  - code: a\n   label: b\n"
    with pytest.raises(yaml.YAMLError) as err:
        load_yaml(broken)
    with pytest.raises(yaml.YAMLError) as pure:
        yaml.safe_load(broken)
    assert str(err.value) == str(pure.value) and "\n      - code: a\n" in str(err.value)  # (libyaml's has no quote)
