"""The login contract of the Swift demo: POST username/password; 302 on success, 401 on failure."""
from django.conf import settings
from django.contrib.auth import authenticate, login
import json

from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt


def client_ip(request):
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR")


def _login(request):
    if request.method != "POST":
        return HttpResponse("POST a username and password", status=405)
    user = authenticate(request=request, username=request.POST.get("username", ""), password=request.POST.get("password", ""))
    if user is None:
        return HttpResponse("Please enter a correct username and password.", status=401)
    login(request, user)
    return HttpResponseRedirect("/")


def _api_login(request):
    """The demo's /api/login: JSON in, JSON out, no session written."""
    if request.method != "POST":
        return HttpResponse("POST JSON", status=405)
    try:
        body = json.loads(request.body)
    except ValueError:
        return JsonResponse({"detail": "Send JSON"}, status=400)
    user = authenticate(request=request, username=str(body.get("username", "")), password=str(body.get("password", "")))
    if user is None:
        return JsonResponse({"detail": "Invalid username or password."}, status=401)
    return JsonResponse({"username": user.get_username()})


if settings.MODE.startswith("defender"):
    from defender.decorators import watch_login

    login_view = csrf_exempt(watch_login(status_code=401)(_login))
    api_login_view = csrf_exempt(watch_login(status_code=401)(_api_login))
else:
    login_view = csrf_exempt(_login)
    api_login_view = csrf_exempt(_api_login)
