"""Admin of the demo orders."""

from django.contrib import admin

from hub.models import Order


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Demo orders, newest first; saving one here updates the sales dashboard."""

    list_display = ("id", "customer", "amount", "created")
    date_hierarchy = "created"
