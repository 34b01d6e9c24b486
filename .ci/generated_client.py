"""A client generated from the gateway's OpenAPI document by openapi-python-client (from
PyPI), which nobody here wrote, rings up a sale: it logs in, makes a location and a
product, and sells it, using only the generated functions and models.

    python3 .ci/generated_client.py OPENAPI_JSON BASE_URL ADMIN_PASSWORD WORK_DIR
"""

import subprocess
import sys
import time

openapi, base, password, work = sys.argv[1:5]
subprocess.run(
    ["openapi-python-client", "generate", "--path", openapi, "--meta", "none",
     "--output-path", f"{work}/tillstream_client", "--overwrite"],
    check=True,
)
sys.path.insert(0, work)

from tillstream_client import AuthenticatedClient, Client  # noqa: E402
from tillstream_client.api.auth import post_auth_login  # noqa: E402
from tillstream_client.api.catalog import post_products  # noqa: E402
from tillstream_client.api.inventory import post_locations  # noqa: E402
from tillstream_client.api.sales import post_sales  # noqa: E402
from tillstream_client.models import (  # noqa: E402
    LoginBody, NewLine, NewLocation, NewProduct, NewSale, PaymentBody, SaleView, TokensView,
)

tokens = post_auth_login.sync(
    client=Client(base_url=base), body=LoginBody(username="admin", password=password)
)
assert isinstance(tokens, TokensView), tokens
client = AuthenticatedClient(base_url=base, token=tokens.access_token)
location = post_locations.sync(client=client, body=NewLocation(code="GEN", name="Generated"))
product = post_products.sync(
    client=client, body=NewProduct(sku="GEN-1", name="Generated tea", price="3.50", tax_rate="0")
)
print("made", location.id, product.id)
sale = NewSale(
    location_id=location.id,
    lines=[NewLine(product_id=product.id, quantity="2")],
    payments=[PaymentBody(method="cash", amount="10.00")],
)
# Sales learns of the new product and location from their events a moment later.
for _ in range(100):
    answer = post_sales.sync(client=client, body=sale, idempotency_key="generated-client-1")
    if isinstance(answer, SaleView):
        break
    time.sleep(0.2)
assert isinstance(answer, SaleView), answer
assert (answer.total, answer.change) == ("7.00", "3.00"), answer
print("sold", answer.sale_number, answer.total)
print("ok")
