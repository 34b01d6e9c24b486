"""A gRPC client that knows nothing of Tillstream but the gateway's address and the admin's
password: it lists the services by server reflection, resolves every one, and calls the
health check and one method of each service, building every message from the reflected
descriptors alone (grpcio-reflection's ProtoReflectionDescriptorDatabase, from PyPI).

    python3 .ci/reflection_client.py HOST:PORT ADMIN_PASSWORD
"""

import json
import sys
import time

import grpc
from google.protobuf import descriptor_pool, json_format
from google.protobuf.message_factory import GetMessageClass
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

address, password = sys.argv[1], sys.argv[2]
channel = grpc.insecure_channel(address)
database = ProtoReflectionDescriptorDatabase(channel)
pool = descriptor_pool.DescriptorPool(database)


def call(service, method, body, token=None):
    descriptor = pool.FindServiceByName(service).FindMethodByName(method)
    request_type = GetMessageClass(descriptor.input_type)
    response_type = GetMessageClass(descriptor.output_type)
    stub = channel.unary_unary(
        f"/{service}/{method}",
        request_serializer=request_type.SerializeToString,
        response_deserializer=response_type.FromString,
    )
    request = json_format.Parse(json.dumps(body), request_type())
    metadata = [("authorization", f"Bearer {token}")] if token else None
    answer = stub(request, metadata=metadata, timeout=10)
    return json_format.MessageToDict(answer)


services = list(database.get_services())
print("listed:", ", ".join(sorted(services)))
ours = [
    "tillstream.auth.v1.AuthService",
    "tillstream.catalog.v1.CatalogService",
    "tillstream.inventory.v1.InventoryService",
    "tillstream.inventory.v1.PurchasingService",
    "tillstream.sales.v1.SalesService",
    "tillstream.sales.v1.RegisterService",
    "tillstream.sales.v1.CustomerService",
    "tillstream.sales.v1.GiftCardService",
    "tillstream.sales.v1.RepairService",
    "tillstream.ledger.v1.LedgerService",
    "tillstream.webhooks.v1.WebhooksService",
    "grpc.health.v1.Health",
]
missing = [name for name in ours if name not in services]
assert not missing, f"not listed: {missing}"
for name in services:
    methods = [m.name for m in pool.FindServiceByName(name).methods]
    print(f"resolved {name}: {len(methods)} methods")

# A client checks health before it relies on the service, and waits for it as it would.
for _ in range(40):
    health = call("grpc.health.v1.Health", "Check", {"service": ""})
    if health.get("status") == "SERVING":
        break
    time.sleep(0.5)
assert health.get("status") == "SERVING", health
print("health:", health["status"])

tokens = call(
    "tillstream.auth.v1.AuthService", "Login", {"username": "admin", "password": password}
)
token = tokens["accessToken"]
print("logged in by reflection")
for service, method, body in [
    ("tillstream.auth.v1.AuthService", "ListUsers", {}),
    ("tillstream.catalog.v1.CatalogService", "SearchProducts", {}),
    ("tillstream.inventory.v1.InventoryService", "ListLocations", {}),
    ("tillstream.inventory.v1.PurchasingService", "ListSuppliers", {}),
    ("tillstream.sales.v1.SalesService", "ListSales", {}),
    ("tillstream.sales.v1.RegisterService", "ListRegisters", {}),
    ("tillstream.sales.v1.CustomerService", "SearchCustomers", {}),
    ("tillstream.sales.v1.RepairService", "ListRepairs", {}),
    ("tillstream.ledger.v1.LedgerService", "GetTrialBalance", {}),
    ("tillstream.webhooks.v1.WebhooksService", "ListSubscriptions", {}),
]:
    answer = call(service, method, body, token)
    print(f"called {service}/{method}: {sorted(answer)}")
# A gift card is only ever read by its code: an unknown (Luhn-valid) one is NOT_FOUND, which
# only the service behind the mirror can answer.
try:
    call("tillstream.sales.v1.GiftCardService", "GetGiftCard", {"code": "0" * 16}, token)
    raise AssertionError("a gift card nobody issued was found")
except grpc.RpcError as error:
    assert error.code() == grpc.StatusCode.NOT_FOUND, error
print("called tillstream.sales.v1.GiftCardService/GetGiftCard: NOT_FOUND")
print("ok")
