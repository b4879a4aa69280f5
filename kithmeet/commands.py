"""`flask --app app <command>`: create-organizer, setup-code, reset-password, demo, purge,
send-mail, mail-worker, send-nudges, backup, static-build."""
import logging

import click
from flask import current_app

from . import changelog
from .errors import DomainError
from .extensions import db
from .urls import external_url, local_base


def _local_base():
    # Commands run outside any request, so links need a base: PUBLIC_URL when set (urls.py
    # prefers it), else what `make run` serves, since that is where a CLI user will look.
    return local_base()


def init_app(app):
    @app.cli.command("create-organizer")
    @click.option("--email", prompt=True, help="The organizer's sign-in email.")
    @click.password_option(help="At least 10 characters; prompted for when not given.")
    def create_organizer(email, password):
        """Create an organizer account."""
        from .organizer import services

        try:
            organizer = services.create_organizer(email, password)
        except DomainError as error:
            raise click.ClickException(f"{error.message} [{error.code}]") from None
        click.echo(f"Organizer {organizer.email} created. Sign in at {external_url('organizer.login', _local_base())}")

    @app.cli.command("setup-code")
    def setup_code():
        """Print the one-time code that the first organizer types on the setup page."""
        from .organizer import services

        if services.organizer_exists():
            click.echo("kithmeet is set up: organizers sign in at /organizer/login.")
            return
        click.echo(f"First run: open {external_url('organizer.setup', _local_base())} and enter the setup code "
                   f"{services.setup_code()}")

    @app.cli.command("reset-password")
    @click.argument("email")
    @click.option("--two-factor-off", is_flag=True,
                  help="Also turn two-factor sign-in off, for an organizer who lost their phone and recovery codes.")
    def reset_password(email, two_factor_off):
        """Print a one-time link that sets a new password for the organizer with EMAIL (valid 1 hour)."""
        from .organizer import passwords, services, twofactor

        try:
            organizer = services.organizer_by_email(email)
            if two_factor_off:
                twofactor.turn_off_from_the_server(organizer)
                click.echo(f"Two-factor sign-in is off for {organizer.email}; every sign-in has ended.")
        except DomainError as error:
            raise click.ClickException(f"{error.message} [{error.code}]") from None
        secret = passwords.issue_reset_secret(organizer, actor="cli")
        valid = int(passwords.RESET_VALID_FOR.total_seconds() // 60)
        click.echo(f"Open this link to choose a new password for {organizer.email}. It works once, for {valid} "
                   f"minutes, and signs the account out everywhere:\n{passwords.reset_link(secret, _local_base())}")

    @app.cli.command("demo")
    @click.option("--force", is_flag=True, help="Add the demo even though a real organizer exists.")
    @click.option("--remove", is_flag=True, help="Remove the demo people, series, events and organizer.")
    def demo(force, remove):
        """Seed a demo series, an open event and attendees; print each attendee's sign-in link."""
        from . import demo as demo_module

        base = _local_base()
        # The seeding's change lines would bury the links this command exists to print.
        level = changelog.logger.level
        changelog.logger.setLevel(logging.WARNING)
        try:
            if remove:
                removed_people, removed_series = demo_module.remove()
                click.echo(f"Removed {removed_people} demo people and {removed_series} demo series.")
                return
            event, organizer, password, attendees = demo_module.seed(force=force)
        except DomainError as error:
            raise click.ClickException(f"{error.message} [{error.code}]") from None
        finally:
            changelog.logger.setLevel(level)
        click.echo(f"Demo event “{event.name}” is open. "
                   f"Join link: {external_url('people.join', base, code=event.join_code)}")
        if password:
            click.echo(f"Organizer sign-in: {external_url('organizer.login', base)}  "
                       f"email {organizer.email}  password {password}")
        click.echo("Open two attendees' links in two browser windows (one private), then scan or open "
                   "one's badge link from the other:")
        for person, secret in attendees:
            click.echo(f"  {person.name:<16}  {external_url('people.signin', base, secret=secret)}")

    @app.cli.command("purge")
    @click.option("--dry-run", is_flag=True, help="Only count what would be removed.")
    def purge(dry_run):
        """Delete attendees whose data has passed their series' retention, then sent mail older
        than MAIL_KEEP_DAYS and expired sessions. Run it daily."""
        from . import database, sessions
        from .mail import services as mail
        from .people import retention

        now = database.utcnow()
        counts = retention.expiring(now) if dry_run else retention.purge(now)
        # Counts only: who was deleted is nobody's business, not even the log's.
        click.echo(f"{'Would remove' if dry_run else 'Removed'} {counts.people} people, their side of "
                   f"{counts.connections} connections and {counts.check_ins} check-ins.")
        messages = mail.finished_count(now) if dry_run else mail.purge_finished(now)
        click.echo(f"{'Would remove' if dry_run else 'Removed'} {messages} sent or failed e-mails older than "
                   f"{current_app.config['MAIL_KEEP_DAYS']} days.")
        from .guests import services as guests

        uploads = guests.purge_unconfirmed(now, dry_run=dry_run)
        click.echo(f"{'Would remove' if dry_run else 'Removed'} {uploads} guest-list uploads never imported.")
        if not dry_run:
            click.echo(f"Removed {sessions.purge_expired()} expired sessions.")

    @app.cli.command("send-mail")
    @click.option("--limit", default=500, show_default=True, help="Send at most this many messages.")
    def send_mail(limit):
        """Send the mail that is due, once (for cron), and print counts."""
        from .mail import worker

        counts = worker.send_due(limit=limit)
        click.echo(f"Sent {counts.sent} messages; {counts.retrying} will be retried; {counts.failed} failed for good.")

    @app.cli.command("mail-worker")
    @click.option("--poll", default=5.0, show_default=True, help="Seconds between looks at the queue.")
    def mail_worker(poll):
        """Send mail as it is queued, until stopped (SIGTERM or Ctrl-C). `make run` starts it."""
        from .followup import nudges
        from .mail import worker

        # The weekly nudges are queued from the same loop, at most once an hour.
        worker.run_forever(poll_seconds=poll, each_round=nudges.hourly())

    @app.cli.command("backup")
    @click.argument("destination", type=click.Path(dir_okay=False, writable=True))
    def backup(destination):
        """Copy the SQLite database to DESTINATION (a new file) while the site keeps serving:
        SQLite's online backup, a consistent copy. PostgreSQL sites use pg_dump (docs/deploy.md)."""
        from .backups import BackupError, backup_sqlite

        try:
            size = backup_sqlite(destination)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Backed up the database to {destination} ({size} bytes).")

    @app.cli.command("send-nudges")
    def send_nudges():
        """Queue the weekly reconnect e-mails that are due (for cron; the mail worker also does
        this hourly). `send-mail` or the worker then sends them."""
        from .followup import nudges

        click.echo(f"Queued {nudges.queue_due()} weekly reconnect e-mails.")

    @app.cli.command("static-build")
    @click.argument("destination", type=click.Path(file_okay=False))
    def static_build(destination):
        """Write the static files under their content-hashed names into DESTINATION, the folder
        nginx serves them from (docs/deploy.md), before the new code serves. Files of earlier
        builds are kept, for pages an old server still hands out; run again, it adds nothing."""
        from . import static_files

        try:
            written, kept = static_files.build(current_app.static_folder, destination)
        except (ValueError, OSError) as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Wrote {written} files to {destination}; {kept} were there already.")

    @app.shell_context_processor
    def shell_context():
        return {"db": db}
