"""The announcements feature of the hub (a Django app inside the notifications package)."""
