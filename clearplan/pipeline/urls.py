"""The pipeline's addresses, one module per area: the board and list, Today and tasks,
follow-up rules, bookings, and digests."""

from clearplan.pipeline import board_urls, booking_urls, checklist_urls, digest_urls, followup_urls, today_urls

app_name = "pipeline"
urlpatterns = [
    *board_urls.urlpatterns,
    *today_urls.urlpatterns,
    *checklist_urls.urlpatterns,
    *followup_urls.urlpatterns,
    *booking_urls.urlpatterns,
    *digest_urls.urlpatterns,
]
