from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "clearplan.pipeline"
    label = "pipeline"
    verbose_name = "Pipeline and Today"
