from django.urls import path, re_path

from clearplan.messaging import views
from clearplan.messaging.conversations import views as conversation_views

app_name = "messaging"
urlpatterns = [
    path("", conversation_views.inbox, name="conversations"),
    path("unread/", conversation_views.unread_badge, name="unread_badge"),
    path("quick-replies/", conversation_views.saved_replies, name="saved_replies"),
    path("quick-replies/new/", conversation_views.saved_reply_edit, name="saved_reply_add"),
    path("quick-replies/<uuid:public_id>/", conversation_views.saved_reply_edit, name="saved_reply_edit"),
    path("quick-replies/<uuid:public_id>/move/", conversation_views.saved_reply_move, name="saved_reply_move"),
    path("quick-replies/<uuid:public_id>/delete/", conversation_views.saved_reply_delete, name="saved_reply_delete"),
    path("files/<uuid:public_id>/", conversation_views.attachment, name="attachment"),
    path("<uuid:public_id>/", conversation_views.thread, name="conversation"),
    path("<uuid:public_id>/updates/", conversation_views.thread_updates, name="conversation_updates"),
    path("<uuid:public_id>/send/", conversation_views.send, name="conversation_send"),
    path("<uuid:public_id>/assign/", conversation_views.assign, name="conversation_assign"),
    path("<uuid:public_id>/snooze/", conversation_views.snooze, name="conversation_snooze"),
    path("<uuid:public_id>/close/", conversation_views.close, name="conversation_close"),
    path("<uuid:public_id>/reopen/", conversation_views.reopen, name="conversation_reopen"),
    path("outbox/", views.outbox, name="outbox"),
    # Only names the outbox gives out (32 hex digits) reach the view at all.
    re_path(r"^outbox/(?P<name>[0-9a-f]{32})/$", views.outbox_message, name="outbox_message"),
]
