from rest_framework import permissions


class ActionPermissions(permissions.BasePermission):
    """The Django permissions the web asks for, per view action.

    A view sets `required_permissions = {"list": [...], "create": [...], ...}`;
    an action it does not name is refused. A method the view does not have
    (action None) passes, so the view answers 405; OPTIONS (metadata) describes
    the endpoint to any signed-in user.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        needed = getattr(view, "required_permissions", {})
        action = getattr(view, "action", None)
        if action in (None, "metadata"):
            return True
        if action not in needed:
            return False
        return user.has_perms(needed[action])
