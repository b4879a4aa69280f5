"""The JSON API under /api/v1 and personal API tokens: views.py, tokens.py, auth.py, openapi.py."""
