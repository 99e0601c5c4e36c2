"""The staff workbench: queues, the case page and its actions, material previews, the counter."""

from django.urls import path

from tongban.backoffice import workbench, workbench_counter

app_name = "workbench"
urlpatterns: list = [
    path("", workbench.queues, name="queues"),
    path("cases/<int:pk>/", workbench.case_page, name="case"),
    path("cases/<int:pk>/act/<slug:action>/", workbench.act, name="act"),
    path("cases/<int:pk>/materials/<int:material_pk>/", workbench.material, name="material"),
    path("counter/", workbench_counter.counter, name="counter"),
]
