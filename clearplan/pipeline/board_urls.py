from django.urls import path

from clearplan.pipeline import board_views

urlpatterns = [
    path("pipeline/", board_views.board, name="board"),
    path("pipeline/list/", board_views.board_list, name="board_list"),
    path("pipeline/move/", board_views.move, name="move"),
    path("pipeline/move/<uuid:public_id>/", board_views.move_page, name="move_page"),
    path("pipeline/reassign/", board_views.reassign, name="reassign"),
]
