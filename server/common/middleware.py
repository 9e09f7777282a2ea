"""A request id on every request, so that audit events written by one request can be tied together."""

import uuid


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = uuid.uuid4()
        response = self.get_response(request)
        response["X-Request-Id"] = str(request.id)
        return response
