# A Cloud Run service that calls another, private, Cloud Run service the way the seed shows it:
# call_private_service below is copied unchanged from shared/seeds/security-model.txt.
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import google.auth.transport.requests
import google.oauth2.id_token
import requests


def call_private_service(target_url: str, payload: dict) -> dict:
    auth_req = google.auth.transport.requests.Request()
    token = google.oauth2.id_token.fetch_id_token(auth_req, target_url)
    response = requests.post(
        target_url,
        json=payload,
        headers={"Authorization": f"Bearer {token}"}
    )
    response.raise_for_status()
    return response.json()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        target = parse_qs(urlparse(self.path).query).get("target", [""])[0]
        try:
            result = {"ok": True, "response": call_private_service(target, {"from": os.environ.get("K_SERVICE")})}
        except requests.HTTPError as error:
            result = {"ok": False, "status": error.response.status_code}
        except Exception as error:  # noqa: BLE001 - report any failure to the caller of this test service
            result = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        body = json.dumps(result).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
