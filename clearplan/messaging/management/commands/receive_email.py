"""`manage.py receive_email`: one raw email on standard input, stored as the webhook would store it.

For a mail server that delivers to a program, for example Postfix's pipe transport:

    clearplan unix - n n - - pipe
      flags=R user=clearplan argv=/srv/clearplan/manage.py receive_email --recipient ${original_recipient}

Exit codes follow sysexits, which mail servers understand: 0 stored (or deliberately not
stored: an automatic reply, a repeat, kept unmatched), 65 the input is not a usable email (the
mail server bounces it), 75 try again later (the database could not be reached).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from clearplan.messaging.conversations.email_inbound import MAX_EMAIL_BYTES, email_receive

EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Store one email from standard input in the patient's conversation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--recipient", default="", help="The envelope recipient (the reply+… address the email was sent to)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read(MAX_EMAIL_BYTES + 1)
        try:
            outcome = email_receive(raw, envelope_recipient=str(options["recipient"])[:254])
        except DatabaseError as error:
            raise CommandError("The database could not be reached; try again later.", returncode=EX_TEMPFAIL) from error
        if outcome.status >= 400:
            raise CommandError(f"Not stored: {outcome.reason}", returncode=EX_DATAERR)
        self.stdout.write(f"{'Stored' if outcome.stored else 'Not stored'}: {outcome.reason}")
