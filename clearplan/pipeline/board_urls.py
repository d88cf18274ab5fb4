from django.urls import path

from clearplan.pipeline import board_views

urlpatterns = [
    path("pipeline/", board_views.board, name="board"),
]
