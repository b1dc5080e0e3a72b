# SPDX-License-Identifier: MIT
urlpatterns = []
