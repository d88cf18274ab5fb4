"""How many patients' text messages a second the inbound SMS webhook stores, each exactly once.

Builds, in a temporary directory (or a dedicated PostgreSQL database), one clinic with 2,000
patients who each have a treatment case, then serves Clearplan with gunicorn on loopback (sync
workers) and posts Twilio-format incoming messages to /hooks/sms/inbound/ from several clients at
once, each request signed with X-Twilio-Signature as Twilio signs it. About one request in five
repeats a MessageSid already sent (Twilio retries), some at the same moment as the first. Every
message is checked afterwards, once the worker (`manage.py worker --batch`, timed too) has put
the kept messages in their threads: each MessageSid is stored once, in the right patient's thread.
The floor is /health/ posted at the same concurrency in the same run.

    .venv/bin/python bench/webhook_ingest.py [--messages 3000] [--clients 6] [--workers 3]
        [--database sqlite|postgres]

Exits non-zero only when a message is missing or stored twice, never for speed. Target: at
least 200 messages a second on this machine.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from harness import free_port, gunicorn, postgres_url, recreate_postgres_database

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
POSTGRES_DATABASE = "clearplan_bench_ingest"
POSTGRES_URL = postgres_url(POSTGRES_DATABASE)
AUTH_TOKEN = "bench-auth-token"  # noqa: S105 - a made-up token for a throwaway server
PATIENTS = 2000
PATH = "/hooks/sms/inbound/"
WORDS = [
    "Hi, is there any way to spread the cost?",
    "Will it hurt much afterwards?",
    "Can I come in on Friday morning instead?",
    "What will my health fund cover?",
    "Thanks, see you Tuesday",
    "Can I think about it for a week or two?",
]


def mobile(number: int) -> str:
    return f"+614{number:08d}"


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clearplan.settings")
    django.setup()


def seed() -> None:
    """One clinic, a manager and a coordinator (who are told of each message), and 2,000 patients
    with a mobile number and a case each."""
    django_setup()
    from datetime import date

    from django.db import transaction

    from clearplan.accounts.models import Clinic, Membership, Organisation, User
    from clearplan.patients.models import Patient
    from clearplan.plans.models import Case

    with transaction.atomic():
        organisation = Organisation.objects.create(name="Bench Dental Group")
        clinic = Clinic.objects.create(organisation=organisation, name="Bench Dental", time_zone="Australia/Sydney")
        manager = User.objects.create_user(email="manager@bench.example", password=None, first_name="Mia")
        coordinator = User.objects.create_user(email="chloe@bench.example", password=None, first_name="Chloé")
        dentist = User.objects.create_user(email="dentist@bench.example", password=None, first_name="Priya")
        for user, role in (
            (manager, Membership.Role.MANAGER),
            (coordinator, Membership.Role.COORDINATOR),
            (dentist, Membership.Role.PRACTITIONER),
        ):
            clinical = Membership.ClinicalRole.DENTIST if role == Membership.Role.PRACTITIONER else ""
            Membership.objects.create(user=user, clinic=clinic, role=role, clinical_role=clinical)
        patients = Patient.objects.bulk_create(
            [
                Patient(
                    clinic=clinic,
                    first_name=f"Patient{number}",
                    last_name="Ngata",
                    search_name=f"patient{number} ngata",
                    date_of_birth=date(1980, 1, 1),
                    mobile=mobile(number),
                    consent_sms=True,
                )
                for number in range(PATIENTS)
            ]
        )
        today = date.today()
        for patient in patients:
            # Saved one by one so each case gets its pipeline record, as in the product.
            Case.objects.create(
                clinic=clinic,
                patient=patient,
                dentist=dentist,
                coordinator=coordinator,
                created_by=coordinator,
                conversation_date=today,
                plan_type="oral_health",
            )


def check(expected: dict[str, str]) -> list[str]:
    """Each MessageSid stored once, in the thread of the patient whose number sent it."""
    django_setup()
    from collections import Counter

    from clearplan.messaging.models import ConversationMessage

    rows = list(
        ConversationMessage.objects.filter(channel="sms", direction="in").values_list(
            "provider_message_id", "conversation__patient__mobile"
        )
    )
    problems = []
    counts = Counter(sid for sid, _ in rows)
    twice = [sid for sid, count in counts.items() if count > 1]
    if twice:
        problems.append(f"{len(twice)} messages stored more than once")
    missing = set(expected) - set(counts)
    if missing:
        problems.append(f"{len(missing)} messages not stored")
    wrong = [sid for sid, number in rows if expected.get(sid) != number]
    if wrong:
        problems.append(f"{len(wrong)} messages in the wrong thread")
    print(f"stored {len(rows):,} messages for {len(expected):,} different MessageSids")
    return problems


def signature(url: str, fields: dict[str, str]) -> str:
    sys.path.insert(0, str(ROOT))
    from clearplan.messaging.signatures import twilio_signature

    return twilio_signature(AUTH_TOKEN, url, fields.items())


def requests_to_send(count: int, base_url: str) -> tuple[list[tuple[str, bytes, dict[str, str]]], dict[str, str]]:
    rng = random.Random(200)  # noqa: S311 - made-up traffic, the same on every run
    unique = int(count / 1.2)
    expected: dict[str, str] = {}
    bodies = []
    for number in range(unique):
        sid = f"SM{number:032x}"
        sender = mobile(rng.randrange(PATIENTS))
        fields = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": "ACbench",
            "From": sender,
            "To": "+61400000000",
            "Body": rng.choice(WORDS),
            "NumMedia": "0",
        }
        expected[sid] = sender
        bodies.append(fields)
    # Twilio retries: about one in five again, some straight after the first, some later.
    repeats = [rng.choice(bodies) for _ in range(count - unique)]
    order = bodies + repeats
    rng.shuffle(order)
    prepared = []
    for fields in order:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature(base_url + PATH, fields),
        }
        prepared.append((PATH, urllib.parse.urlencode(fields).encode(), headers))
    return prepared, expected


def fire(port: int, requests: list[tuple[str, bytes, dict[str, str]]], clients: int) -> tuple[float, list[int]]:
    """Post every request, `clients` at a time; returns (seconds, status codes)."""
    statuses: list[int] = []
    lock = threading.Lock()
    position = iter(range(len(requests)))

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                break
            path, body, headers = requests[index]
            connection.request("POST" if body else "GET", path, body=body or None, headers=headers)
            response = connection.getresponse()
            response.read()
            with lock:
                statuses.append(response.status)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000, help="requests to post, repeats included")
    parser.add_argument("--clients", type=int, default=6, help="requests in flight at once")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers (gunicorn advises 2 × cores − 1)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--check", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed()
        return
    if args.check:
        import json

        problems = check(json.loads(Path(args.check).read_text()))
        print("\n".join(problems) or "every message stored once, in its patient's thread")
        sys.exit(1 if problems else 0)

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="clearplan-bench-") as var_dir:
        env = {
            **os.environ,
            "CLEARPLAN_VAR_DIR": var_dir,
            "LOG_LEVEL": "WARNING",
            "SECRET_KEY": "bench-only",
            "SECURE_COOKIES": "false",
            # The provider is never called here: only its auth token, to check signatures.
            "SMS_URL": f"twilio://ACbench:{AUTH_TOKEN}@127.0.0.1:9?from=%2B61400000000&scheme=http",
            "PUBLIC_BASE_URL": base_url,
            "SITE_URL": base_url,
            "EMAIL_URL": "console://",
        }
        env.pop("DATABASE_URL", None)
        if args.database == "postgres":
            env["DATABASE_URL"] = POSTGRES_URL
            recreate_postgres_database(POSTGRES_DATABASE)
        try:
            subprocess.run(
                [PYTHON, "manage.py", "migrate", "--noinput", "-v0"],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            print(f"Seeding {PATIENTS:,} patients with a case each ({args.database})…", flush=True)
            subprocess.run([PYTHON, str(Path(__file__).resolve()), "--seed"], cwd=ROOT, env=env, check=True)
            requests, expected = requests_to_send(args.messages, base_url)
            floor_requests = [("/health/", b"", {}) for _ in range(min(args.messages, 1000))]
            with gunicorn(env, port=port, workers=args.workers):
                floor_seconds, _ = fire(port, floor_requests, args.clients)
                seconds, statuses = fire(port, requests, args.clients)
            refused = [status for status in statuses if status != 200]
            # The worker puts each kept message in its thread: time how long it takes to catch up.
            began = time.perf_counter()
            subprocess.run(
                [PYTHON, "manage.py", "worker", "--batch", "--queue-name", "default"],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            processing_seconds = time.perf_counter() - began
            check_file = Path(var_dir) / "expected.json"
            import json

            check_file.write_text(json.dumps(expected))
            verdict = subprocess.run(
                [PYTHON, str(Path(__file__).resolve()), "--check", str(check_file)], cwd=ROOT, env=env
            )
        finally:
            if args.database == "postgres":
                recreate_postgres_database(POSTGRES_DATABASE, drop_only=True)
    floor_rate = len(floor_requests) / floor_seconds
    rate = len(requests) / seconds
    print(
        f"\n{args.database}: {len(requests):,} signed requests ({len(expected):,} different messages, "
        f"{len(requests) - len(expected):,} repeats), {args.clients} clients, {args.workers} gunicorn workers"
    )
    print(f"floor /health/:           {floor_rate:8.0f} requests/s")
    print(f"inbound SMS webhook:      {rate:8.0f} messages/s ({rate / floor_rate:.2f} × floor)")
    print(f"new messages kept:        {len(expected) / seconds:8.0f} /s")
    print(
        f"worker, into the threads: {len(expected) / processing_seconds:8.0f} messages/s "
        "(one worker process: thread, follow-up stopped, team notified)"
    )
    print("target: at least 200 messages/s")
    if refused:
        print(f"{len(refused)} requests were not answered 200: {sorted(set(refused))}")
    if refused or verdict.returncode:
        sys.exit(1)


if __name__ == "__main__":
    main()
