from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo practice: loads an organisation, clinics, staff and patients to try Clearplan with."""

    name = "clearplan.demo"
    label = "demo"
