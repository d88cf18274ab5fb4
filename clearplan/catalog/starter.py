"""The starter catalogues shipped with Clearplan, read from the CSV files in data/.

They carry ADA Australian Schedule item numbers and CDT code numbers with our own plain
names and explanations only. The licensed descriptions belong to the ADA and the American
Dental Association; a practice adds its own copy through "Import descriptions".
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from clearplan.catalog.models import Category, CodingSystem, ProcedureDependency, TreatmentArea

DATA_DIR = Path(__file__).resolve().parent / "data"

Region = Literal["AU", "US"]
REGIONS: dict[str, str] = {"AU": "Australian", "US": "United States"}
REGION_CODES: dict[str, str] = {"AU": "ADA item numbers", "US": "CDT codes"}
CODING_SYSTEMS: dict[str, str] = {"AU": CodingSystem.ADA_AU, "US": CodingSystem.CDT}
CURRENCIES: dict[str, str] = {"AU": "AUD", "US": "USD"}
CATEGORY_PREFIX = "category:"


@dataclass(frozen=True)
class StarterItem:
    code: str
    name: str
    patient_explanation: str
    category: str
    treatment_area: str
    surfaces_min: int | None
    surfaces_max: int | None
    chair_minutes: int
    usually_elective: bool
    fee: Decimal


@dataclass(frozen=True)
class StarterRule:
    procedure: str
    requires_code: str
    requires_category: str
    site: str
    min_gap_weeks: int
    note: str


def _optional_int(value: str) -> int | None:
    return int(value) if value.strip() else None


def _rows(file_name: str) -> list[dict[str, str]]:
    with (DATA_DIR / file_name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def starter_items(region: str) -> tuple[StarterItem, ...]:
    if region not in REGIONS:
        raise ValueError(f"There is no starter catalogue for {region!r}; choose one of {', '.join(REGIONS)}.")
    items = []
    for row in _rows(f"starter_{region.lower()}.csv"):
        item = StarterItem(
            code=row["code"].strip(),
            name=row["name"].strip(),
            patient_explanation=row["patient_explanation"].strip(),
            category=Category(row["category"]).value,
            treatment_area=TreatmentArea(row["treatment_area"]).value,
            surfaces_min=_optional_int(row["surfaces_min"]),
            surfaces_max=_optional_int(row["surfaces_max"]),
            chair_minutes=int(row["chair_minutes"]),
            usually_elective=row["usually_elective"].strip() == "yes",
            fee=Decimal(row["fee"]),
        )
        items.append(item)
    return tuple(items)


@cache
def starter_rules(region: str) -> tuple[StarterRule, ...]:
    if region not in REGIONS:
        raise ValueError(f"There is no starter catalogue for {region!r}.")
    rules = []
    for row in _rows(f"starter_{region.lower()}_dependencies.csv"):
        requires = row["requires"].strip()
        category = requires.removeprefix(CATEGORY_PREFIX) if requires.startswith(CATEGORY_PREFIX) else ""
        rules.append(
            StarterRule(
                procedure=row["procedure"].strip(),
                requires_code="" if category else requires,
                requires_category=Category(category).value if category else "",
                site=ProcedureDependency.Site(row["site"].strip()).value,
                min_gap_weeks=int(row["min_gap_weeks"]),
                note=row["note"].strip(),
            )
        )
    return tuple(rules)


def region_for_currency(currency: str) -> str | None:
    """The starter whose fees are in this currency, if there is one."""
    return next((region for region, code in CURRENCIES.items() if code == currency), None)
