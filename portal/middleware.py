from django.utils import timezone


def public_page(view):
    """Mark a view the same for every visitor (the public status page): the middleware
    below leaves the session alone for it, so the response carries no `Vary: Cookie`,
    shared caches may keep it, and signed-in visitors cost no session or user query."""
    view.public_page = True
    return view


class UserTimezoneMiddleware:
    """Show times in the signed-in user's own zone; storage stays UTC. Views marked
    `public_page` are skipped: reading request.user loads the session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "public_page", False):
            return None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.time_zone:
            timezone.activate(user.time_zone)
        return None
