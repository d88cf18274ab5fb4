from django.apps import AppConfig


class PacksConfig(AppConfig):
    """Sending treatment packs, the patient's link and session, the patient's pack page,
    their responses and signatures, and the engagement the team sees."""

    name = "clearplan.packs"
    label = "packs"
    verbose_name = "Treatment packs"
