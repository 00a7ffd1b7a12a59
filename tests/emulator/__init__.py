"""A stateful Cloudflare API emulator for tests, held to Cloudflare's OpenAPI spec (see server.py)."""
