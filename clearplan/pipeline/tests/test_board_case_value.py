"""What a case is worth (`case_value_subquery`), the one definition the board, the list, Today
and the digests share.

1. The recommended option's lines, fee × quantity: 2 × 1,650.00 + 65.00 = 3,365.00.
2. With nothing recommended, the first treatment option by position (a "no treatment" option
   placed first does not count): 1,480.00.
3. No options, or options without lines: 0.00.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from clearplan.pipeline.models import CaseProgress
from clearplan.pipeline.selectors import case_value_subquery
from clearplan.pipeline.tests.board_fixtures import crown, make_case
from clearplan.plans.models import Case, PlanLine, PlanOption

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(clinic, dentist):
    made = make_case(clinic=clinic, dentist=dentist)
    made.options.all().delete()
    return made


def line(option, fee, quantity=1):
    return PlanLine.objects.create(
        option=option, procedure=crown(option.case.clinic.organisation), fee=Decimal(fee), quantity=quantity
    )


def value_of(case):
    found = Case.objects.annotate(value=case_value_subquery()).get(pk=case.pk).value
    # The same through the case's progress row, as the board reads it.
    through_progress = CaseProgress.objects.annotate(value=case_value_subquery("case_id")).get(case=case).value
    assert Decimal(found).quantize(Decimal("0.01")) == Decimal(through_progress).quantize(Decimal("0.01"))
    return Decimal(found).quantize(Decimal("0.01"))


def test_1_the_recommended_options_lines_fee_times_quantity(case):
    first = PlanOption.objects.create(case=case, title="Denture", position=0)
    line(first, "1480.00")
    recommended = PlanOption.objects.create(case=case, title="Two crowns", position=1, is_recommended=True)
    line(recommended, "1650.00", quantity=2)
    line(recommended, "65.00")
    assert value_of(case) == Decimal("3365.00")


def test_2_without_a_recommendation_the_first_treatment_option(case):
    PlanOption.objects.create(case=case, title="No treatment", kind="no_treatment", position=0)
    denture = PlanOption.objects.create(case=case, title="Denture", position=1)
    line(denture, "1480.00")
    crowns = PlanOption.objects.create(case=case, title="Crowns", position=2)
    line(crowns, "3300.00")
    assert value_of(case) == Decimal("1480.00")


def test_3_no_options_or_no_lines_is_worth_nothing(case):
    assert value_of(case) == Decimal("0.00")
    PlanOption.objects.create(case=case, title="To be planned", is_recommended=True)
    assert value_of(case) == Decimal("0.00")
