"""How fast the Conversations inbox answers for a clinic with 50,000 threads, against a minimal view.

Builds, in a temporary directory (or a dedicated PostgreSQL database), one clinic with 50,000
patients, each with a conversation of 2–4 messages (texts, emails, pack-page replies, the team's
replies and internal notes) and a realistic inbox state: most closed, some open, a few hundred
unread, some assigned (some of them to the signed-in coordinator), some snoozed. Seeded with
bulk_create. Then serves it with gunicorn on loopback (one sync worker), signs in as the
coordinator and times each inbox list (all open, unread, assigned to me, closed, and searches by
name, phone and words); the floor is /health/ in the same run. Target: p95 under 100 ms.

    .venv/bin/python bench/conversations_inbox.py [--requests 100] [--database sqlite|postgres]
        [--conversations 50000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import gunicorn, postgres_url, recreate_postgres_database, signed_in, time_page

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
POSTGRES_DATABASE = "clearplan_bench_inbox"
POSTGRES_URL = postgres_url(POSTGRES_DATABASE)
LOGIN = ("chloe@bench.example", "bench-inbox-password")
BATCH = 5000

PATIENT_WORDS = [
    "Is there any way to spread the cost?",
    "Will the implant hurt?",
    "How much time off work should I plan for?",
    "What will HCF cover? I'm on mid-level extras.",
    "Can I think about it for a couple of weeks?",
    "Can we move the appointment to next week?",
    "Running about 10 minutes late, sorry!",
    "Thanks so much to the team.",
]
TEAM_WORDS = [
    "Thanks for your message, we'll give you a call today.",
    "Yes, you can pay across your visits with no interest.",
    "Send us your membership number and we'll ask your fund for an estimate.",
]


def seed(count: int) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clearplan.settings")
    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from clearplan.accounts.models import Clinic, Membership, Organisation, User
    from clearplan.messaging.models import Conversation, ConversationMessage
    from clearplan.patients.models import Patient
    from clearplan.patients.search import search_text_for

    rng = random.Random(50_000)  # noqa: S311 - made-up data, the same on every run
    now = timezone.now()
    started = time.monotonic()

    def say(what: str) -> None:
        print(f"  {time.monotonic() - started:6.1f} s  {what}", flush=True)

    with transaction.atomic():
        organisation = Organisation.objects.create(name="Bench Dental Group")
        clinic = Clinic.objects.create(
            organisation=organisation, name="Bench Dental Sydney", time_zone="Australia/Sydney"
        )
        me = User.objects.create_user(
            email=LOGIN[0], password=LOGIN[1], first_name="Chloé", last_name="Coordinator", organisation=organisation
        )
        Membership.objects.create(user=me, clinic=clinic, role=Membership.Role.COORDINATOR)
        team = [me] + [
            User.objects.create_user(
                email=f"tc{n}@bench.example", first_name=name, last_name="Desk", organisation=organisation
            )
            for n, name in enumerate(["Jack", "Ruby", "Sam", "Ari"])
        ]
        Membership.objects.bulk_create(
            [Membership(user=u, clinic=clinic, role=Membership.Role.FRONT_DESK) for u in team[1:]]
        )
        first_names = ["Mere", "Zoë", "Anh", "Tūī", "James", "Priya", "Liam", "Aroha", "Olivia", "Noah", "Mia", "Leo"]
        last_names = ["Ngata", "O'Brien", "Nguyễn", "Parata", "Smith-Jones", "Shah", "Walsh", "Chen", "Brown", "Kaur"]
        patients = []
        for n in range(count):
            first, last = rng.choice(first_names), f"{rng.choice(last_names)}{n}"
            patients.append(
                Patient(
                    clinic=clinic,
                    first_name=first,
                    last_name=last,
                    date_of_birth=dt.date(1950 + n % 60, 1 + n % 12, 1 + n % 28),
                    mobile=f"+614{n:08d}",
                    consent_sms=True,
                    search_name=search_text_for(first_name=first, last_name=last),
                    created_by=me,
                )
            )
        patients = Patient.objects.bulk_create(patients, batch_size=BATCH)
        say(f"{count:,} patients")

        threads, plans = [], []
        for patient in patients:
            last = now - dt.timedelta(minutes=rng.randint(5, 60 * 24 * 365))
            roll = rng.random()
            status = Conversation.Status.OPEN if roll < 0.12 else Conversation.Status.CLOSED
            unread = rng.randint(1, 2) if status == "open" and rng.random() < 0.4 else 0
            assigned = rng.choice(team) if status == "open" and rng.random() < 0.5 else None
            snoozed = now + dt.timedelta(hours=rng.randint(2, 72)) if status == "open" and rng.random() < 0.05 else None
            size = rng.randint(2, 4)
            words = rng.choice(PATIENT_WORDS)
            threads.append(
                Conversation(
                    clinic=clinic,
                    patient=patient,
                    status=status,
                    assigned_to=assigned,
                    snoozed_until=snoozed,
                    unread_count=unread,
                    last_message_at=last,
                    last_message_preview=words,
                    last_message_direction="in",
                    last_inbound_at=last,
                    last_inbound_channel="sms",
                    closed_at=last + dt.timedelta(hours=1) if status == "closed" else None,
                )
            )
            plans.append((size, last, words))
        threads = Conversation.objects.bulk_create(threads, batch_size=BATCH)
        Conversation.objects.filter(clinic=clinic).update(created_at=now - dt.timedelta(days=400))
        say(f"{count:,} conversations")
        messages = []
        for thread, (size, last, words) in zip(threads, plans, strict=True):
            for step in range(size):
                at = last - dt.timedelta(hours=size - 1 - step)
                if step == size - 1:
                    messages.append(ConversationMessage(conversation=thread, direction="in", channel="sms", body=words))
                elif step % 2:
                    messages.append(
                        ConversationMessage(
                            conversation=thread,
                            direction="internal",
                            channel="note",
                            author=me,
                            body="Called, left a voicemail.",
                        )
                    )
                else:
                    messages.append(
                        ConversationMessage(
                            conversation=thread,
                            direction="in",
                            channel=rng.choice(["sms", "email", "pack"]),
                            body=rng.choice(TEAM_WORDS + PATIENT_WORDS),
                        )
                    )
                messages[-1].created_at = at
            if len(messages) >= BATCH * 4:
                ConversationMessage.objects.bulk_create(messages, batch_size=BATCH)
                messages = []
        ConversationMessage.objects.bulk_create(messages, batch_size=BATCH)
        say(f"{ConversationMessage.objects.count():,} messages")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    say("done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page (after 10 warm-up)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--conversations", type=int, default=50_000)
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed(args.conversations)
        return
    with tempfile.TemporaryDirectory(prefix="clearplan-bench-") as var_dir:
        env = {
            **os.environ,
            "CLEARPLAN_VAR_DIR": var_dir,
            "LOG_LEVEL": "WARNING",
            "SECRET_KEY": "bench-only",
            "SECURE_COOKIES": "false",
        }
        env.pop("DATABASE_URL", None)
        if args.database == "postgres":
            env["DATABASE_URL"] = POSTGRES_URL
            recreate_postgres_database(POSTGRES_DATABASE)
        try:
            for command in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
                subprocess.run(
                    [PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
                )
            print(f"Seeding {args.conversations:,} conversations ({args.database})…", flush=True)
            subprocess.run(
                [PYTHON, str(Path(__file__).resolve()), "--seed", "--conversations", str(args.conversations)],
                cwd=ROOT,
                env=env,
                check=True,
            )
            results = measure(env, args.requests)
        finally:
            if args.database == "postgres":
                recreate_postgres_database(POSTGRES_DATABASE, drop_only=True)
    floor = results[0][1]
    print(f"\n{args.database}, {args.conversations:,} conversations, {args.requests} requests per page")
    print(f"{'page':40} {'p50 ms':>8} {'p95 ms':>8} {'p50 × floor':>12}")
    for label, median, p95 in results:
        print(f"{label:40} {median:8.1f} {p95:8.1f} {median / floor:12.1f}")
    worst = max(p95 for _label, _median, p95 in results[1:])
    print(f"slowest inbox p95: {worst:.1f} ms (target: under 100 ms)")


PAGES = [
    ("floor: /health/", "/health/"),
    ("all open", "/conversations/?view=open"),
    ("unread", "/conversations/?view=unread"),
    ("assigned to me", "/conversations/?view=mine"),
    ("snoozed", "/conversations/?view=snoozed"),
    ("closed", "/conversations/?view=closed"),
    ("search: a name", "/conversations/?view=closed&q=Parata123"),
    ("search: a phone", "/conversations/?view=closed&q=0400012345"),
    ("search: words", "/conversations/?view=closed&q=health%20fund"),
]


def measure(env: dict[str, str], requests: int) -> list[tuple[str, float, float]]:
    with gunicorn(env) as base:
        opener = signed_in(base, LOGIN)
        return [(label, *time_page(opener, f"{base}{path}", requests)) for label, path in PAGES]


if __name__ == "__main__":
    main()
