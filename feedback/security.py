"""The headers every response carries to limit what a browser lets a page do."""

from __future__ import annotations

from flask import Flask
from flask import Response

# No inline script, style or event handler anywhere (templates load static
# files only), so no 'unsafe-inline' and no nonces: public pages stay
# cacheable. data: images are the TOTP QR code.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
    )
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=()"
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # For browsers that predate frame-ancestors.
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": PERMISSIONS_POLICY,
}


def protect(response: Response) -> Response:
    """Add the headers a response has not set itself.

    A view may be stricter: downloads sandbox themselves, and pages whose
    address holds a token send no referrer at all.
    """
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Put the headers on every response, error pages included."""
    app.after_request(protect)
