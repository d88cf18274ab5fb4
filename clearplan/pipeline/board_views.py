"""The Pipeline board and list, moving cases between stages, and reassigning them.

Every page works without JavaScript (forms post and come back); with htmx a move answers with
the columns it changed and a sentence for the page's live region, and the board never reloads.
"""

from __future__ import annotations

import hashlib
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from clearplan.accounts.access import staff_required
from clearplan.accounts.middleware import ACTIVE_CLINIC_SESSION_KEY
from clearplan.audit.models import AuditEvent
from clearplan.audit.services import audit_record
from clearplan.pipeline import selectors
from clearplan.pipeline.assignment import cases_reassign
from clearplan.pipeline.board_forms import CaseFilterForm, ListFilterForm, MoveForm, ReassignForm
from clearplan.pipeline.models import BOARD_STAGES, Stage
from clearplan.pipeline.stages import look_again_suggested, moves_by_hand, progress_for, stage_move
from clearplan.pipeline.templatetags.pipeline_stage import stage_panel_context
from clearplan.plans.forms import attach_errors
from clearplan.plans.selectors import cases_of, get_case_for_user
from clearplan.plans.services import CASE_RECORD_TYPE

if TYPE_CHECKING:
    import uuid
    from collections.abc import Callable

    from django.http import HttpRequest

    from clearplan.plans.models import Case

LIST_PAGE_SIZE = 50
BOARD_RECORD_TYPE = "pipeline_board"
LIST_RECORD_TYPE = "pipeline_list"
SHOWN_SESSION_KEY = "clearplan_pipeline_shown"
SHOWN_REPEAT_AFTER_SECONDS = 60


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def cases_shown(request: HttpRequest, *, record_type: str, case_ids: list[int], page: int = 1) -> None:
    """Audit that a page of the pipeline showed these cases (patients' names, values, stages).
    Like the patient list: the same cases shown again within a minute add nothing."""
    if not case_ids:
        return
    clinic = request.clinic
    shown = hashlib.sha256(f"{record_type}:{clinic.pk}:{page}:{sorted(case_ids)}".encode()).hexdigest()
    now = timezone.now().timestamp()
    last = request.session.get(SHOWN_SESSION_KEY) or {}
    if last.get("shown") == shown and now - last.get("at", 0) < SHOWN_REPEAT_AFTER_SECONDS:
        return
    audit_record(
        action=AuditEvent.Action.VIEW,
        request=request,
        clinic=clinic,
        object_type=record_type,
        object_label="Pipeline board" if record_type == BOARD_RECORD_TYPE else "Pipeline list",
        changes={"cases_shown": len(case_ids), "page": page},
    )
    request.session[SHOWN_SESSION_KEY] = {"shown": shown, "at": now}


def _filter_form(request: HttpRequest, form_class: type[CaseFilterForm]) -> CaseFilterForm:
    form = form_class(request.GET or None, clinic=request.clinic, clinics=request.available_clinics)
    if form.is_bound:
        form.is_valid()
    return form


def _switch_clinic_for(request: HttpRequest, form: CaseFilterForm) -> HttpResponse | None:
    """A shared address names its clinic: open that clinic (one of the user's), or 404."""
    chosen = form.chosen_clinic()
    if not chosen or chosen == str(request.clinic.public_id):
        return None
    if not any(str(clinic.public_id) == chosen for clinic in request.available_clinics):
        raise Http404("No such clinic.")
    request.session[ACTIVE_CLINIC_SESSION_KEY] = chosen
    return redirect(request.get_full_path())


def _show_param(request: HttpRequest) -> str:
    show = request.GET.get("show", "")
    return show if show in BOARD_STAGES else ""


def with_filters(form_class: type[CaseFilterForm]) -> Callable[..., Callable[..., HttpResponse]]:
    """Read the filters from the address and hand the form to the view; an address naming
    another of the user's clinics opens that clinic first."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            form = _filter_form(request, form_class)
            switched = _switch_clinic_for(request, form)
            if switched is not None:
                return switched
            return view(request, form, *args, **kwargs)

        return wrapper

    return decorate


@require_http_methods(["GET", "HEAD"])
@staff_required
@with_filters(CaseFilterForm)
def board(request: HttpRequest, form: CaseFilterForm) -> HttpResponse:
    filters = form.filters()
    show = _show_param(request)
    if _is_htmx(request) and show and request.headers.get("HX-Target") == f"column-{show}":
        # "Show all" on one column: just that column.
        board_data = selectors.board_for(request.clinic, filters, stages=[show], show_all=show)
        template, context = "pipeline/board/_column.html", {"column": board_data.columns[0]}
    else:
        board_data = selectors.board_for(request.clinic, filters, show_all=show)
        template = "pipeline/board.html"
        context = {
            "board": board_data,
            "form": form,
            "filtered": form.active_count() > 0,
            "filter_count": form.active_count(),
            "np_form": _np_dialog_form(request),
        }
    cases_shown(request, record_type=BOARD_RECORD_TYPE, case_ids=board_data.shown_case_ids)
    response = render(request, template, {**context, **_board_links(request)})
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _board_links(request: HttpRequest) -> dict[str, Any]:
    """Addresses that keep the current filters: back to the board, and to the list."""
    query = request.GET.copy()
    query.pop("show", None)
    query.pop("page", None)
    query.pop("sort", None)
    query.pop("stage", None)
    encoded = query.urlencode()
    suffix = f"?{encoded}" if encoded else ""
    return {
        "board_url": reverse("pipeline:board") + suffix,
        "list_url": reverse("pipeline:board_list") + suffix,
        # Each card's move form posts here; "<move_url><case id>/" is its page without scripts.
        "move_url": reverse("pipeline:move"),
        "filter_query": encoded,
    }


def _np_dialog_form(request: HttpRequest) -> MoveForm:
    return MoveForm(
        prefix_id="np",
        initial={"to_stage": Stage.NOT_PROCEEDING, "look_again_on": look_again_suggested(request.clinic)},
    )


@require_http_methods(["GET", "HEAD"])
@staff_required
@with_filters(ListFilterForm)
def board_list(request: HttpRequest, form: ListFilterForm) -> HttpResponse:
    sort = form.chosen_sort()
    ordered = selectors.list_order(request.clinic, form.filters(), sort=sort)
    page = Paginator(ordered, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    cards = selectors.list_cards(list(page.object_list), request.clinic)
    cases_shown(
        request,
        record_type=LIST_RECORD_TYPE,
        case_ids=[card.progress.case_id for card in cards],
        page=page.number,
    )
    reassign_form = ReassignForm(clinic=request.clinic)
    return render(
        request,
        "pipeline/list.html",
        {
            "form": form,
            "filtered": form.active_count() > 0,
            "filter_count": form.active_count(),
            "page": page,
            "cards": cards,
            "sort": sort,
            "sort_columns": _sort_columns(sort),
            "reassign_form": reassign_form,
            **_board_links(request),
        },
    )


SORT_HEADINGS = [
    ("patient", "Patient"),
    ("stage", "Stage"),
    ("value", "Value"),
    ("days", "Days in stage"),
    ("activity", "Last activity"),
    ("assigned", "Assigned to"),
    ("next", "Next action"),
]


def _sort_columns(sort: str) -> list[dict[str, Any]]:
    """Each sortable heading: its key, label, whether it is the current order and which way,
    and the sort value its link asks for (the other way round when it is current)."""
    current = sort.lstrip("-")
    descending = sort.startswith("-")
    columns = []
    for key, label in SORT_HEADINGS:
        is_current = key == current
        # Money, days and activity read best largest or most recent first on the first click.
        first = f"-{key}" if key in {"value", "days"} else key
        link = (key if descending else f"-{key}") if is_current else first
        columns.append(
            {
                "key": key,
                "label": label,
                "current": is_current,
                "aria_sort": ("descending" if descending else "ascending") if is_current else "",
                "link": link,
            }
        )
    return columns


# ---------- Moving a case ----------


def _case_from_post(request: HttpRequest) -> Case:
    public_id = request.POST.get("case", "")
    if not public_id:
        raise Http404("No such case.")
    return get_case_for_user(request, public_id)


def _move(request: HttpRequest, case: Case, form: MoveForm) -> bool:
    """Run the move; on refusal the service's messages are put on the form."""
    if not form.is_valid():
        return False
    data = form.cleaned_data
    try:
        stage_move(
            case=case,
            to_stage=data["to_stage"],
            by=request.user,
            revision=data["revision"],
            note=data.get("note") or "",
            reason=data.get("reason") or "",
            look_again_on=data.get("look_again_on"),
            request=request,
        )
    except ValidationError as error:
        attach_errors(form, error)
        return False
    return True


def _moved_sentence(case: Case, to_stage: str) -> str:
    name = case.patient.full_name
    if to_stage == Stage.COMPLETED:
        return f"{name}’s case is completed and leaves the board; the list still finds it."
    return f"{name} moved to “{Stage(to_stage).label}”."


FIELD_ERRORS = ("reason", "look_again_on", "note")


@require_POST
@staff_required
def move(request: HttpRequest) -> HttpResponse:
    """Move one case: from a card's menu, a drag and drop, the "not proceeding" dialog, the case
    page, or the move page. Answers htmx with what changed; otherwise goes back (or shows the
    form again with its messages at the fields)."""
    case = _case_from_post(request)
    progress_before = progress_for(case)
    view = request.POST.get("view", "")
    # The same field ids as the form that was sent, so messages land beside the right fields.
    prefix_id = "np" if request.POST.get("via") == "dialog" else "stage" if view == "case" else "move"
    form = MoveForm(request.POST, prefix_id=prefix_id)
    moved = _move(request, case, form)
    to_stage = form.cleaned_data.get("to_stage", "") if hasattr(form, "cleaned_data") else ""

    if _is_htmx(request) and view == "case":
        context = stage_panel_context(case, request=request, move_form=None if moved else form)
        context["status"] = _moved_sentence(case, to_stage) if moved else ""
        return render(request, "pipeline/board/_stage_panel.html", context)

    if _is_htmx(request) and view == "board":
        # The stage the card was in on the page (perhaps out of date) and in fact: both columns are redrawn.
        shown = {request.POST.get("shown_stage", ""), progress_before.stage}
        return _board_move_answer(request, case, form, moved=moved, shown_stages=shown)

    if moved:
        messages.success(request, _moved_sentence(case, to_stage))
        return redirect(_safe_next(request, reverse("pipeline:board")))
    if not any(form.has_error(name) for name in FIELD_ERRORS) and form.has_error("revision"):
        # The page was out of date: say so, and show where the case stands now.
        messages.error(request, " ".join(form.errors["revision"]))
        return redirect(_safe_next(request, reverse("pipeline:board")))
    return _move_page(request, case, form, status=400)


def _board_move_answer(
    request: HttpRequest, case: Case, form: MoveForm, *, moved: bool, shown_stages: set[str]
) -> HttpResponse:
    """The board's answer to a move: a sentence for the live region, and the columns the card
    left and joined (or, when the move was refused, the card's columns as they are now)."""
    if not moved and any(form.has_error(name) for name in FIELD_ERRORS) and request.POST.get("via") == "dialog":
        # The "not proceeding" dialog shows its messages at its fields.
        response = render(
            request,
            "pipeline/board/_np_fields.html",
            {"np_form": form, "case": case},
        )
        response["HX-Retarget"] = "#np-fields"
        response["HX-Reswap"] = "innerHTML"
        return response
    now_stage = progress_for(case).stage
    stages = [stage for stage in BOARD_STAGES if stage in {*shown_stages, now_stage}]
    filters = CaseFilterForm(request.GET or None, clinic=request.clinic, clinics=request.available_clinics)
    filters.is_valid()
    board_data = selectors.board_for(request.clinic, filters.filters(), stages=stages) if stages else None
    if board_data is not None:
        cases_shown(request, record_type=BOARD_RECORD_TYPE, case_ids=board_data.shown_case_ids)
    if moved:
        sentence, error = _moved_sentence(case, now_stage), False
    else:
        problems = [message for messages_ in form.errors.values() for message in messages_]
        sentence, error = " ".join(problems) or "The case could not be moved.", True
        if any(form.has_error(name) for name in FIELD_ERRORS):
            sentence += " Use the case’s Move menu to try again."
    response = render(
        request,
        "pipeline/board/_moved.html",
        {
            "sentence": sentence,
            "error": error,
            "card_id": f"card-{case.public_id}",
            "columns": board_data.columns if board_data else [],
            **_board_links(request),
        },
    )
    return response


def _move_page(request: HttpRequest, case: Case, form: MoveForm, *, status: int = 200) -> HttpResponse:
    progress = progress_for(case)
    allowed = moves_by_hand(progress.stage)
    return render(
        request,
        "pipeline/board/move.html",
        {
            "case": case,
            "patient": case.patient,
            "progress": progress,
            "form": form,
            "allowed": [(stage, Stage(stage).label) for stage in allowed],
            "next": _safe_next(request, reverse("plans:detail", args=[case.public_id])),
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD"])
@staff_required
def move_page(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The move form as a page of its own: how "Not proceeding for now" and other moves work
    from the board when scripts are off, and where their messages are shown."""
    case = get_case_for_user(request, public_id)
    audit_record(action=AuditEvent.Action.VIEW, request=request, obj=case, object_type=CASE_RECORD_TYPE)
    progress = progress_for(case)
    wanted = request.GET.get("to", "")
    form = MoveForm(
        initial={
            "case": case.public_id,
            "revision": progress.revision,
            "to_stage": wanted if wanted in moves_by_hand(progress.stage) else "",
            "look_again_on": look_again_suggested(case.clinic),
        }
    )
    return _move_page(request, case, form)


# ---------- Reassigning ----------


@require_POST
@staff_required
def reassign(request: HttpRequest) -> HttpResponse:
    """Hand one case or many to another team member; from the list (ticked rows) or a case."""
    form = ReassignForm(request.POST, clinic=request.clinic)
    chosen: list[Case] = []
    if form.is_valid():
        ids = form.cleaned_data["cases"]
        chosen = list(cases_of(request.clinic).select_related("clinic", "patient").filter(public_id__in=ids))
        if len(chosen) != len(ids):
            raise Http404("No such case.")
        try:
            changed = cases_reassign(cases=chosen, to=form.person(), by=request.user, request=request)
        except ValidationError as error:
            attach_errors(form, error)
        else:
            name = form.person().display_name
            if changed == 0:
                messages.info(request, f"Nothing to change: {name} already has {_cases_words(len(chosen))}.")
            else:
                messages.success(request, f"{_cases_words(changed).capitalize()} reassigned to {name}.")
            return redirect(_safe_next(request, reverse("pipeline:board_list")))
    elif form.has_error("to") and not form.has_error("cases"):
        ids = form.cleaned_data.get("cases", [])
        chosen = list(cases_of(request.clinic).select_related("patient").filter(public_id__in=ids))
    for case in chosen:
        audit_record(action=AuditEvent.Action.VIEW, request=request, obj=case, object_type=CASE_RECORD_TYPE)
    return render(
        request,
        "pipeline/board/reassign.html",
        {"form": form, "chosen": chosen, "next": _safe_next(request, reverse("pipeline:board_list"))},
        status=400,
    )


def _cases_words(count: int) -> str:
    return "one case" if count == 1 else f"{count} cases"
