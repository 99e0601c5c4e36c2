from django.urls import path

from tongban.backoffice import views

app_name = "backoffice"
urlpatterns: list = [
    path("audit/", views.audit_page, name="audit"),
    path("catalog/import/", views.import_page, name="import"),
    path("catalog/export/", views.export_page, name="export"),
]
