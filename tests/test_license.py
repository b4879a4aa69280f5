"""The project is licensed under the GNU AGPL, version 3 or later: the text and the metadata agree."""
import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
LICENSE = ROOT / "LICENSE"
PYPROJECT = ROOT / "pyproject.toml"


def test_license_file_is_the_agpl_v3_text():
    text = LICENSE.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    assert lines[0] == "GNU AFFERO GENERAL PUBLIC LICENSE"
    assert lines[1] == "Version 3, 19 November 2007"
    for number in range(18):  # sections 0 (Definitions) to 17 of the terms
        assert any(line.startswith(f"{number}. ") for line in lines), f"section {number} missing"
    assert "13. Remote Network Interaction; Use with the GNU General Public License." in lines
    assert "END OF TERMS AND CONDITIONS" in lines
    assert "How to Apply These Terms to Your New Programs" in lines
    assert len(text) > 34_000  # the whole text, not an excerpt


def test_pyproject_declares_agpl_3_or_later():
    with PYPROJECT.open("rb") as f:
        project = tomllib.load(f)["project"]
    assert project["license"] == "AGPL-3.0-or-later"
    assert project["license-files"] == ["LICENSE"]
