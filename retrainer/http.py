"""Plain HTTP to the local servers, with Prefect's basic auth when one is configured.

Standard library only: the CLI uses it before (or without) importing Prefect.
"""

import base64
import json
import os
import urllib.request


def request(url: str, body: dict | None = None) -> urllib.request.Request:
    """A JSON request; Prefect API URLs carry PREFECT_API_AUTH_STRING as basic auth."""
    headers = {"Content-Type": "application/json"}
    auth = os.environ.get("PREFECT_API_AUTH_STRING")
    if auth and "/api" in url:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    data = None if body is None else json.dumps(body).encode()
    return urllib.request.Request(url, data=data, headers=headers)


def answers(url: str, timeout: float = 1.0) -> bool:
    """True when an HTTP GET on ``url`` returns 200 within ``timeout`` seconds."""
    try:
        with urllib.request.urlopen(request(url), timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False
