"""Reading the office's reference files: the Unit objects and the compact codes agree, and a
malformed file is refused with the line to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import write_reference
from jianfu.config import ConfigError
from jianfu.reference import Codes, Reference, county_names


def test_codes_hold_what_the_reference_holds(tmp_path):
    folder = write_reference(tmp_path / "reference")

    reference, codes = Reference.load(folder), Codes.load(folder)

    assert codes.unit_codes.to_pylist() == list(reference.units)
    assert codes.unit_levels.to_pylist() == [u.level for u in reference.units.values()]
    assert codes.dept_codes.to_pylist() == list(reference.departments)
    assert codes.county_codes == reference.county_codes
    assert Codes.of(reference) == codes


def test_county_names_are_the_references_counties(tmp_path):
    folder = write_reference(tmp_path / "reference")

    names, reference = county_names(folder), Reference.load(folder)

    assert names and names == {code: reference.county_name(code) for code in reference.county_codes}


def test_spaces_a_bom_and_blank_optional_cells_are_read_as_an_office_writes_them(tmp_path):
    folder = tmp_path / "reference"
    folder.mkdir()
    (folder / "units.csv").write_text(
        "\ufeff unit_code , unit_name,level,parent_code\n"
        " 421127000000 ,黄梅县, county ,\n"
        "421127100000,黄梅镇,township, 421127000000\n\n", encoding="utf-8")
    (folder / "departments.csv").write_text("dept_code,dept_name,contact_email\n421127-AGRI,县农业农村局,\n",
                                            encoding="utf-8")

    reference = Reference.load(folder)

    county, township = reference.units.values()
    assert (county.unit_code, county.level, county.parent_code, county.contact_email) == \
        ("421127000000", "county", None, None)
    assert township.parent_code == "421127000000"
    assert reference.departments["421127-AGRI"].contact_email is None
    assert Codes.load(folder).county_codes == frozenset({"421127"})


@pytest.mark.parametrize(("units", "expected"), [
    ("unit_code,unit_name,level\n421127000000,黄梅县,county\n42112710000,黄梅镇,township\n",
     "units.csv line 3: unit_code '42112710000' is not 12 digits"),
    ("unit_code,unit_name,level\n421127000000,黄梅县,district\n",
     "units.csv line 2: level 'district' is not one of"),
    ("unit_code,unit_name\n421127000000,黄梅县\n", "units.csv: missing column(s) level"),
    ("unit_code,unit_name,level\n421127000000,黄梅县\n", "units.csv: CSV parse error"),
])
def test_a_malformed_units_file_names_what_to_fix(tmp_path, units, expected):
    folder = tmp_path / "reference"
    folder.mkdir()
    (folder / "units.csv").write_text(units, encoding="utf-8")
    (folder / "departments.csv").write_text("dept_code,dept_name\n421127-AGRI,县农业农村局\n", encoding="utf-8")

    for load in (Reference.load, Codes.load):
        with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(")", r"\)")):
            load(folder)


def test_a_missing_departments_file_is_named(tmp_path):
    folder = write_reference(tmp_path / "reference")
    Path(folder / "departments.csv").unlink()

    with pytest.raises(ConfigError, match="departments.csv is missing"):
        Codes.load(folder)
