from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "clearplan.pipeline"
    label = "pipeline"
    verbose_name = "Pipeline and Today"

    def ready(self) -> None:
        from clearplan.pipeline import checklist_receivers, signals  # noqa: F401 - connects the receivers
