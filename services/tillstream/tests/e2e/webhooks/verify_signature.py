"""Verifies one webhook delivery with the Standard Webhooks reference library (PyPI's
`standardwebhooks`), as an integrator's receiver would. argv[1] is the secret; stdin is a
JSON object with the request's `id`, `timestamp`, `signature` and `body`. Prints the
payload's `id` when the signature verifies; exits non-zero with the library's error if not."""

import json
import sys

from standardwebhooks.webhooks import Webhook

request = json.load(sys.stdin)
payload = Webhook(sys.argv[1]).verify(
    request["body"],
    {
        "webhook-id": request["id"],
        "webhook-timestamp": request["timestamp"],
        "webhook-signature": request["signature"],
    },
)
print(payload["id"])
