from django.urls import path

from tongban.backoffice import audit_trail, login, persons, views

app_name = "backoffice"
urlpatterns: list = [
    path("audit/", views.audit_page, name="audit"),
    path("catalog/import/", views.import_page, name="import"),
    path("catalog/export/", views.export_page, name="export"),
    path("login/", login.login, name="login"),
    path("login/totp/", login.login_totp, name="login_totp"),
    path("login/enrol/", login.login_enrol, name="login_enrol"),
    path("logout/", login.logout, name="logout"),
    path("audit-trail/", audit_trail.audit_trail, name="audit_trail"),
    path("persons/", persons.persons, name="persons"),
]
