"""The staff workbench (being built)."""

app_name = "workbench"
urlpatterns: list = []
