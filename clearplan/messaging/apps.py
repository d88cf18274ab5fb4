from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "clearplan.messaging"
    label = "messaging"
    verbose_name = "Conversations and message channels"

    def ready(self) -> None:
        from django_tasks_db.compat import task_finished

        from clearplan.lib.background import forget_arguments_of_finished_task

        # Importing the tasks declares which of them carry secrets in their arguments.
        from clearplan.messaging import tasks  # noqa: F401

        task_finished.connect(forget_arguments_of_finished_task, dispatch_uid="clearplan-forget-task-arguments")
