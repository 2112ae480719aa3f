"""API tokens (DRF authtoken) that stop working API_TOKEN_TTL_DAYS after they were made."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        days = settings.API_TOKEN_TTL_DAYS
        if days and token.created <= timezone.now() - timedelta(days=days):
            raise exceptions.AuthenticationFailed(
                "Token has expired: ask an administrator for a new one."
            )
        return user, token
