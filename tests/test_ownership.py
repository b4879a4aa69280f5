"""One owner per rule, checked on the source: the words of a connection are written only
by connections/notes.py, and which contact fields a viewer sees is decided only by
connections/contacts.py. A page, export or API that decides for itself fails here."""
import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "kithmeet"
TEMPLATES = PACKAGE.parent / "templates"
NOTE_FIELDS = {"talked_about", "private_note"}


def modules():
    found = sorted(PACKAGE.rglob("*.py"))
    assert len(found) > 30, "the package was not found"
    return [path for path in found if "migrations" not in path.parts]


def assigned_attributes(tree):
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
            if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for target in targets:
            for element in (target.elts if isinstance(target, ast.Tuple) else [target]):
                if isinstance(element, ast.Attribute):
                    yield element.attr, node.lineno


WRITE_BY_NAME = {"_swap", "setattr", "set_committed_value"}


def named_in_calls(tree):
    """Columns written by name: `_swap(row, "talked_about", ...)`, `setattr(row, "private_note", ...)`."""
    for node in ast.walk(tree):
        function = getattr(node, "func", None)
        name = getattr(function, "id", None) or getattr(function, "attr", None)
        if isinstance(node, ast.Call) and name in WRITE_BY_NAME:
            for argument in node.args:
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    yield argument.value, node.lineno


def test_only_connections_notes_writes_the_words_of_a_connection():
    writers = set()
    for path in modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        for attribute, line in [*assigned_attributes(tree), *named_in_calls(tree)]:
            if attribute in NOTE_FIELDS:
                writers.add(f"{path.relative_to(PACKAGE)}:{line}")
    assert writers and all(place.startswith("connections/notes.py:") for place in writers), writers


def test_only_connections_contacts_decides_which_contact_fields_are_seen():
    deciders = []
    for path in modules():
        text = path.read_text()
        if re.search(r"\.shared\b", text) and path.relative_to(PACKAGE).parts[0] != "people":
            deciders.append(str(path.relative_to(PACKAGE)))
    # The people domain stores the switch each person sets; outside it only the rule reads it.
    assert deciders == ["connections/contacts.py"], deciders
    readers = [str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
               if re.search(r"\.(contacts|shared)\b", path.read_text().replace("entry.contacts", ""))]
    assert readers == [], f"templates that pick contact fields themselves: {readers}"
