"""Time printed badge sheets: 500 badges as one PDF on each stock (target: under 10 s), built
through the organizer's service from a seeded event, as the print page builds them. Not a test:
numbers to read.

Run: make benchmark   (or .venv/bin/python benchmarks/badges.py)
"""
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kithmeet import create_app  # noqa: E402
from kithmeet.badges import fonts, sheets  # noqa: E402
from kithmeet.badges.stock import STOCKS  # noqa: E402
from kithmeet.events import services as events  # noqa: E402
from kithmeet.extensions import db  # noqa: E402
from kithmeet.organizer import services as organizers  # noqa: E402
from kithmeet.people import services as people  # noqa: E402
from kithmeet.people.profile import Profile  # noqa: E402

COUNT = 500
TARGET_SECONDS = 10
# A mix as a meetup has it: plain Latin names, right-to-left ones, emoji and long ones.
NAMES = ("Ada Okafor", "Bo Lindqvist", "محمد الأحمد", "נועה כהן", "Zoë 🎉 Martin",
         "Maximiliana Alexandrina Hohenzollern-Sigmaringen", "Chidi Nwosu", "Li Wei")


def seed(app, count):
    with app.app_context():
        db.create_all()
        organizer = organizers.create_organizer("bench@example.org", "benchmark password")
        event = events.create_event(organizer, name="Bench night", starts_at=datetime(2026, 11, 26, 19),
                                    prompts=("Ask me about", "I can help with"))
        events.set_status(organizer, event.public_id, "open")
        for i in range(count):
            people.join_event(event, Profile(
                name=NAMES[i % len(NAMES)], pronouns="they/them" if i % 3 else "", headline="", contacts={},
                shared={}, answers=(("Ask me about", f"Topic number {i}"),)))
        return organizer.id, event.public_id


def main(count=COUNT):
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3", "SECRET_KEY": "bench",
                          "RATELIMIT_ENABLED": False, "CHANGELOG_LEVEL": "WARNING",
                          "PUBLIC_URL": "https://meet.example.org"}, instance_path=f"{tmp}/instance")
        organizer_id, public_id = seed(app, count)
        with app.app_context():
            from kithmeet.organizer.models import Organizer
            organizer = db.session.get(Organizer, organizer_id)
            fonts.fonts(fonts.font_dirs())  # the fonts are read once per process, not per sheet
            print(f"{count} badges as PDF (target under {TARGET_SECONDS} s):")
            # The first stock works out every QR code; the others reuse them (qr.code), as
            # an organizer printing the same people again does. CPU time beside wall time: on a
            # shared machine the wall clock measures the neighbours too.
            for key in STOCKS:
                started, cpu = time.perf_counter(), time.process_time()
                pdf = sheets.event_sheets(organizer, public_id, key, "checked_in")
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                verdict = "ok" if seconds < TARGET_SECONDS else "SLOW"
                print(f"  {key:<13} {seconds:6.2f} s wall  {cpu:6.2f} s CPU  {len(pdf) / 1024:5.0f} KB  {verdict}")
            db.engine.dispose()


if __name__ == "__main__":
    main()
