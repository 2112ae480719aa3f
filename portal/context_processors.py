from django.conf import settings


def portal(request):
    return {"site_url": settings.SITE_URL, "debug": settings.DEBUG}
