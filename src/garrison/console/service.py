"""Find the console's files and render its page with a per-request CSP nonce.

The build directory is ``GARRISON_CONSOLE_DIR``, or ``dashboard/dist`` of the source tree. Only regular
files inside it are ever served: a requested path is resolved (``..``, symbolic links) and must stay
within the directory.
"""

from __future__ import annotations

import html
import secrets
from pathlib import Path

import garrison

INDEX = "index.html"
NONCE_PLACEHOLDER = "__GARRISON_STYLE_NONCE__"
BASE_PATH = "/admin"


def default_console_dir() -> Path:
    """``dashboard/dist`` beside ``src/`` when Garrison runs from its source tree."""
    return Path(garrison.__file__).resolve().parent.parent.parent / "dashboard" / "dist"


def content_security_policy(nonce: str | None) -> str:
    """Scripts and styles from this origin only; Mantine's few ``<style>`` elements carry the nonce.

    Inline ``style`` attributes set through the CSSOM (React's ``style`` prop) are not governed by
    ``style-src`` and need no exception.
    """
    styles = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    return (
        "default-src 'self'; script-src 'self'; "
        f"style-src {styles}; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


class Console:
    def __init__(self, directory: Path | None) -> None:
        self.directory = (directory or default_console_dir()).resolve()

    @property
    def built(self) -> bool:
        return (self.directory / INDEX).is_file()

    def file(self, path: str) -> Path | None:
        """The build's regular file at ``path`` (relative, URL-decoded), or None: never outside it."""
        if not path or "\x00" in path or "\\" in path or path.startswith("/"):
            return None
        try:
            candidate = (self.directory / path).resolve()
        except (OSError, ValueError, RuntimeError):
            return None
        if not candidate.is_relative_to(self.directory) or not candidate.is_file():
            return None
        return candidate

    def index(self, nonce: str) -> str:
        """The app's page, its style nonce filled in (the CSP header carries the same nonce)."""
        page = (self.directory / INDEX).read_text(encoding="utf-8")
        return page.replace(NONCE_PLACEHOLDER, nonce)


def not_built_page(nonce: str) -> str:
    """Self-contained: no script, no external resource; one nonce-carrying style element."""
    directory = html.escape(str(default_console_dir()))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Garrison console: not built</title>
<style nonce="{nonce}">
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 4rem auto; padding: 0 1rem;
       color: #1a1b1e; background: #fff; }}
code, pre {{ font-family: ui-monospace, monospace; background: #f1f3f5; padding: .1rem .3rem; }}
pre {{ padding: .75rem; overflow-x: auto; }}
@media (prefers-color-scheme: dark) {{ body {{ color: #e9ecef; background: #1a1b1e; }}
  code, pre {{ background: #2c2e33; }} }}
</style>
</head>
<body>
<main>
<h1>The Garrison console is not built</h1>
<p>This server runs, and its API works (documentation at <a href="/docs">/docs</a>), but the
operators' console has not been built into static files yet. It needs Node.js 20 or newer.</p>
<p>From the source tree, run one of:</p>
<pre>make dashboard</pre>
<pre>cd dashboard &amp;&amp; npm install --no-save &amp;&amp; npm run build</pre>
<p>then reload this page. The server looks for the build in <code>{directory}</code>; set
<code>GARRISON_CONSOLE_DIR</code> to serve it from elsewhere.</p>
</main>
</body>
</html>
"""
