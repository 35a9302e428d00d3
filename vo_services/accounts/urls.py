from django.urls import path

from vo_services.accounts import views

urlpatterns = [
    path("", views.account, name="account"),
    path("login", views.bearer_login, name="login"),
    path("cookie", views.cookie_login, name="cookie-login"),
    path("logout", views.logout, name="logout"),
    path("preauth", views.preauthorise, name="preauth"),
    path("tokens", views.token_list, name="tokens"),
    path("tokens/<int:token_id>", views.token_detail, name="token"),
]
