"""The codebook itself: complete, consistent, and what the study asked for."""

import copy

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
