from django.urls import path

from clearplan.pipeline import views

app_name = "pipeline"
urlpatterns = [
    path("today/", views.today, name="today"),
    path("pipeline/", views.board, name="board"),
]
