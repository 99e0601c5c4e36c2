"""The ``tongban`` command: Django's management commands under the platform's name.

``tongban migrate``, ``tongban demo``, ``tongban serve``, ``tongban guide_audit`` … are all
management commands; ``tongban help`` lists them.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "tongban"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
