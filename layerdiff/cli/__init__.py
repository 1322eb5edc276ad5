"""The ``layerdiff`` command line: parse the arguments, run the command, map what went wrong to an exit code.
stdout carries data; everything else goes to stderr."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from layerdiff.cli.parser import build_parser
from layerdiff.crash import report_crash
from layerdiff.errors import ExitCode, LayerdiffError
from layerdiff.text.redaction import safe_message


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 for --help
        return int(exc.code or 0)
    try:
        return int(args.run(args))
    except LayerdiffError as exc:
        print(f"layerdiff: error: {safe_message(str(exc))}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("layerdiff: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `| head`); nothing left to tell anyone.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.OK)
    except Exception as exc:  # a bug: one line, the traceback in a file, and its own exit code
        print(f"layerdiff: internal error: {report_crash(exc, args)}", file=sys.stderr)
        return int(ExitCode.INTERNAL)
