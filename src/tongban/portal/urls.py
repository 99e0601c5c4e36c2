from django.urls import path

from tongban.portal import account_views, case_views, company_views, license_views, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("r/<str:code>/", views.branch, name="branch"),
    path("search", views.search, name="search"),
    path("guide/<str:code>/", views.guide, name="guide"),
    path("guide/<str:code>/notice.pdf", views.notice_pdf, name="notice"),
    # Applying and my cases (case_views)
    path("guide/<str:code>/apply/", case_views.apply, name="apply"),
    path(
        "guide/<str:code>/apply/upload/<int:material_id>/",
        case_views.upload,
        name="apply_upload",
    ),
    path("progress/", case_views.progress, name="progress"),
    path("account/cases/", case_views.my_cases, name="my_cases"),
    path("account/cases/<str:number>/", case_views.case_page, name="case"),
    path("account/cases/<str:number>/submitted/", case_views.submitted, name="case_submitted"),
    path("account/cases/<str:number>/resubmit/", case_views.resubmit, name="case_resubmit"),
    path("account/cases/<str:number>/withdraw/", case_views.withdraw, name="case_withdraw"),
    path("account/cases/<str:number>/supply/", case_views.supply, name="case_supply"),
    path(
        "account/cases/<str:number>/results/<int:pk>/",
        case_views.result_file,
        name="case_result",
    ),
    path("account/notices/", case_views.notices, name="notices"),
    # The license wallet and verification (license_views)
    path("account/licenses/", license_views.wallet, name="licenses"),
    path("account/licenses/<int:pk>/show/", license_views.show, name="license_show"),
    path("account/licenses/<int:pk>/pdf/", license_views.pdf, name="license_pdf"),
    path("licenses/verify", license_views.verify, name="license_verify"),
    path("care-mode/", views.care_mode, name="care_mode"),
    path("language/", views.switch_language, name="language"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("offline/", views.offline, name="offline"),
    # Persons' accounts (account_views)
    path("account/", account_views.profile, name="account_profile"),
    path("account/register/", account_views.register, name="account_register"),
    path("account/login/", account_views.login, name="account_login"),
    path("account/logout/", account_views.logout, name="account_logout"),
    path("account/logout-all/", account_views.logout_all, name="account_logout_all"),
    path("account/password/", account_views.change_password, name="account_password"),
    path("account/password/reset/", account_views.reset_password, name="account_reset_password"),
    path("account/verify/", account_views.verify, name="account_verify"),
    path("account/verify/face/", account_views.verify_face_view, name="account_verify_face"),
    path("account/access-log/", account_views.access_log, name="account_access_log"),
    path("account/dev/messages/", account_views.dev_messages, name="account_dev_messages"),
    # My companies and agents (company_views)
    path("account/companies/", company_views.companies, name="account_companies"),
    path("account/companies/register/", company_views.register, name="account_company_register"),
    path("account/companies/switch/", company_views.switch, name="account_company_switch"),
    path("account/companies/<int:pk>/agents/", company_views.grant, name="account_company_grant"),
    path(
        "account/companies/grants/<int:pk>/revoke/",
        company_views.revoke,
        name="account_company_revoke",
    ),
]
