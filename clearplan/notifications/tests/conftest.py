from __future__ import annotations

from clearplan.accounts.tests.conftest import sending  # noqa: F401  (fixtures)
from clearplan.plans.tests.conftest import case, patient, procedures, standard  # noqa: F401  (fixtures)
