from django.urls import path

from tongban.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("r/<str:code>/", views.branch, name="branch"),
    path("search", views.search, name="search"),
    path("guide/<str:code>/", views.guide, name="guide"),
    path("guide/<str:code>/notice.pdf", views.notice_pdf, name="notice"),
    path("care-mode/", views.care_mode, name="care_mode"),
    path("language/", views.switch_language, name="language"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("offline/", views.offline, name="offline"),
]
