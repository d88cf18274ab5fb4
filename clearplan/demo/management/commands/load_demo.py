"""python manage.py load_demo                      — create the demo practice if it is not there
python manage.py load_demo --print-logins [--url URL] — show where to go and how to sign in"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import NoReverseMatch, reverse

from clearplan.demo.conversations import load_demo_conversations
from clearplan.demo.packs import demo_patient_link
from clearplan.demo.pipeline import load_demo_pipeline
from clearplan.demo.practice import DEMO_PASSWORD, ORGANISATION_NAME, demo_logins, demo_organisation, load_practice


class Command(BaseCommand):
    help = "Loads the Harbour & Hills Dental demo practice (once), or prints its sign-in details."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--print-logins",
            action="store_true",
            help="Print the address and the demo sign-ins, without changing anything.",
        )
        parser.add_argument("--url", default="", help="The address Clearplan is running at, for --print-logins.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["print_logins"]:
            self._print_logins(options["url"] or f"{settings.SITE_URL}/")
            return
        if not (settings.DEMO or settings.DEBUG):
            raise CommandError(
                "The demo practice has accounts with a published password, so it is only loaded when "
                "CLEARPLAN_DEMO=true or DEBUG=true. Start the demo with bin/demo."
            )
        result = load_practice()
        if result.organisation is not None:
            load_demo_pipeline(result.organisation)
            load_demo_conversations(result.organisation)
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded the demo practice {result.name}: {result.clinics} clinics, "
                    f"{result.staff} staff and {result.patients} patients."
                )
            )
        elif result.organisation is None:
            self.stdout.write(
                "Some of the demo practice's logins already exist, so it was not loaded again; nothing was changed."
            )
        else:
            self.stdout.write(
                f"The demo practice {result.name} already exists "
                f"({result.clinics} clinics, {result.staff} staff, {result.patients} patients); nothing was changed."
            )

    def _print_logins(self, url: str) -> None:
        organisation = demo_organisation()
        logins = demo_logins()
        if organisation is None and not logins:
            raise CommandError("The demo practice is not loaded yet. Run: python manage.py load_demo")
        team = organisation.name if organisation is not None else ORGANISATION_NAME
        widths = [
            max([len(heading), *(len(getattr(login, field)) for login in logins)])
            for heading, field in (("Email", "email"), ("Role", "role"), ("Clinic", "clinic"))
        ]

        def row(*cells: str) -> str:
            return "  " + "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

        lines = [
            "",
            self.style.SUCCESS(f"Clearplan is running at {url}"),
            "",
            f"Sign in as any of the {team} team. The password for every demo login is:",
            "",
            f"  {DEMO_PASSWORD}",
            "",
            row("Email", "Role", "Clinic"),
            row(*("-" * width for width in widths)),
            *(row(login.email, login.role, login.clinic) for login in logins),
            "",
            *self._patient_link_lines(url),
            *self._outbox_lines(url),
        ]
        self.stdout.write("\n".join(lines))

    def _patient_link_lines(self, url: str) -> list[str]:
        link = demo_patient_link()
        if link is None:
            return []
        born = f"{link.date_of_birth.day} {link.date_of_birth:%B %Y}"
        return [
            "Try the patient's side: open this treatment pack link (a phone-width window shows it as a patient would):",
            "",
            f"  {url.rstrip('/')}{link.path}",
            "",
            f"and verify with {link.first_name}'s date of birth: {born}.",
            "",
        ]

    def _outbox_lines(self, url: str) -> list[str]:
        try:
            outbox = reverse("messaging:outbox")
        except NoReverseMatch:
            return []
        return [f"Emails the demo sends (invitations, password resets) are kept at {url.rstrip('/')}{outbox}", ""]
