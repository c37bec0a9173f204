"""The registry's pages: server-rendered HTML for the public, applicants, regulators and auditors
(``sandbox.web.router`` puts them together; ``create_app`` mounts them beside the API)."""
