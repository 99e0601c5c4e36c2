"""URLs of the OpenID Connect provider, mounted at the site root by ``tongban.urls``.

Discovery and the JWKS are at the root (``/.well-known/...``, as OpenID Connect Discovery 1.0
requires for an issuer without a path); the protocol endpoints are under ``/o/``. The names are
django-oauth-toolkit's (namespace ``oauth2_provider``), which its views reverse.
"""

from django.urls import path, re_path
from oauth2_provider import views as dot_views

from tongban.portal import oidc

app_name = "oauth2_provider"
urlpatterns = [
    re_path(
        r"^\.well-known/openid-configuration/?$",
        dot_views.ConnectDiscoveryInfoView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(
        ".well-known/oauth-authorization-server",
        dot_views.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path(".well-known/jwks.json", dot_views.JwksInfoView.as_view(), name="jwks-info"),
    path("o/authorize/", oidc.AuthorizationView.as_view(), name="authorize"),
    path("o/token/", dot_views.TokenView.as_view(), name="token"),
    path("o/userinfo/", dot_views.UserInfoView.as_view(), name="user-info"),
    path("o/logout/", oidc.LogoutView.as_view(), name="rp-initiated-logout"),
    path("o/revoke_token/", dot_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("o/introspect/", dot_views.IntrospectTokenView.as_view(), name="introspect"),
]

# The citizen's own page of authorized department systems (namespace ``oidc_account``).
account_patterns = (
    [
        path("", oidc.authorized_apps, name="apps"),
        path("<str:client_id>/revoke/", oidc.revoke_app, name="revoke"),
    ],
    "oidc_account",
)
