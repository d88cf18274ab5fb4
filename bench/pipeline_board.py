"""How fast the Pipeline board and list answer for a busy clinic, against a minimal view.

Builds, in a temporary directory (or a dedicated PostgreSQL database), one clinic with 2,000
open cases spread over the board's stages and 100,000 closed (completed) ones, each with its
patient, plan options and lines, checklist tasks, and for most a sent pack with visits; seeded
with bulk_create, so it takes a minute or two rather than hours. Then serves it with gunicorn on
loopback (one sync worker, so requests do not compete), signs in as the practice manager and
times each page; the floor is /health/ (one SELECT 1, the smallest Django view) on the same
server in the same run. Target: p95 under 150 ms for the board and the list.

    .venv/bin/python bench/pipeline_board.py [--requests 100] [--database sqlite|postgres]
        [--open 2000] [--closed 100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

# Run as a script, this folder is on the path: the staff pages benchmark's small helpers are shared.
from harness import gunicorn, postgres_url, recreate_postgres_database, signed_in, time_page

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
POSTGRES_DATABASE = "clearplan_bench_pipeline"
POSTGRES_URL = postgres_url(POSTGRES_DATABASE)
LOGIN = ("maya@bench.example", "bench-pipeline-password")
BATCH = 5000

# How the open cases spread over the board's columns.
OPEN_SHARES = {
    "not_sent": 0.15,
    "sent": 0.30,
    "follow_up": 0.20,
    "requested": 0.10,
    "booked": 0.15,
    "not_proceeding": 0.10,
}


# ---------- Seeding (runs in a child process with the benchmark's settings) ----------


def seed(open_count: int, closed_count: int) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clearplan.settings")
    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from clearplan.accounts.models import Clinic, Membership, Organisation, User
    from clearplan.catalog.models import PackTemplate, Procedure
    from clearplan.packs.models import PackLink, PackSend, PackSession, PackVersion, PackVisit, PatientResponse
    from clearplan.patients.models import Patient
    from clearplan.patients.search import search_text_for
    from clearplan.pipeline.models import CaseProgress, CaseTask
    from clearplan.plans.models import Case, PlanLine, PlanOption

    rng = random.Random(2000)  # noqa: S311 - made-up data, the same on every run
    now = timezone.now()
    started = time.monotonic()

    def say(what: str) -> None:
        print(f"  {time.monotonic() - started:6.1f} s  {what}", flush=True)

    def bulk(model, rows):  # type: ignore[no-untyped-def]
        return model.objects.bulk_create(rows, batch_size=BATCH)

    with transaction.atomic():
        organisation = Organisation.objects.create(name="Bench Dental Group")
        clinic = Clinic.objects.create(
            organisation=organisation, name="Bench Dental Sydney", time_zone="Australia/Sydney"
        )
        manager = User.objects.create_user(
            email=LOGIN[0], password=LOGIN[1], first_name="Maya", last_name="Manager", organisation=organisation
        )
        Membership.objects.create(user=manager, clinic=clinic, role=Membership.Role.MANAGER)
        coordinators = [
            User.objects.create_user(
                email=f"tc{n}@bench.example", first_name=name, last_name="Coordinator", organisation=organisation
            )
            for n, name in enumerate(["Chloé", "Sam", "Ari", "Bea", "Cal", "Dee"])
        ]
        dentists = [
            User.objects.create_user(
                email=f"dr{n}@bench.example", first_name=name, last_name="Dentist", organisation=organisation
            )
            for n, name in enumerate(["Priya", "Ben", "Noor"])
        ]
        bulk(Membership, [Membership(user=u, clinic=clinic, role=Membership.Role.COORDINATOR) for u in coordinators])
        bulk(
            Membership,
            [
                Membership(user=u, clinic=clinic, role=Membership.Role.PRACTITIONER, clinical_role="dentist")
                for u in dentists
            ],
        )
        procedures = bulk(
            Procedure,
            [
                Procedure(
                    organisation=organisation,
                    code=code,
                    name=name,
                    category="restorative",
                    treatment_area="tooth",
                    default_chair_minutes=45,
                )
                for code, name in (("011", "Examination"), ("521", "Filling"), ("615", "Crown"), ("688", "Implant"))
            ],
        )
        fees = [Decimal("65.00"), Decimal("180.00"), Decimal("1650.00"), Decimal("4850.00")]
        templates = bulk(
            PackTemplate,
            [
                PackTemplate(
                    organisation=organisation,
                    name=name,
                    plan_type=kind,
                    cover_message="Hi",
                    what_we_found="Found",
                    next_steps="Next",
                    sending_script="Sent",
                )
                for name, kind in (("Crown", "oral_health"), ("Implant", "both"), ("Whitening", "elective"))
            ],
        )
        say("clinic, team, catalogue")

        total = open_count + closed_count
        stages: list[str] = []
        for stage, share in OPEN_SHARES.items():
            stages += [stage] * round(open_count * share)
        stages = (stages + ["sent"] * open_count)[:open_count] + ["completed"] * closed_count
        rng.shuffle(stages)

        first_names = ["Mere", "Zoë", "Anh", "Tūī", "James", "Priya", "Liam", "Aroha", "Olivia", "Noah", "Mia", "Leo"]
        last_names = ["Ngata", "O'Brien", "Nguyễn", "Parata", "Smith-Jones", "Shah", "Walsh", "Chen", "Brown", "Kaur"]
        patients = []
        for n in range(total):
            first, last = rng.choice(first_names), f"{rng.choice(last_names)}{n}"
            patients.append(
                Patient(
                    clinic=clinic,
                    first_name=first,
                    last_name=last,
                    date_of_birth=dt.date(1950 + n % 60, 1 + n % 12, 1 + n % 28),
                    mobile=f"+61491570{n % 1000:03d}",
                    search_name=search_text_for(first_name=first, last_name=last),
                    created_by=manager,
                )
            )
        patients = bulk(Patient, patients)
        say(f"{total:,} patients")

        cases = []
        for n, patient in enumerate(patients):
            days_ago = rng.randint(1, 60) if stages[n] != "completed" else rng.randint(60, 1500)
            cases.append(
                Case(
                    clinic=clinic,
                    patient=patient,
                    dentist=rng.choice(dentists),
                    coordinator=rng.choice([*coordinators, None]),
                    conversation_date=(now - dt.timedelta(days=days_ago)).date(),
                    plan_type=rng.choice(["oral_health", "elective", "both"]),
                    template=rng.choice([*templates, None]),
                    created_by=manager,
                )
            )
        cases = bulk(Case, cases)
        say(f"{total:,} cases")

        progress = []
        for case, stage in zip(cases, stages, strict=True):
            since = now - dt.timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 23))
            progress.append(
                CaseProgress(
                    case=case,
                    clinic=clinic,
                    stage=stage,
                    stage_since=since,
                    last_activity_at=since + dt.timedelta(hours=rng.randint(0, 30)),
                    not_proceeding_reason="cost" if stage == "not_proceeding" else "",
                    look_again_on=(now + dt.timedelta(days=60)).date() if stage == "not_proceeding" else None,
                    revision=rng.randint(0, 4),
                )
            )
        bulk(CaseProgress, progress)
        say("stages")

        options = []
        for case, stage in zip(cases, stages, strict=True):
            options.append(PlanOption(case=case, title="Option A", is_recommended=rng.random() < 0.7, position=0))
            if stage != "completed":
                options.append(PlanOption(case=case, title="Option B", position=1))
        options = bulk(PlanOption, options)
        lines = []
        for option in options:
            for _ in range(rng.randint(1, 3)):
                which = rng.randrange(len(procedures))
                lines.append(
                    PlanLine(option=option, procedure=procedures[which], fee=fees[which], quantity=rng.randint(1, 2))
                )
        bulk(PlanLine, lines)
        say(f"{len(options):,} options, {len(lines):,} lines")

        tasks = []
        for case, stage in zip(cases, stages, strict=True):
            for position, title in enumerate(("Add the X-rays and photos", "Send the draft plan", "Call the patient")):
                done = stage == "completed" or (position == 0 and stage != "not_sent")
                tasks.append(
                    CaseTask(
                        case=case,
                        kind="checklist",
                        step_key=f"step{position}",
                        title=title,
                        position=position,
                        due_on=case.conversation_date + dt.timedelta(days=position * 3),
                        done_at=now if done else None,
                        assigned_to=case.coordinator,
                    )
                )
        bulk(CaseTask, tasks)
        say(f"{len(tasks):,} tasks")

        sent = [(case, stage) for case, stage in zip(cases, stages, strict=True) if stage != "not_sent"]
        versions = bulk(
            PackVersion,
            [
                PackVersion(case=case, number=1, snapshot={}, body_html="", sha256="0" * 64, created_by=manager)
                for case, _stage in sent
            ],
        )
        links = bulk(
            PackLink,
            [
                PackLink(
                    case=case,
                    token_sha256=f"{n:064x}",
                    verification="date_of_birth",
                    created_by=manager,
                    expires_at=now + dt.timedelta(days=60),
                )
                for n, (case, _stage) in enumerate(sent)
            ],
        )
        bulk(
            PackSend,
            [
                PackSend(
                    case=case,
                    version=version,
                    link=link,
                    by_sms=True,
                    send_at=now - dt.timedelta(days=5),
                    sent_by=manager,
                    submission_key=f"bench{n}",
                )
                for n, ((case, _stage), version, link) in enumerate(zip(sent, versions, links, strict=True))
            ],
        )
        opened = [(n, entry) for n, entry in enumerate(zip(sent, versions, links, strict=True)) if rng.random() < 0.6]
        sessions = bulk(
            PackSession,
            [
                PackSession(link=link, key_sha256=f"{n:064x}", expires_at=now + dt.timedelta(days=30), verified_at=now)
                for n, (_sent, _version, link) in opened
            ],
        )
        visits, responses = [], []
        for session, (n, ((case, stage), version, link)) in zip(sessions, opened, strict=True):
            for _ in range(rng.randint(1, 3)):
                visits.append(
                    PackVisit(
                        session=session,
                        link=link,
                        case=case,
                        version=version,
                        seconds_viewed=rng.randint(20, 900),
                        measured_by_script=True,
                    )
                )
            if stage in ("requested", "booked", "completed") or rng.random() < 0.2:
                responses.append(
                    PatientResponse(
                        case=case,
                        version=version,
                        session=session,
                        kind="question",
                        message="When can I come in?",
                        submission_key=f"bench{n}",
                    )
                )
        bulk(PackVisit, visits)
        bulk(PatientResponse, responses)
        say(f"{len(sent):,} packs sent, {len(visits):,} visits, {len(responses):,} replies")
    if connection.vendor == "postgresql":
        # As autovacuum would have by now. SQLite is left as an installation leaves it: Clearplan
        # does not run ANALYZE there (see the report printed at the end).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        say("analysed")


# ---------- Timing ----------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page (after 10 warm-up)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--open", type=int, default=2000, help="open cases on the board")
    parser.add_argument("--closed", type=int, default=100_000, help="completed cases")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed(args.open, args.closed)
        return

    with tempfile.TemporaryDirectory(prefix="clearplan-bench-") as var_dir:
        # Plain HTTP on loopback: cookies without the Secure flag.
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
            print(f"Seeding {args.open:,} open and {args.closed:,} completed cases ({args.database})…", flush=True)
            subprocess.run(
                [PYTHON, __file__, "--seed", "--open", str(args.open), "--closed", str(args.closed)],
                cwd=ROOT,
                env=env,
                check=True,
            )
            results = measure(env, args.requests)
        finally:
            if args.database == "postgres":
                recreate_postgres_database(POSTGRES_DATABASE, drop_only=True)

    floor = results[0][1]
    print(f"\n{args.database}, {args.open:,} open + {args.closed:,} completed cases, {args.requests} requests per page")
    print(f"{'page':46} {'p50 ms':>8} {'p95 ms':>8} {'p50 × floor':>12}")
    for label, median, p95 in results:
        print(f"{label:46} {median:8.1f} {p95:8.1f} {median / floor:12.1f}")
    worst = max(p95 for label, _median, p95 in results[1:] if not label.startswith("("))
    print(f"slowest board or list p95: {worst:.1f} ms (target: under 150 ms)")


def measure(env: dict[str, str], requests: int) -> list[tuple[str, float, float]]:
    with gunicorn(env) as base:
        opener = signed_in(base, LOGIN)
        pages = [
            ("floor: /health/", "/health/"),
            ("board", "/pipeline/"),
            ("board, viewed with no response", "/pipeline/?engagement=viewed_no_response"),
            ("board, one coordinator, value ≥ 1,000", None),
            ("list, by stage (first page of 50)", "/pipeline/list/"),
            ("list, by value", "/pipeline/list/?sort=-value"),
            ("list, by next action, page 10", "/pipeline/list/?sort=next&page=10"),
            ("(list, completed cases by days in stage)", "/pipeline/list/?stage=completed&sort=-days"),
        ]
        board_html = opener.open(f"{base}/pipeline/").read().decode()
        person = re.search(r'<option value="([0-9a-f-]{36})">Chloé Coordinator</option>', board_html)
        results = []
        for label, path in pages:
            if path is None:
                if person is None:
                    continue
                path = f"/pipeline/?coordinator={person.group(1)}&value_min=1000"
            results.append((label, *time_page(opener, f"{base}{path}", requests)))
        return results


if __name__ == "__main__":
    main()
