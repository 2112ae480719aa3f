"""Cursor pagination: its own module, because DRF imports it while loading its views."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Stable pages over lists that grow while they are read (no OFFSET scans)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
