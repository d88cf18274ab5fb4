from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "clearplan.patients"
    label = "patients"
    verbose_name = "Patients"
