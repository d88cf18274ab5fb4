from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "clearplan.catalog"
    label = "catalog"
    verbose_name = "Procedures and fees"
