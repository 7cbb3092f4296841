"""Write Garrison's OpenAPI document to ``dashboard/openapi.json`` (the dashboard's client is generated
from it with ``npm run gen:api``). Deterministic: the same code always gives the same bytes.

    python scripts/export_openapi.py [--output PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import SecretStr

from garrison.app import create_app
from garrison.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "dashboard" / "openapi.json"


def openapi_document() -> str:
    # Settings do not shape the document; fixed ones keep the environment and .env out of it.
    settings = Settings(
        env="test",
        secret_key=SecretStr("openapi-export-only-0123456789abcdefghijklmnop"),
        database_url="sqlite+aiosqlite:///:memory:",
        _env_file=None,
    )
    return json.dumps(create_app(settings).openapi(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    output: Path = parser.parse_args().output
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(openapi_document(), encoding="utf-8")
    print(f"wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
