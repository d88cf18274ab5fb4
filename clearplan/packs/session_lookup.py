"""Finding a patient's pack session from its cookie, on every patient request.

The lookup joins the session to its link, case, clinic and patient and reads the case's latest
version and the link's newest reply and signature in the same statement. The database answers it
in a fraction of a millisecond; Django compiling that queryset again on every request costs about
twenty times as much. So each thread compiles it once, with placeholder values, and runs the same
SQL with the request's values, building the objects the way Django's own model iterator does.
Anything unexpected in the compiled statement switches this off for the thread and the ordinary
queryset is used, so the result is always what `session_queryset` would give.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections, router
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]  # not in the stubs

from clearplan.packs.models import ConsentSignature, PackSession, PackVersion, PatientResponse

# Read with the session: the case's latest version, and the newest reply and signature made
# through the link (which say whether the pack page's kept actions area is still right).
PAGE_STATE = {
    "latest_version_key": Subquery(
        PackVersion.objects.filter(case_id=OuterRef("link__case_id")).order_by("-number").values("public_id")[:1]
    ),
    "last_response_key": Subquery(
        PatientResponse.objects.filter(session__link_id=OuterRef("link_id")).order_by("-pk").values("public_id")[:1]
    ),
    "last_signature_key": Subquery(
        ConsentSignature.objects.filter(session__link_id=OuterRef("link_id")).order_by("-pk").values("public_id")[:1]
    ),
}

_DIGEST_PLACEHOLDER = "f" * 64
_NOW_PLACEHOLDER = datetime(2001, 2, 3, 4, 5, 6, 789, tzinfo=UTC)
_local = threading.local()


def session_queryset(digest: str, now: datetime) -> QuerySet[PackSession]:
    return (
        PackSession.objects.select_related("link__case__clinic", "link__case__patient")
        .filter(key_sha256=digest, expires_at__gt=now)
        .annotate(**PAGE_STATE)[:1]
    )


@dataclass(frozen=True)
class _Plan:
    connection_id: int
    compiler: Any
    sql: str
    params: tuple[Any, ...]
    digest_at: int
    now_at: int
    init_list: list[str]
    start: int
    end: int
    related_populators: list[Any]
    annotation_col_map: dict[str, int]


def _plan(using: str) -> _Plan | None:
    connection = connections[using]
    queryset = session_queryset(_DIGEST_PLACEHOLDER, _NOW_PLACEHOLDER)
    compiler = queryset.query.get_compiler(using=using)
    sql, params = compiler.as_sql()
    params = tuple(params)
    expires_at = PackSession._meta.get_field("expires_at")
    now_prepared = expires_at.get_db_prep_value(_NOW_PLACEHOLDER, connection)
    if len(params) != 2 or params.count(_DIGEST_PLACEHOLDER) != 1 or params.count(now_prepared) != 1:
        return None
    klass_info = compiler.klass_info
    select_fields = klass_info["select_fields"]
    start, end = select_fields[0], select_fields[-1] + 1
    return _Plan(
        connection_id=id(connection),
        compiler=compiler,
        sql=sql,
        params=params,
        digest_at=params.index(_DIGEST_PLACEHOLDER),
        now_at=params.index(now_prepared),
        init_list=[column[0].target.attname for column in compiler.select[start:end]],
        start=start,
        end=end,
        related_populators=get_related_populators(klass_info, compiler.select, using),
        annotation_col_map=dict(compiler.annotation_col_map),
    )


def find_session(digest: str, now: datetime) -> PackSession | None:
    """The unexpired session with this key digest, with its link, case, clinic and patient and the
    page state annotations; None when there is none."""
    using = router.db_for_read(PackSession)
    connection = connections[using]
    plans: dict[str, _Plan | None] = getattr(_local, "plans", None) or {}
    _local.plans = plans
    plan = plans.get(using)
    if (plan is None and using not in plans) or (plan is not None and plan.connection_id != id(connection)):
        plan = plans[using] = _plan(using)
    if plan is None:
        return session_queryset(digest, now).first()
    params = list(plan.params)
    params[plan.digest_at] = digest
    params[plan.now_at] = PackSession._meta.get_field("expires_at").get_db_prep_value(now, connection)
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    [converted] = list(plan.compiler.results_iter([[row]]))
    session = PackSession.from_db(using, plan.init_list, converted[plan.start : plan.end])
    for populator in plan.related_populators:
        populator.populate(converted, session)
    for name, position in plan.annotation_col_map.items():
        setattr(session, name, converted[position])
    return session
