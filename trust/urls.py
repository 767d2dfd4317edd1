app_name = "trust"
urlpatterns: list = []
