# An application behind IAP, in Python, verifying the signed header exactly as Google's sample
# (iap/validate_jwt.py) does: google.oauth2.id_token.verify_token with IAP's certificate URL. IAP_AUDIENCE is
# /projects/NUMBER/global/backendServices/ID or /projects/NUMBER/locations/REGION/services/NAME.
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.auth.transport import requests
from google.oauth2 import id_token


def validate_iap_jwt(iap_jwt, expected_audience):
    decoded_jwt = id_token.verify_token(
        iap_jwt,
        requests.Request(),
        audience=expected_audience,
        certs_url="https://www.gstatic.com/iap/verify/public_key",
    )
    return (decoded_jwt["sub"], decoded_jwt["email"])


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        assertion = self.headers.get("x-goog-iap-jwt-assertion")
        try:
            if not assertion:
                raise ValueError("no IAP assertion")
            _, email = validate_iap_jwt(assertion, os.environ.get("IAP_AUDIENCE", ""))
            status, body = 200, f"Hello {email} (verified by google.auth)\n"
        except Exception as error:  # any failure to verify means: not through IAP
            status, body = 401, f"Unverified request: {error}\n"
        data = body.encode()
        self.send_response(status)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
