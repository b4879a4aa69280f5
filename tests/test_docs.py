"""The project's own documents stay true to the tree and speak of the project alone."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "SECURITY.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_readme_leads_to_the_design_document():
    assert (ROOT / "docs" / "architecture.md").is_file()
    assert "(docs/architecture.md)" in (ROOT / "README.md").read_text()


def test_every_file_the_design_document_names_exists():
    text = (ROOT / "docs" / "architecture.md").read_text()
    # Paths only (a bare "models.py" means each domain's); instance/ is local, never in the tree.
    named = {name for name in re.findall(r"`([\w./-]+\.(?:py|html|md|js|css|ini))`", text)
             if "/" in name and not name.startswith("instance/")}
    assert len(named) > 10, "the document names almost no files: did the pattern break?"
    missing = [name for name in sorted(named)
               if not any((base / name).exists() for base in (ROOT, ROOT / "kithmeet", ROOT / "tests",
                                                             ROOT / "templates", ROOT / "kithmeet" / "migrations"))]
    assert missing == [], f"docs/architecture.md names files that do not exist: {missing}"


def test_documents_point_at_nothing_outside_the_repository():
    for doc in DOCS:
        text = doc.read_text()
        assert "../shared" not in text and "shared/" not in text.replace("docs/screenshots", ""), doc.name
        for link in re.findall(r"\]\(([^)]+)\)", text):
            assert not link.startswith(("http:", "https:", "..")), f"{doc.name} links outside: {link}"
            assert (doc.parent / link.split("#")[0]).exists(), f"{doc.name} links to a missing {link}"
