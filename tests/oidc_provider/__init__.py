"""A real OpenID Connect provider for the single sign-on tests (tests/pm/test_sso_browser.py):
django-oauth-toolkit with OIDC on, RS256 with a key the test generates, PKCE required, run as
a second Django process with its own SQLite database on a free port."""
