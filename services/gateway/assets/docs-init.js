// The gateway's own OpenAPI document; "Authorize" takes an access token from
// POST /api/v1/auth/login, and "Try it out" calls this gateway with it.
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#api",
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: false,
});
