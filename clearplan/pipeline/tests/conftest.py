"""The pipeline's tests use the packs' ready-to-send case and its patient (fixtures)."""

from clearplan.packs.tests.conftest import sendable_case, template  # noqa: F401
from clearplan.plans.tests.conftest import patient, procedures, standard  # noqa: F401
