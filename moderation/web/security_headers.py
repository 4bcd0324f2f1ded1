"""Headers every response carries: what the browser may run, frame, sniff and send along.

No page has inline script or style, so the policy allows only the app's own files. No page may be
framed, except the embedded comment section, whose blueprint sets the origins its site allows.
"""

from __future__ import annotations

from flask import Flask

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
])


def register(app: Flask) -> None:
    hsts = app.config["SESSION_COOKIE_SECURE"]  # cookies only over HTTPS: then the whole site is HTTPS

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        if "frame-ancestors 'none'" in headers["Content-Security-Policy"]:
            # Older browsers' own switch; an allow list (the embedded comments, web/embed.py) has none.
            headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if hsts:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
