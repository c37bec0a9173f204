// The API's documentation page: Swagger UI over the registry's OpenAPI document. A file of its
// own (not an inline script), so the page's Content-Security-Policy allows the registry's own
// scripts and nothing else.
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/schema/openapi.json",
    dom_id: "#swagger-container",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis],
  });
});
